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
from sqlalchemy.orm import Session, sessionmaker

from db.engine import reading
from db.models import Order, OrderItem, Refund, Replacement


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
    """Newest first (the order customers think of them in). One Core query (orders with their
    items, refund and replacement joined): it runs for every message, and ORM objects would
    cost more than the query itself."""
    o, i = Order.__table__.c, OrderItem.__table__.c
    r, rp = Refund.__table__.c, Replacement.__table__.c
    joined = (Order.__table__.outerjoin(OrderItem.__table__, i.order_id == o.id)
              .outerjoin(Refund.__table__, r.order_id == o.id)
              .outerjoin(Replacement.__table__, rp.original_order_id == o.id))
    stmt = (select(o.id, o.status, o.total_cents, o.ordered_at, o.shipped_at, o.delivered_at,
                   o.carrier, o.tracking_number, o.replacement_for, i.name, r.amount_cents,
                   r.created_at, r.kind, rp.original_order_id)
            .select_from(joined).where(o.user_id == user_id)
            .order_by(o.ordered_at.desc(), o.id.desc(), i.id))
    with reading(factory) as s:
        rows = s.execute(stmt).all()
    facts: dict[str, list] = {}
    for row in rows:
        fact = facts.get(row.id)
        if fact is None:
            fact = facts[row.id] = [row, []]
        if row.name is not None:
            fact[1].append(row.name)
    return [OrderFact(
        row.id, row.status, tuple(items), row.total_cents, row.ordered_at, row.shipped_at,
        row.delivered_at, row.carrier, row.tracking_number,
        RefundFact(row.amount_cents, row.created_at, row.kind)
        if row.amount_cents is not None else None,
        row.original_order_id is not None, row.replacement_for)
        for row, items in facts.values()]


def item_words(orders: list[OrderFact]) -> tuple[str, ...]:
    """The words of the customer's item names ("jersey", "poles"), for spelling repairs."""
    words = {w for o in orders for name in o.items for w in re.findall(r"[a-z]+", name.lower())}
    return tuple(sorted(w for w in words if len(w) >= 4))
