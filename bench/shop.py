"""Generated shops and customer messages for the benchmarks (bench/run_bench.py).

A shop is a fixture in SPEC's format: `customers` customers with `orders_each` orders in every
status (recent and old deliveries, shipped, pending, processing), so every intent has
something real to act on. Messages are the mix an integrator sends, one template per intent;
each names one of the sender's own orders.
"""

from __future__ import annotations

import random
from datetime import timedelta

ITEMS = ("Desk lamp", "Wool beanie", "Kettle", "Phone case", "Yoga mat", "Backpack",
         "Headphones", "Water bottle", "Blender", "Telescope", "Football jersey", "Wall clock")
STATUSES = ("delivered", "delivered", "shipped", "processing", "pending")
# intent -> message template ({o} an order of the sender's, {item} one of its items)
MESSAGES = {
    "refund": "I want a refund for order {o}, it arrived broken",
    "status": "where is my order {o}?",
    "policy_question": "how long do I have to return something?",
    "other": "hi there, thanks for the help",
    "cancel": "please cancel order {o}",
    "replacement": "the {item} from order {o} arrived cracked, send a new one",
    "escalate": "I want to talk to a real person",
}
# The order status each message is about (so a refund names a delivered order, and so on).
FITS = {"refund": "delivered", "status": "shipped", "cancel": "pending",
        "replacement": "delivered"}
FIRST_ORDER_ID = 100000


def order_id(customer: int, k: int, orders_each: int) -> str:
    return str(FIRST_ORDER_ID + (customer - 1) * orders_each + k)


def shop(customers: int, orders_each: int = 5, password: str = "bench-pass") -> dict:
    from db.models import utcnow

    now = utcnow().replace(microsecond=0)
    iso = lambda moment: moment.isoformat() + "Z"  # noqa: E731
    users, orders = [], []
    for c in range(1, customers + 1):
        users.append({"id": c, "name": f"Customer {c}", "email": f"c{c}@example.com",
                      "password": password})
        for k in range(orders_each):
            status = STATUSES[k % len(STATUSES)]
            item = ITEMS[(c + k) % len(ITEMS)]
            ordered = now - timedelta(days=3 + k % 4)
            order = {"id": order_id(c, k, orders_each), "user_id": c, "status": status,
                     "total": 20 + (c + k) % 80, "ordered_at": iso(ordered),
                     "items": [{"sku": f"SKU-{(c + k) % len(ITEMS)}", "name": item, "qty": 1,
                                "price": 20 + (c + k) % 80}]}
            if status in ("shipped", "delivered"):
                order.update(shipped_at=iso(ordered + timedelta(days=1)), carrier="UPS",
                             tracking_number=f"1Z{c:06d}{k:02d}")
            if status == "delivered":
                order["delivered_at"] = iso(ordered + timedelta(days=2))
            orders.append(order)
    return {"users": users, "orders": orders}


def message(intent: str, customer: int, orders_each: int = 5) -> str:
    """The intent's message from `customer`, about the first of their orders that fits it."""
    fits = FITS.get(intent)
    k = next((k for k in range(orders_each) if STATUSES[k % len(STATUSES)] == fits), 0)
    item = ITEMS[(customer + k) % len(ITEMS)].lower()
    return MESSAGES[intent].format(o=order_id(customer, k, orders_each), item=item)


def mixed(n: int, customers: int, orders_each: int = 5, seed: int = 13) -> list[tuple[str, int, str]]:
    """n (intent, customer, text) triples, every intent equally often, customers at random."""
    rng = random.Random(seed)
    intents = list(MESSAGES)
    out = []
    for i in range(n):
        intent = intents[i % len(intents)]
        customer = rng.randint(1, customers)
        out.append((intent, customer, message(intent, customer, orders_each)))
    return out
