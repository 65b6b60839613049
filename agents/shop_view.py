"""The customer's orders as understanding needs them: ids, items, statuses, refunds.

Read once per message (one query), so words like "the blanket", "the pending one" or
"did my refund go through?" can be tied to the customer's own orders. It only reads;
what may be done to an order is still the policy guard's call, inside the tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.engine import reading
from db.models import Order, Refund, Replacement


@dataclass(frozen=True)
class RefundFact:
    amount_cents: int
    created_at: datetime
    kind: str  # refund | cancellation


@dataclass(frozen=True)
class OrderFact:
    id: str
    status: str
    items: tuple[str, ...]
    total_cents: int
    ordered_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    refund: RefundFact | None
    replaced: bool
    replacement_for: str | None

    @property
    def label(self) -> str:
        names = ", ".join(self.items[:2]) or "items"
        if len(self.items) > 2:
            names += f" +{len(self.items) - 2} more"
        return names


def customer_orders(factory: sessionmaker[Session], user_id: int) -> list[OrderFact]:
    """Newest first (the order customers think of them in)."""
    with reading(factory) as s:
        orders = list(s.scalars(select(Order).where(Order.user_id == user_id)
                                .options(selectinload(Order.items))
                                .order_by(Order.ordered_at.desc(), Order.id.desc())))
        ids = [o.id for o in orders]
        refunds = {r.order_id: r for r in s.scalars(select(Refund).where(
            Refund.order_id.in_(ids)))} if ids else {}
        replaced = set(s.scalars(select(Replacement.original_order_id).where(
            Replacement.original_order_id.in_(ids)))) if ids else set()
        return [OrderFact(
            o.id, o.status, tuple(i.name for i in o.items), o.total_cents, o.ordered_at,
            o.shipped_at, o.delivered_at, o.carrier, o.tracking_number,
            RefundFact(refunds[o.id].amount_cents, refunds[o.id].created_at, refunds[o.id].kind)
            if o.id in refunds else None, o.id in replaced, o.replacement_for)
            for o in orders]


def item_words(orders: list[OrderFact]) -> tuple[str, ...]:
    """The words of the customer's item names ("jersey", "poles"), for spelling repairs."""
    words = {w for o in orders for name in o.items for w in re.findall(r"[a-z]+", name.lower())}
    return tuple(sorted(w for w in words if len(w) >= 4))
