"""My orders: status, dates, carrier and tracking, items and totals in dollars."""

from __future__ import annotations

import re

from tests.frontend.conftest import text_of


def _card(page: str, order_id: str) -> str:
    match = re.search(rf'<article[^>]*data-order-id="{order_id}".*?</article>', page, re.S)
    assert match, f"no card for order {order_id}"
    return match.group(0)


def test_orders_show_status_dates_tracking_items_and_totals(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get("/orders/"))
    delivered = _card(page, "1001")
    assert 'data-status="delivered">Delivered</span>' in delivered
    assert "UPS" in delivered and "1ZANA1001" in delivered
    assert "Mechanical keyboard" in delivered and "Wireless mouse" in delivered
    assert "$59.99" in delivered and "$24.50" in delivered
    assert '<td class="text-end fw-semibold order-total">$84.49</td>' in delivered
    for label in ("Ordered", "Shipped", "Delivered"):
        assert f"<dt class=\"col-5\">{label}</dt>" in delivered
    assert 'href="/tickets/new?order=1001"' in delivered

    pending = _card(page, "1002")
    assert 'data-status="pending">Pending</span>' in pending
    assert "$1,234.50" in pending and "Tracking" not in pending and "Shipped" not in pending

    cancelled = _card(page, "1003")
    assert "Cancelled and refunded $19.99" in cancelled


def test_newest_order_first(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get("/orders/"))
    assert page.index('data-order-id="1002"') < page.index('data-order-id="1001"') < page.index(
        'data-order-id="1003"')


def test_a_customer_without_orders_sees_an_empty_state(client, auth):
    auth.login("cleo@example.com")
    page = text_of(client.get("/orders/"))
    assert "No orders yet" in page and "data-order-id" not in page


def test_help_link_preselects_the_order(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get("/tickets/new?order=1001"))
    assert re.search(r'<input checked [^>]*name="order_id" type="radio" value="1001">', page)
    foreign = text_of(client.get("/tickets/new?order=2001"))
    assert re.search(r'<input checked [^>]*name="order_id" type="radio" value="">', foreign)
