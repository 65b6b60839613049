"""A customer's own orders (R1: never anyone else's)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.engine import transaction
from db.models import Order, Refund, Replacement


def orders_for_user(factory: sessionmaker[Session], user_id: int) -> list[Order]:
    """Newest first, items loaded; each order carries `refund` and `replaced_by` for display."""
    with transaction(factory) as session:
        orders = list(session.scalars(
            select(Order).where(Order.user_id == user_id)
            .options(selectinload(Order.items))
            .order_by(Order.ordered_at.desc(), Order.id.desc())))
        refunds = {r.order_id: r for r in session.scalars(
            select(Refund).where(Refund.user_id == user_id))}
        replaced = dict(session.execute(
            select(Replacement.original_order_id, Replacement.new_order_id)
            .where(Replacement.user_id == user_id)).all())
        for order in orders:
            order.refund = refunds.get(order.id)
            order.replaced_by = replaced.get(order.id)
        return orders


def order_choices(factory: sessionmaker[Session], user_id: int) -> list[tuple[str, str]]:
    """(id, label) pairs for the order picker on the request form."""
    choices = []
    for order in orders_for_user(factory, user_id):
        first = order.items[0].name if order.items else "Order"
        more = f" + {len(order.items) - 1} more" if len(order.items) > 1 else ""
        choices.append((order.id, f"#{order.id} · {first}{more} · {order.status}"))
    return choices
