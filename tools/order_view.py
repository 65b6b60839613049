"""How an order is shown to customers, tools and the model: one place, one shape."""

from __future__ import annotations

from datetime import datetime

from db.models import Order
from db.money import fmt, to_dollars


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def order_summary(order: Order) -> dict:
    return {
        "order_id": order.id,
        "status": order.status,
        "total": to_dollars(order.total_cents),
        "total_display": fmt(order.total_cents),
        "ordered_at": iso(order.ordered_at),
        "shipped_at": iso(order.shipped_at),
        "delivered_at": iso(order.delivered_at),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "items": [
            {"sku": i.sku, "name": i.name, "qty": i.qty, "price": to_dollars(i.price_cents)}
            for i in order.items
        ],
        "replacement_for": order.replacement_for,
    }


def short_label(order: Order) -> str:
    names = ", ".join(i.name for i in order.items[:2]) or "items"
    if len(order.items) > 2:
        names += f" +{len(order.items) - 2} more"
    return f"#{order.id} ({names}, {order.status}, {fmt(order.total_cents)})"
