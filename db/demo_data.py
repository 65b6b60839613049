"""The demo shop: five customers and one staff member, orders in every status, past refunds.

Dates are relative to today so the demo always has orders inside and outside
the refund window. Customer demo logins share one documented password; the
staff password is generated per install (no default admin password).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from db.models import utcnow

DEMO_CUSTOMER_PASSWORD = "supportops-demo"

CATALOGUE = {
    "KB-01": ("Mechanical keyboard", 59.99), "MS-02": ("Wireless mouse", 24.50),
    "HP-03": ("Noise-cancelling headphones", 189.00), "MN-04": ("27-inch 4K monitor", 649.00),
    "CH-05": ("Ergonomic office chair", 329.00), "LP-06": ("Laptop stand", 39.95),
    "BL-07": ("Glass blender", 89.99), "CM-08": ("Espresso machine", 549.00),
    "TS-09": ("Cotton T-shirt (M)", 19.99), "JK-10": ("Rain jacket (L)", 120.00),
    "BK-11": ("Hardcover cookbook", 34.00), "LA-12": ("Desk lamp", 45.00),
}
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")


def _order(oid, uid, status, days_ago, skus, carrier_i=0):
    now = utcnow().replace(microsecond=0)
    items = [{"sku": s, "name": CATALOGUE[s][0], "qty": q, "price": CATALOGUE[s][1]}
             for s, q in skus]
    total = round(sum(i["price"] * i["qty"] for i in items), 2)
    ordered = now - timedelta(days=days_ago)
    order = {"id": oid, "user_id": uid, "status": status, "total": total, "items": items,
             "ordered_at": ordered.isoformat() + "Z"}
    if status in ("shipped", "delivered"):
        carrier = CARRIERS[carrier_i % len(CARRIERS)]
        order.update(shipped_at=(ordered + timedelta(days=1)).isoformat() + "Z", carrier=carrier,
                     tracking_number=f"{carrier[:2].upper()}{int(oid) * 7919:012d}")
    if status == "delivered":
        order["delivered_at"] = (ordered + timedelta(days=4)).isoformat() + "Z"
    return order


def demo_fixture(staff_password: str | None = None) -> dict:
    now = utcnow().replace(microsecond=0)
    users = [
        {"id": 1, "name": "Ana Diaz", "email": "ana@example.com"},
        {"id": 2, "name": "Ben Carter", "email": "ben@example.com"},
        {"id": 3, "name": "Chloe Nguyen", "email": "chloe@example.com"},
        {"id": 4, "name": "David Okafor", "email": "david@example.com"},
        {"id": 5, "name": "Emma Rossi", "email": "emma@example.com"},
    ]
    for u in users:
        u["password"] = DEMO_CUSTOMER_PASSWORD
    users.append({"id": 6, "name": "Sam Support", "email": "staff@example.com", "role": "staff",
                  "password": staff_password or secrets.token_urlsafe(12)})
    orders = [
        # Ana: one of everything; 1001 is the easy refund, 1002 the high-value one.
        _order("1001", 1, "delivered", 10, [("KB-01", 1)], 0),
        _order("1002", 1, "delivered", 12, [("MN-04", 1)], 1),
        _order("1003", 1, "shipped", 3, [("MS-02", 2)], 2),
        _order("1004", 1, "processing", 1, [("LP-06", 1), ("LA-12", 1)]),
        _order("1005", 1, "delivered", 60, [("BK-11", 1)], 3),
        # Ben: a pending order to cancel, a damaged blender to replace.
        _order("2001", 2, "pending", 0, [("HP-03", 1)]),
        _order("2002", 2, "delivered", 6, [("BL-07", 1)], 1),
        _order("2003", 2, "cancelled", 20, [("TS-09", 3)]),
        # Chloe: already at the fraud limit (two refunds this month).
        _order("3001", 3, "delivered", 25, [("TS-09", 2)], 2),
        _order("3002", 3, "delivered", 18, [("JK-10", 1)], 0),
        _order("3003", 3, "delivered", 8, [("LA-12", 1)], 1),
        # David: a shipped espresso machine and an old delivered chair.
        _order("4001", 4, "shipped", 2, [("CM-08", 1)], 3),
        _order("4002", 4, "delivered", 45, [("CH-05", 1)], 0),
        # Emma: a single order, so "where is my order?" needs no order number.
        _order("5001", 5, "processing", 2, [("JK-10", 1), ("TS-09", 1)]),
    ]
    refunds = [
        {"order_id": "3001", "user_id": 3, "amount": 39.98, "reason": "changed my mind",
         "created_at": (now - timedelta(days=15)).isoformat() + "Z"},
        {"order_id": "3002", "user_id": 3, "amount": 120.00, "reason": "arrived late",
         "created_at": (now - timedelta(days=9)).isoformat() + "Z"},
        {"order_id": "4002", "user_id": 4, "amount": 329.00, "reason": "damaged",
         "created_at": (now - timedelta(days=38)).isoformat() + "Z"},
    ]
    # 4002 was refunded, so show it as such; a cancelled order carries its cancellation refund.
    refunds.append({"order_id": "2003", "user_id": 2, "amount": 59.97, "kind": "cancellation",
                    "created_at": (now - timedelta(days=19)).isoformat() + "Z"})
    return {"users": users, "orders": orders, "refunds": refunds}
