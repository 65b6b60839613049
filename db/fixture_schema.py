"""The fixture file format (SPEC "Demo and fixture data"), validated before anything is written.

Errors name the bad field as `orders[3].status`, so whoever wrote the file can fix it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from db.models import ORDER_STATUSES
from db.money import to_cents

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FixtureError(ValueError):
    pass


def utc_naive(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError("must be an ISO 8601 date-time string")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def cents(value: object) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a number")
    amount = to_cents(value)
    if amount < 0:
        raise ValueError("must not be negative")
    return amount


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FixtureUser(_Strict):
    id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    password: str = Field(min_length=1)
    role: Literal["customer", "staff"] = "customer"

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip().lower()
        if not EMAIL.match(v):
            raise ValueError("must be an email address")
        return v


class FixtureItem(_Strict):
    sku: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    qty: int = Field(default=1, ge=1)
    price_cents: int = Field(alias="price")

    _price = field_validator("price_cents", mode="before")(lambda cls, v: cents(v))


class FixtureOrder(_Strict):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-_]+$")
    user_id: int
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    total_cents: int = Field(alias="total")
    items: list[FixtureItem] = Field(default_factory=list)
    ordered_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    carrier: str | None = Field(default=None, max_length=50)
    tracking_number: str | None = Field(default=None, max_length=100)

    _id = field_validator("id", mode="before")(
        lambda cls, v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
    _total = field_validator("total_cents", mode="before")(lambda cls, v: cents(v))
    _dates = field_validator("ordered_at", "shipped_at", "delivered_at", mode="before")(
        lambda cls, v: utc_naive(v))


class FixtureRefund(_Strict):
    order_id: str = Field(min_length=1, max_length=40)
    user_id: int
    amount_cents: int = Field(alias="amount")
    created_at: datetime
    kind: Literal["refund", "cancellation"] = "refund"
    reason: str | None = Field(default=None, max_length=300)

    _order = field_validator("order_id", mode="before")(
        lambda cls, v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
    _amount = field_validator("amount_cents", mode="before")(lambda cls, v: cents(v))
    _created = field_validator("created_at", mode="before")(lambda cls, v: utc_naive(v))


class Fixture(_Strict):
    users: list[FixtureUser] = Field(default_factory=list)
    orders: list[FixtureOrder] = Field(default_factory=list)
    refunds: list[FixtureRefund] = Field(default_factory=list)


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.replace("total_cents", "total").replace("amount_cents", "amount").replace(
        "price_cents", "price")


def parse_fixture(data: object) -> Fixture:
    """Validate shape and cross-references; raise FixtureError naming the first bad field."""
    if not isinstance(data, dict):
        raise FixtureError("the fixture must be a JSON object with users, orders and refunds")
    try:
        fixture = Fixture.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise FixtureError(f"{_where(err['loc'])}: {err['msg']}") from None

    seen_ids, seen_emails = set(), set()
    for i, u in enumerate(fixture.users):
        if u.id in seen_ids:
            raise FixtureError(f"users[{i}].id: duplicate id {u.id}")
        if u.email in seen_emails:
            raise FixtureError(f"users[{i}].email: duplicate email")
        seen_ids.add(u.id)
        seen_emails.add(u.email)
    owners: dict[str, int] = {}
    for i, o in enumerate(fixture.orders):
        if o.id in owners:
            raise FixtureError(f"orders[{i}].id: duplicate order id {o.id}")
        owners[o.id] = o.user_id
    refunded = set()
    for i, r in enumerate(fixture.refunds):
        if r.order_id in refunded:
            raise FixtureError(f"refunds[{i}].order_id: order {r.order_id} is refunded twice")
        refunded.add(r.order_id)
        if r.order_id in owners and owners[r.order_id] != r.user_id:
            raise FixtureError(f"refunds[{i}].user_id: order {r.order_id} belongs to user "
                               f"{owners[r.order_id]}")
    return fixture
