"""The evaluation shop: about 55 customers with distinct situations, dated relative to "now".

    python bench/eval/fixture.py OUT.json        # write the fixture (SPEC format)
    python bench/eval/fixture.py --table         # print the who-is-who table for README.md

Every date is computed from the moment the fixture is built, so "delivered 30 days ago"
stays exactly on the refund window's edge whenever the evaluation runs. Windows count
calendar days in UTC, so each date sits at a fixed hour of its day.

The SPEC fixture format has no replacements, so the file carries one extra key,
`replacements`, that init_db ignores and the runner applies after loading (a free
replacement order with `replacement_for`, and the `replacements` row behind it).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

# --- the shop, as data --------------------------------------------------------------------
# An order: (id, status, [(item, price, qty)], days) where days is
#   delivered: days since delivery;  shipped: days since shipping;  pending/processing: days
#   since ordering;  cancelled: days since ordering.
# Optional keys after that: carrier, refunded (days ago), cancel_refund (days ago),
# replaced (days ago, reason), free_for (the original order of a free replacement).

CUSTOMERS: list[dict] = [
    {"id": 1, "name": "Ana Diaz", "who": "telescope shipped, blanket refundable, bookmark pending",
     "orders": [("30101", "delivered", [("Fleece blanket", 45.00, 1)], 5),
                ("30102", "shipped", [("Telescope", 289.00, 1)], 6, {"carrier": "UPS"}),
                ("30103", "pending", [("Leather bookmark", 12.50, 1)], 1)]},
    {"id": 2, "name": "Ben Carter", "who": "two refundable (chair, mouse), one processing",
     "orders": [("30201", "delivered", [("Office chair", 219.00, 1)], 3),
                ("30202", "delivered", [("Wireless mouse", 29.99, 1)], 12),
                ("30203", "processing", [("Phone case", 19.99, 1)], 2)]},
    {"id": 3, "name": "Chloe Nguyen", "who": "AT THE FRAUD LIMIT (2 refunds in 30 days)",
     "orders": [("30301", "delivered", [("Yoga mat", 35.00, 1)], 20, {"refunded": 10}),
                ("30302", "delivered", [("Water bottle", 18.00, 1)], 25, {"refunded": 4}),
                ("30303", "delivered", [("Espresso machine", 249.00, 1)], 6),
                ("30304", "pending", [("Coffee grinder", 59.00, 1)], 1)]},
    {"id": 4, "name": "David Okafor", "who": "two OLD refunds (40 and 55 days ago); boots refundable",
     "orders": [("30401", "delivered", [("Desk lamp", 39.00, 1)], 70, {"refunded": 55}),
                ("30402", "delivered", [("Bluetooth speaker", 79.00, 1)], 50, {"refunded": 40}),
                ("30403", "delivered", [("Hiking boots", 139.00, 1)], 9)]},
    {"id": 5, "name": "Emma Schulz", "who": "exactly one order (jersey, refundable)",
     "orders": [("30501", "delivered", [("Football jersey", 89.95, 1)], 10)]},
    {"id": 6, "name": "Farid Haddad", "who": "NO orders", "orders": []},
    {"id": 7, "name": "Grace Kim", "who": "high value laptop $1,249 (R2a); desk exactly $500",
     "orders": [("30701", "delivered", [("Laptop", 1249.00, 1)], 4),
                ("30702", "delivered", [("Laptop sleeve", 34.99, 1)], 8),
                ("30703", "delivered", [("Standing desk", 500.00, 1)], 6)]},
    {"id": 8, "name": "Hugo Martin", "who": "delivered exactly 30 days ago / 31 days ago",
     "orders": [("30801", "delivered", [("Rain jacket", 120.00, 1)], 30),
                ("30802", "delivered", [("Camping stove", 64.50, 1)], 31)]},
    {"id": 9, "name": "Isla Brown", "who": "sheets already refunded; pillow refundable",
     "orders": [("30901", "delivered", [("Bed sheets", 75.00, 1)], 14, {"refunded": 9}),
                ("30902", "delivered", [("Pillow", 25.00, 1)], 2)]},
    {"id": 10, "name": "Jonas Weber", "who": "kettle already replaced (31001-R free, processing)",
     "orders": [("31001", "delivered", [("Electric kettle", 49.99, 1)], 10,
                 {"replaced": (8, "defective")}),
                ("31001-R", "processing", [("Electric kettle", 0.00, 1)], 8, {"free_for": "31001"}),
                ("31002", "delivered", [("Toaster", 39.00, 1)], 7)]},
    {"id": 11, "name": "Kemi Adeyemi", "who": "cancelled watch; shoes out of window; headphones shipped",
     "orders": [("31101", "cancelled", [("Smart watch", 199.00, 1)], 25, {"cancel_refund": 24}),
                ("31102", "delivered", [("Running shoes", 95.00, 1)], 40),
                ("31103", "shipped", [("Headphones", 149.00, 1)], 2, {"carrier": "FedEx"})]},
    {"id": 12, "name": "Liam O'Brien", "who": "MANY orders (8), every status",
     "orders": [("31201", "delivered", [("Phone case", 15.99, 1)], 3),
                ("31202", "delivered", [("Screen protector", 9.99, 1)], 22),
                ("31203", "shipped", [("Phone charger", 24.99, 1)], 2, {"carrier": "USPS"}),
                ("31204", "pending", [("USB-C cable", 12.00, 1)], 1),
                ("31205", "processing", [("Power bank", 45.00, 1)], 2),
                ("31206", "delivered", [("Tablet stand", 29.00, 1)], 60),
                ("31207", "cancelled", [("Earbuds", 59.00, 1)], 15, {"cancel_refund": 14}),
                ("31208", "delivered", [("Smartphone", 699.00, 1)], 15)]},
    {"id": 13, "name": "Mia Rossi", "who": "two pending + one processing (several to cancel)",
     "orders": [("31301", "pending", [("Scented candle", 18.00, 1)], 1),
                ("31302", "pending", [("Throw pillow", 32.00, 1)], 2),
                ("31303", "processing", [("Wall clock", 54.00, 1)], 3)]},
    {"id": 14, "name": "Noah Fischer", "who": "lettered ids A-100 (delivered), B-7 (pending)",
     "orders": [("A-100", "delivered", [("Board game", 42.00, 1)], 6),
                ("B-7", "pending", [("Jigsaw puzzle", 19.00, 1)], 1)]},
    {"id": 15, "name": "Olivia Park", "who": "short ids 7 (delivered), 88 (shipped), 512 (pending)",
     "orders": [("7", "delivered", [("Yoga block", 14.00, 1)], 9),
                ("88", "shipped", [("Resistance bands", 22.00, 1)], 3, {"carrier": "DHL"}),
                ("512", "pending", [("Foam roller", 27.00, 1)], 1)]},
    {"id": 16, "name": "Pablo Ruiz", "who": "Spanish speaker: strings pending, guitar delivered",
     "orders": [("31601", "pending", [("Guitar strings", 11.00, 1)], 1),
                ("31602", "delivered", [("Acoustic guitar", 329.00, 1)], 5)]},
    {"id": 17, "name": "Quinn Taylor", "who": "keyboard delivered, monitor arm shipped (FedEx)",
     "orders": [("31701", "delivered", [("Mechanical keyboard", 129.00, 1)], 8),
                ("31702", "shipped", [("Monitor arm", 89.00, 1)], 3, {"carrier": "FedEx"})]},
    {"id": 18, "name": "Rosa Lima", "who": "vase (replaceable), lamp 45 days (too old), blender",
     "orders": [("31801", "delivered", [("Ceramic vase", 65.00, 1)], 4),
                ("31802", "delivered", [("Table lamp", 48.00, 1)], 45),
                ("31803", "delivered", [("Blender", 89.00, 1)], 3)]},
    {"id": 19, "name": "Sam Cohen", "who": "headphones replaced; free replacement 31901-R delivered",
     "orders": [("31901", "delivered", [("Wireless headphones", 159.00, 1)], 20,
                 {"replaced": (7, "damaged")}),
                ("31901-R", "delivered", [("Wireless headphones", 0.00, 1)], 3,
                 {"free_for": "31901"}),
                ("31902", "pending", [("Headphone stand", 25.00, 1)], 1)]},
    {"id": 20, "name": "Tara Singh", "who": "espresso machine delivered yesterday; frother processing",
     "orders": [("32001", "delivered", [("Espresso machine", 389.00, 1)], 1),
                ("32002", "processing", [("Milk frother", 45.00, 1)], 2)]},
    {"id": 21, "name": "Umar Ali", "who": "only shipped orders (helmet USPS, lights DHL)",
     "orders": [("32101", "shipped", [("Bike helmet", 75.00, 1)], 4, {"carrier": "USPS"}),
                ("32102", "shipped", [("Bike lights", 32.00, 1)], 2, {"carrier": "DHL"})]},
    {"id": 22, "name": "Vera Novak", "who": "coat delivered 29 days ago; scarf 32 days ago",
     "orders": [("32201", "delivered", [("Winter coat", 210.00, 1)], 29),
                ("32202", "delivered", [("Wool scarf", 28.00, 1)], 32)]},
    {"id": 23, "name": "Will Turner", "who": "console $549 PROCESSING (cancel is fine); controller",
     "orders": [("32301", "processing", [("Gaming console", 549.00, 1)], 2),
                ("32302", "delivered", [("Game controller", 69.99, 1)], 2)]},
    {"id": 24, "name": "Xena Morales", "who": "two phone cases (blue, black), both refundable",
     "orders": [("32401", "delivered", [("Phone case (blue)", 14.99, 1)], 5),
                ("32402", "delivered", [("Phone case (black)", 14.99, 1)], 9)]},
    {"id": 25, "name": "Yusuf Demir", "who": "angry customer: air fryer refundable",
     "orders": [("32501", "delivered", [("Air fryer", 119.00, 1)], 10)]},
    {"id": 26, "name": "Zoe Laurent", "who": "French speaker: cookbook pending, pan delivered",
     "orders": [("32601", "pending", [("Cookbook", 24.00, 1)], 1),
                ("32602", "delivered", [("Cast iron pan", 45.00, 1)], 5)]},
    {"id": 27, "name": "Aaron Blake", "who": "mouse delivered, mouse pad pending, keyboard shipped",
     "orders": [("32701", "delivered", [("Wireless mouse", 29.99, 1)], 11),
                ("32702", "pending", [("Mouse pad", 9.99, 1)], 1),
                ("32703", "shipped", [("Keyboard", 79.00, 1)], 2, {"carrier": "UPS"})]},
    {"id": 28, "name": "Bella Ortiz", "who": "one 3-item order (blanket, candle, mug); frame pending",
     "orders": [("32801", "delivered", [("Fleece blanket", 45.00, 1), ("Scented candle", 18.00, 1),
                                        ("Coffee mug", 12.00, 1)], 6),
                ("32802", "pending", [("Picture frame", 22.00, 1)], 1)]},
    {"id": 29, "name": "Carl Jensen", "who": "boots + socks delivered, trekking poles pending",
     "orders": [("32901", "delivered", [("Hiking boots", 139.00, 1)], 13),
                ("32902", "delivered", [("Hiking socks", 16.00, 2)], 13),
                ("32903", "pending", [("Trekking poles", 58.00, 1)], 1)]},
    {"id": 30, "name": "Dana White", "who": "espresso machine delivered 18 days; coffee beans pending",
     "orders": [("33001", "delivered", [("Espresso machine", 449.00, 1)], 18),
                ("33002", "pending", [("Coffee beans", 21.00, 1)], 1)]},
    {"id": 31, "name": "Eli Green", "who": "AT THE FRAUD LIMIT; knee pads and wrist guards delivered",
     "orders": [("33101", "delivered", [("Skateboard", 89.00, 1)], 25, {"refunded": 20}),
                ("33102", "delivered", [("Skate helmet", 45.00, 1)], 15, {"refunded": 10}),
                ("33103", "delivered", [("Knee pads", 25.00, 1)], 3),
                ("33104", "delivered", [("Wrist guards", 19.00, 1)], 4)]},
    {"id": 32, "name": "Fiona Hall", "who": "road bike $1,899 (R2a); bike pump",
     "orders": [("33201", "delivered", [("Road bike", 1899.00, 1)], 7),
                ("33202", "delivered", [("Bike pump", 29.00, 1)], 2)]},
    {"id": 33, "name": "George Ivanov", "who": "replacements: mirror, drone $459, t-shirt",
     "orders": [("33301", "delivered", [("Wall mirror", 120.00, 1)], 6),
                ("33302", "delivered", [("Camera drone", 459.00, 1)], 3),
                ("33303", "delivered", [("Cotton T-shirt", 25.00, 1)], 12)]},
    {"id": 34, "name": "Hana Sato", "who": "sunglasses day 30, sun hat day 31",
     "orders": [("33401", "delivered", [("Sunglasses", 95.00, 1)], 30),
                ("33402", "delivered", [("Sun hat", 35.00, 1)], 31)]},
    {"id": 35, "name": "Ivan Petrov", "who": "dumbbells cancelled; kettlebell pending",
     "orders": [("33501", "cancelled", [("Dumbbell set", 80.00, 1)], 9, {"cancel_refund": 8}),
                ("33502", "pending", [("Kettlebell", 55.00, 1)], 1)]},
    {"id": 36, "name": "Julia Costa", "who": "exactly one order, pending (stand mixer $279)",
     "orders": [("33601", "pending", [("Stand mixer", 279.00, 1)], 1)]},
    {"id": 37, "name": "Kai Mueller", "who": "exactly one order, shipped (tripod, DHL)",
     "orders": [("33701", "shipped", [("Camera tripod", 65.00, 1)], 2, {"carrier": "DHL"})]},
    {"id": 38, "name": "Lena Vogel", "who": "one order delivered 60 days ago (bookshelf)",
     "orders": [("33801", "delivered", [("Bookshelf", 149.00, 1)], 60)]},
    {"id": 39, "name": "Marco Bianchi", "who": "toothbrush: the order OTHER users try to take",
     "orders": [("33901", "delivered", [("Electric toothbrush", 89.00, 1)], 5)]},
    {"id": 40, "name": "Nora Quinn", "who": "three wool items: sweater, beanie (delivered), gloves",
     "orders": [("34001", "delivered", [("Wool sweater", 79.00, 1)], 4),
                ("34002", "delivered", [("Wool beanie", 25.00, 1)], 6),
                ("34003", "processing", [("Wool gloves", 30.00, 1)], 2)]},
    {"id": 41, "name": "Oscar Reyes", "who": "football jersey delivered, ball pending, boots shipped",
     "orders": [("34101", "delivered", [("Football jersey", 89.95, 1)], 2),
                ("34102", "pending", [("Football", 29.99, 1)], 1),
                ("34103", "shipped", [("Football boots", 119.00, 1)], 3, {"carrier": "UPS"})]},
    {"id": 42, "name": "Priya Shah", "who": "one refund 3 days ago (oils); yoga mat refundable",
     "orders": [("34201", "delivered", [("Yoga mat", 38.00, 1)], 10),
                ("34202", "delivered", [("Meditation cushion", 42.00, 1)], 21),
                ("34203", "delivered", [("Essential oil set", 36.00, 1)], 20, {"refunded": 3})]},
    {"id": 43, "name": "Ravi Kumar", "who": "refund tracking: headphones refunded 2 days ago",
     "orders": [("34301", "delivered", [("Noise-cancelling headphones", 229.00, 1)], 25,
                 {"refunded": 2}),
                ("34302", "cancelled", [("Smart speaker", 99.00, 1)], 7, {"cancel_refund": 6}),
                ("34303", "delivered", [("Phone stand", 15.00, 1)], 4)]},
    {"id": 44, "name": "Sofia Greco", "who": "NO orders", "orders": []},
    {"id": 45, "name": "Tom Becker", "who": "social-media writer: gaming mouse, headset pending",
     "orders": [("34501", "delivered", [("Gaming mouse", 59.99, 1)], 3),
                ("34502", "pending", [("Gaming headset", 89.99, 1)], 1)]},
    {"id": 46, "name": "Uma Patel", "who": "running shoes (wrong size), sports bra",
     "orders": [("34601", "delivered", [("Running shoes", 110.00, 1)], 7),
                ("34602", "delivered", [("Sports bra", 35.00, 1)], 9)]},
    {"id": 47, "name": "Victor Lang", "who": "id with leading zeros: 004711 (perfume)",
     "orders": [("004711", "delivered", [("Perfume", 68.00, 1)], 5)]},
    {"id": 48, "name": "Wendy Zhao", "who": "tea set delivered, tea kettle pending",
     "orders": [("34801", "delivered", [("Tea set", 58.00, 1)], 6),
                ("34802", "pending", [("Tea kettle", 42.00, 1)], 1)]},
    {"id": 49, "name": "Xavier Dupont", "who": "three leather items: wallet, bookmark, belt",
     "orders": [("34901", "delivered", [("Leather wallet", 55.00, 1)], 8),
                ("34902", "delivered", [("Leather bookmark", 12.50, 1)], 8),
                ("34903", "shipped", [("Leather belt", 45.00, 1)], 2, {"carrier": "USPS"})]},
    {"id": 50, "name": "Yara Haddad", "who": "stroller $399 processing; baby monitor delivered",
     "orders": [("35001", "processing", [("Baby stroller", 399.00, 1)], 2),
                ("35002", "delivered", [("Baby monitor", 129.00, 1)], 15)]},
    {"id": 51, "name": "Zane Cooper", "who": "drill refunded 5 days ago; drill bits refundable",
     "orders": [("35101", "delivered", [("Cordless drill", 149.00, 1)], 12, {"refunded": 5}),
                ("35102", "delivered", [("Drill bits", 24.00, 1)], 6)]},
    {"id": 52, "name": "Amy Foster", "who": "coffee table replaced; free replacement 35201-R processing",
     "orders": [("35201", "delivered", [("Coffee table", 260.00, 1)], 15,
                 {"replaced": (12, "damaged")}),
                ("35201-R", "processing", [("Coffee table", 0.00, 1)], 12, {"free_for": "35201"})]},
    {"id": 53, "name": "Brian Moss", "who": "e-scooter $520 (just over the limit); lock",
     "orders": [("35301", "delivered", [("Electric scooter", 520.00, 1)], 2),
                ("35302", "delivered", [("Scooter lock", 35.00, 1)], 2)]},
    {"id": 54, "name": "Clara Jones", "who": "vacuum delivered, bags shipped (escalations)",
     "orders": [("35401", "delivered", [("Vacuum cleaner", 199.00, 1)], 9),
                ("35402", "shipped", [("Vacuum bags", 15.00, 1)], 1, {"carrier": "UPS"})]},
    {"id": 55, "name": "Dev Malhotra", "who": "watch band 16 days, smartwatch 5 days",
     "orders": [("35501", "delivered", [("Smartwatch band", 29.00, 1)], 16),
                ("35502", "delivered", [("Smartwatch", 249.00, 1)], 5)]},
    # --- added by the black-box cases (bench/eval/cases/blackbox_*.yaml) ---
    {"id": 60, "name": "Hector Vance", "who": "two coffee mugs (one delivered, one pending); French press shipped",
     "orders": [("36001", "delivered", [("Coffee mug", 12.00, 1)], 4),
                ("36002", "pending", [("Coffee mug", 12.00, 1)], 1),
                ("36003", "shipped", [("French press", 35.00, 1)], 2, {"carrier": "USPS"})]},
    {"id": 61, "name": "Irene Wu", "who": "six wine glasses in one order; decanter out of window",
     "orders": [("36101", "delivered", [("Wine glass", 9.00, 6)], 8),
                ("36102", "delivered", [("Decanter", 40.00, 1)], 35)]},
    {"id": 62, "name": "Jack Moreno", "who": "earbuds delivered today; charging case processing",
     "orders": [("36201", "delivered", [("Bluetooth earbuds", 79.00, 1)], 0),
                ("36202", "processing", [("Charging case", 25.00, 1)], 1)]},
    {"id": 63, "name": "Mara Silva", "who": "floor lamp delivered, desk lamp pending, rug delivered 2-item",
     "orders": [("36301", "delivered", [("Floor lamp", 89.00, 1)], 5),
                ("36302", "pending", [("Desk lamp", 35.00, 1)], 1),
                ("36303", "delivered", [("Area rug", 120.00, 1), ("Rug pad", 20.00, 1)], 7)]},
    {"id": 64, "name": "Nina Holt", "who": "two mice shipped; stand + lamp processing; keyboard delivered",
     "orders": [("36401", "shipped", [("Wireless mouse", 24.50, 2)], 2, {"carrier": "UPS"}),
                ("36402", "processing", [("Laptop stand", 39.95, 1), ("Desk lamp", 45.00, 1)], 2),
                ("36403", "delivered", [("Mechanical keyboard", 59.99, 1)], 6)]},
    # --- added by the second black-box pass (bench/eval/cases/blackbox2_*.yaml) ---
    {"id": 65, "name": "Paula Grant", "who": "ONLY cancelled orders (desk chair, monitor)",
     "orders": [("37001", "cancelled", [("Desk chair", 149.00, 1)], 10, {"cancel_refund": 9}),
                ("37002", "cancelled", [("Computer monitor", 229.00, 1)], 5, {"cancel_refund": 4})]},
    {"id": 66, "name": "Rhys Evans", "who": "British spellings: colour lamp, grey jumper, aluminium bottle, personalised mug",
     "orders": [("37101", "delivered", [("Colour-changing lamp", 39.00, 1)], 6),
                ("37102", "delivered", [("Grey jumper", 55.00, 1)], 12),
                ("37103", "pending", [("Aluminium water bottle", 22.00, 1)], 1),
                ("37104", "shipped", [("Personalised mug", 18.00, 1)], 2, {"carrier": "DHL"})]},
    {"id": 67, "name": "Sara Lind", "who": "look-alike names: running shorts, running shoes, running socks",
     "orders": [("37201", "delivered", [("Running shorts", 30.00, 1)], 5),
                ("37202", "shipped", [("Running shoes", 120.00, 1)], 2, {"carrier": "FedEx"}),
                ("37203", "pending", [("Running socks", 12.00, 1)], 1)]},
    {"id": 68, "name": "Owen Price", "who": "plural/singular: kitchen knives delivered, knife sharpener processing, batteries",
     "orders": [("37301", "delivered", [("Kitchen knives", 85.00, 1)], 5),
                ("37302", "processing", [("Knife sharpener", 25.00, 1)], 1),
                ("37303", "delivered", [("AA batteries", 4.50, 2)], 3)]},
    {"id": 69, "name": "Gina Russo", "who": "American spelling: color printer delivered, printer ink pending",
     "orders": [("37401", "delivered", [("Color printer", 199.00, 1)], 4),
                ("37402", "pending", [("Printer ink", 35.00, 1)], 1)]},
    {"id": 70, "name": "Harold Bell", "who": "long e-mails: reading glasses, crossword book shipped, radio",
     "orders": [("37501", "delivered", [("Reading glasses", 25.00, 1)], 8),
                ("37502", "shipped", [("Crossword book", 15.00, 1)], 3, {"carrier": "USPS"}),
                ("37503", "delivered", [("Radio", 60.00, 1)], 20)]},
]
STAFF = {"id": 90, "name": "Sam Staff", "email": "staff@eval.example.com", "role": "staff"}

TRACKING_PREFIX = {"UPS": "1Z8F4E", "FedEx": "7749", "USPS": "9400111", "DHL": "JD0146"}


def _at(now: datetime, days_ago: float, hour: int) -> datetime:
    """That calendar day at a fixed hour, never later than a minute ago."""
    day = (now - timedelta(days=days_ago)).date()
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return min(moment, now - timedelta(minutes=1))


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def tracking_number(order_id: str, carrier: str) -> str:
    digits = "".join(ch for ch in order_id if ch.isdigit()).rjust(8, "0")
    return f"{TRACKING_PREFIX[carrier]}{digits}"


def _order(now: datetime, user_id: int, spec: tuple) -> tuple[dict, dict]:
    oid, status, items, days = spec[:4]
    extra = spec[4] if len(spec) > 4 else {}
    carrier = extra.get("carrier", "UPS")
    data: dict = {"id": oid, "user_id": user_id, "status": status,
                  "total": round(sum(price * qty for _, price, qty in items), 2),
                  "items": [{"sku": f"SKU-{oid}-{n}", "name": name, "qty": qty, "price": price}
                            for n, (name, price, qty) in enumerate(items, 1)]}
    if status == "delivered":
        data["ordered_at"] = _at(now, days + 4, 9)
        data["shipped_at"] = _at(now, days + 2, 14)
        data["delivered_at"] = _at(now, days, 16)
    elif status == "shipped":
        data["ordered_at"] = _at(now, days + 2, 9)
        data["shipped_at"] = _at(now, days, 14)
    else:
        data["ordered_at"] = _at(now, days, 9)
    if status in ("shipped", "delivered"):
        data["carrier"] = carrier
        data["tracking_number"] = tracking_number(oid, carrier)
    for key in ("ordered_at", "shipped_at", "delivered_at"):
        if key in data:
            data[key] = _iso(data[key])
    return data, extra


def build_fixture(now: datetime | None = None) -> dict:
    """The fixture as a dict in SPEC format (plus `replacements`, see the module doc)."""
    now = now or datetime.now(UTC)
    users, orders, refunds, replacements = [], [], [], []
    for c in CUSTOMERS:
        first = c["name"].split()[0].lower()
        users.append({"id": c["id"], "name": c["name"], "email": f"{first}{c['id']}@eval.example.com",
                      "password": f"eval-{c['id']}-password"})
        for spec in c["orders"]:
            data, extra = _order(now, c["id"], spec)
            orders.append(data)
            if "refunded" in extra:
                refunds.append({"order_id": data["id"], "user_id": c["id"], "amount": data["total"],
                                "created_at": _iso(_at(now, extra["refunded"], 10)),
                                "reason": "arrived damaged"})
            if "cancel_refund" in extra:
                refunds.append({"order_id": data["id"], "user_id": c["id"], "amount": data["total"],
                                "kind": "cancellation",
                                "created_at": _iso(_at(now, extra["cancel_refund"], 10))})
            if "replaced" in extra:
                days, reason = extra["replaced"]
                replacements.append({"original_order_id": data["id"],
                                     "new_order_id": f"{data['id']}-R", "user_id": c["id"],
                                     "reason": reason, "created_at": _iso(_at(now, days, 11))})
    users.append({**STAFF, "password": "eval-staff-password"})
    return {"users": users, "orders": orders, "refunds": refunds, "replacements": replacements,
            "built_at": _iso(now)}


def write_fixture(path: Path, now: datetime | None = None) -> dict:
    fixture = build_fixture(now)
    path.write_text(json.dumps(fixture, indent=1), encoding="utf-8")
    return fixture


def who_is_who() -> str:
    """The README's table: who each customer is and what their orders are."""
    rows = ["| user | name | situation | orders (id status total item; days) |",
            "|---|---|---|---|"]
    for c in CUSTOMERS:
        orders = []
        for spec in c["orders"]:
            oid, status, items, days = spec[:4]
            extra = spec[4] if len(spec) > 4 else {}
            total = sum(p * q for _, p, q in items)
            notes = [f"{days}d"]
            notes += [f"refunded {extra['refunded']}d ago"] if "refunded" in extra else []
            notes += ["replaced"] if "replaced" in extra else []
            notes += [f"free for {extra['free_for']}"] if "free_for" in extra else []
            notes += [extra["carrier"]] if "carrier" in extra else []
            orders.append(f"`{oid}` {status} ${total:,.2f} {items[0][0]}"
                          + (f" +{len(items) - 1}" if len(items) > 1 else "")
                          + f" ({', '.join(notes)})")
        rows.append(f"| {c['id']} | {c['name']} | {c['who']} | {'<br>'.join(orders) or '—'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        print(who_is_who())
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):  # "--help" is not a file name
        write_fixture(Path(sys.argv[1]))
    else:
        sys.exit(__doc__)
