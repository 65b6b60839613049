"""R1, R2, R2a, R2b and R8 at the tool level."""

import pytest

from tests.conftest import iso, order, users
from tests.core.helpers import escalations, refunds, run_tool


@pytest.fixture
def shop(seed):
    seed({"users": users(1, 2), "orders": [
        order("1042", 1, "delivered", 59.99, delivered_days_ago=5),
        order("1043", 1, "delivered", 10.0, delivered_days_ago=30),
        order("1044", 1, "delivered", 10.0, delivered_days_ago=31),
        order("1045", 1, "shipped", 10.0),
        order("1046", 1, "processing", 10.0),
        order("1047", 1, "delivered", 500.00, delivered_days_ago=2),
        order("1048", 1, "delivered", 500.01, delivered_days_ago=2),
        order("2001", 2, "delivered", 20.0, delivered_days_ago=2),
    ]})


def test_refund_succeeds_for_full_total_and_records_it(shop, factory, settings):
    result = run_tool(factory, settings, 1, "issue_refund", order_id="1042")
    assert result.status == "success"
    assert result.details["amount"] == 59.99
    assert "R2" in result.reason
    assert refunds(factory, order_id="1042", amount_cents=5999, kind="refund") == 1


def test_refund_window_boundary_day_30_allowed_day_31_denied(shop, factory, settings):
    assert run_tool(factory, settings, 1, "issue_refund", order_id="1043").status == "success"
    late = run_tool(factory, settings, 1, "issue_refund", order_id="1044")
    assert late.status == "denied"
    assert "31 days" in late.reason and "R2" in late.reason
    assert refunds(factory, order_id="1044") == 0


@pytest.mark.parametrize("oid,status", [("1045", "shipped"), ("1046", "processing")])
def test_refund_denied_unless_delivered(shop, factory, settings, oid, status):
    result = run_tool(factory, settings, 1, "issue_refund", order_id=oid)
    assert result.status == "denied"
    assert status in result.reason
    assert refunds(factory, order_id=oid) == 0


def test_second_refund_of_same_order_is_denied(shop, factory, settings):
    assert run_tool(factory, settings, 1, "issue_refund", order_id="1042").status == "success"
    again = run_tool(factory, settings, 1, "issue_refund", order_id="#1042")
    assert again.status == "denied"
    assert "already been refunded" in again.reason
    assert refunds(factory, order_id="1042") == 1


def test_refund_denied_after_replacement(shop, factory, settings):
    assert run_tool(factory, settings, 1, "create_replacement", order_id="1042",
                    reason="damaged").status == "success"
    result = run_tool(factory, settings, 1, "issue_refund", order_id="1042")
    assert result.status == "denied" and "replaced" in result.reason
    assert refunds(factory) == 0


def test_other_users_order_looks_exactly_like_a_missing_one(shop, factory, settings):
    theirs = run_tool(factory, settings, 1, "issue_refund", order_id="2001")
    missing = run_tool(factory, settings, 1, "issue_refund", order_id="9999")
    assert theirs.status == missing.status == "needs_info"
    assert theirs.reason.replace("2001", "N") == missing.reason.replace("9999", "N")
    assert theirs.details == missing.details
    assert refunds(factory) == 0


def test_high_value_boundary(shop, factory, settings):
    at_limit = run_tool(factory, settings, 1, "issue_refund", order_id="1047")
    assert at_limit.status == "success" and at_limit.details["amount"] == 500.0
    above = run_tool(factory, settings, 1, "issue_refund", order_id="1048")
    assert above.status == "escalated"
    assert "R2a" in above.reason
    assert refunds(factory, order_id="1048") == 0
    assert ("high_value", "high", "1048", 1) in escalations(factory)


def test_fraud_limit_counts_rolling_window_and_not_cancellations(seed, factory, settings):
    seed({"users": users(1), "orders": [
        order("1", 1, "delivered", 10, delivered_days_ago=3),
        order("2", 1, "delivered", 10, delivered_days_ago=3),
        order("3", 1, "delivered", 10, delivered_days_ago=3),
        order("4", 1, "cancelled", 10),
        order("5", 1, "delivered", 10, delivered_days_ago=3),
        order("6", 1, "delivered", 10, delivered_days_ago=3),
    ], "refunds": [
        {"order_id": "1", "user_id": 1, "amount": 10, "created_at": iso(31)},  # outside window
        {"order_id": "2", "user_id": 1, "amount": 10, "created_at": iso(29)},
        {"order_id": "4", "user_id": 1, "amount": 10, "created_at": iso(1), "kind": "cancellation"},
    ]})
    assert run_tool(factory, settings, 1, "issue_refund", order_id="3").status == "success"
    blocked = run_tool(factory, settings, 1, "issue_refund", order_id="5")
    assert blocked.status == "denied"
    assert "R2b" in blocked.reason and blocked.details["escalated"] is True
    assert refunds(factory, order_id="5") == 0
    assert ("fraud", "high", "5", 1) in escalations(factory)


def test_money_rounding_is_exact_in_cents(seed, factory, settings):
    items = [{"sku": "A", "name": "A", "qty": 3, "price": 0.1},
             {"sku": "B", "name": "B", "qty": 1, "price": 19.995}]
    seed({"users": users(1), "orders": [
        order("7", 1, "delivered", 20.295, delivered_days_ago=1, items=items)]})
    result = run_tool(factory, settings, 1, "issue_refund", order_id="7")
    assert result.details["amount"] == 20.30  # half-up on the cent
    assert refunds(factory, amount_cents=2030) == 1


def test_low_confidence_takes_no_action(shop, factory, settings):
    result = run_tool(factory, settings, 1, "issue_refund", confidence=0.59, order_id="1042")
    assert result.status == "needs_info" and "R10" in result.reason
    assert refunds(factory) == 0
    assert run_tool(factory, settings, 1, "issue_refund", confidence=0.6,
                    order_id="1042").status == "success"


def test_settings_change_the_rules(seed, factory, settings):
    strict = settings.model_copy(update={"refund_window_days": 3, "auto_refund_limit": 5.0})
    seed({"users": users(1), "orders": [order("8", 1, "delivered", 4.0, delivered_days_ago=4),
                                        order("9", 1, "delivered", 6.0, delivered_days_ago=1)]})
    assert run_tool(factory, strict, 1, "issue_refund", order_id="8").status == "denied"
    assert run_tool(factory, strict, 1, "issue_refund", order_id="9").status == "escalated"


def test_delivered_order_without_delivery_date_counts_from_the_last_known_date(seed, factory,
                                                                              settings):
    recent = order("21", 1, "delivered", 9.0, ordered_days_ago=10)
    old = order("22", 1, "delivered", 9.0, ordered_days_ago=50)
    seed({"users": users(1), "orders": [recent, old]})  # no delivered_at: accepted
    assert run_tool(factory, settings, 1, "issue_refund", order_id="21").status == "success"
    late = run_tool(factory, settings, 1, "issue_refund", order_id="22")
    assert late.status == "denied" and "window" in late.reason
