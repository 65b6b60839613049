"""Money is integer cents everywhere; these two functions are the only border crossings."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def to_cents(amount) -> int:
    """Dollars (float, str, Decimal, int) to integer cents, rounding half up like a till."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a money amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a money amount: {amount!r}")
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def to_dollars(cents: int) -> float:
    return round(cents / 100, 2)


def fmt(cents: int) -> str:
    return f"${cents / 100:,.2f}"
