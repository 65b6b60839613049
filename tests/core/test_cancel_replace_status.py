"""R3 cancel, R4 replacement, R5 status, R6 escalation and R7 order choice at the tool level."""

import pytest
from sqlalchemy import select

from db.engine import transaction
from db.models import Order, Refund, Ticket
from tests.conftest import iso, order, users
from tests.core.helpers import escalations, order_status, refunds, replacements, run_tool


@pytest.fixture
def shop(seed):
    seed({"users": users(1, 2), "orders": [
        order("10", 1, "pending", 25.5), order("11", 1, "processing", 30.0),
        order("12", 1, "shipped", 40.0), order("13", 1, "delivered", 50.0, delivered_days_ago=3),
        order("14", 1, "cancelled", 60.0),
        order("15", 1, "delivered", 70.0, delivered_days_ago=31),
        order("16", 1, "delivered", 80.0, delivered_days_ago=30,
              items=[{"sku": "X", "name": "Lamp", "qty": 2, "price": 40.0}]),
        order("20", 2, "pending", 5.0),
    ]})


@pytest.mark.parametrize("oid", ["10", "11"])
def test_cancel_unshipped_order_records_cancellation_refund(shop, factory, settings, oid):
    result = run_tool(factory, settings, 1, "cancel_order", order_id=oid)
    assert result.status == "success" and "R3" in result.reason
    assert order_status(factory, oid) == "cancelled"
    assert refunds(factory, order_id=oid, kind="cancellation") == 1


@pytest.mark.parametrize("oid", ["12", "13"])
def test_cancel_shipped_or_delivered_is_denied_with_refund_path(shop, factory, settings, oid):
    result = run_tool(factory, settings, 1, "cancel_order", order_id=oid)
    assert result.status == "denied"
    assert "refund" in result.reason
    assert order_status(factory, oid) != "cancelled"
    assert refunds(factory) == 0


def test_cancel_already_cancelled_changes_nothing(shop, factory, settings):
    result = run_tool(factory, settings, 1, "cancel_order", order_id="14")
    assert result.status == "denied" and "already cancelled" in result.reason
    assert refunds(factory) == 0


def test_cancel_someone_elses_order_is_not_found(shop, factory, settings):
    assert run_tool(factory, settings, 1, "cancel_order", order_id="20").status == "needs_info"
    assert order_status(factory, "20") == "pending"


def test_replacement_creates_linked_free_order_with_same_items(shop, factory, settings):
    result = run_tool(factory, settings, 1, "create_replacement", order_id="16", reason="defective")
    assert result.status == "success" and "R4" in result.reason
    new_id = result.details["replacement_order_id"]
    with transaction(factory) as s:
        new = s.get(Order, new_id)
        assert (new.status, new.total_cents, new.replacement_for, new.user_id) == (
            "processing", 0, "16", 1)
        assert [(i.sku, i.qty) for i in new.items] == [("X", 2)]
    again = run_tool(factory, settings, 1, "create_replacement", order_id="16", reason="damaged")
    assert again.status == "denied" and "already been replaced" in again.reason
    assert replacements(factory) == 1


@pytest.mark.parametrize("oid,reason,word", [
    ("15", "damaged", "31 days"), ("12", "damaged", "shipped"), ("13", "not_needed", "not for"),
    ("13", "late", "not for")])
def test_replacement_denials(shop, factory, settings, oid, reason, word):
    result = run_tool(factory, settings, 1, "create_replacement", order_id=oid, reason=reason)
    assert result.status == "denied" and word in result.reason
    assert replacements(factory) == 0


def test_replacement_without_reason_asks(shop, factory, settings):
    result = run_tool(factory, settings, 1, "create_replacement", order_id="13")
    assert result.status == "needs_info"
    assert replacements(factory) == 0


def test_replacement_denied_for_refunded_order(shop, factory, settings):
    assert run_tool(factory, settings, 1, "issue_refund", order_id="13").status == "success"
    result = run_tool(factory, settings, 1, "create_replacement", order_id="13", reason="damaged")
    assert result.status == "denied" and "refunded" in result.reason


def test_status_shows_dates_carrier_and_tracking(shop, factory, settings):
    result = run_tool(factory, settings, 1, "get_order_status", order_id="order 12")
    assert result.status == "success"
    info = result.details["order"]
    assert info["status"] == "shipped" and info["carrier"] == "UPS"
    assert info["tracking_number"] == "1Z12" and info["shipped_at"].endswith("Z")
    assert run_tool(factory, settings, 2, "get_order_status", order_id="12").status == "needs_info"


def test_escalation_sets_ticket_escalated_with_priority(shop, factory, settings):
    with transaction(factory) as s:
        ticket = Ticket(user_id=1, user_input="I want a manager", status="open")
        s.add(ticket)
        s.flush()
        tid = ticket.id
    result = run_tool(factory, settings, 1, "escalate_case", ticket_id=tid,
                      reason="asked for a manager", kind="human_request")
    assert result.status == "escalated" and result.details["priority"] == "normal"
    angry = run_tool(factory, settings, 1, "escalate_case", reason="furious", kind="frustration")
    assert angry.details["priority"] == "high"
    with transaction(factory) as s:
        assert s.get(Ticket, tid).status == "escalated"
    assert len(escalations(factory, user_id=1)) == 2


def test_escalation_never_links_another_users_order(shop, factory, settings):
    result = run_tool(factory, settings, 1, "escalate_case", reason="x", order_id="20")
    assert result.status == "escalated" and result.order_id is None


@pytest.mark.parametrize("purpose,expected", [("cancel", None), ("replacement", None),
                                              ("refund", None)])
def test_which_order_asks_when_several_fit(shop, factory, settings, purpose, expected):
    result = run_tool(factory, settings, 1, "find_orders", purpose=purpose)
    if purpose == "cancel":  # 10 and 11 both unshipped
        assert result.status == "needs_info" and result.details["qualifying"] == ["11", "10"] or \
            sorted(result.details["qualifying"]) == ["10", "11"]
    else:  # 13 and 16 both delivered within 30 days
        assert result.status == "needs_info"
        assert sorted(result.details["qualifying"]) == ["13", "16"]
    assert "selected" not in result.details


def test_which_order_picks_the_only_fit(seed, factory, settings):
    seed({"users": users(1), "orders": [order("1", 1, "delivered", 5, delivered_days_ago=2),
                                        order("2", 1, "pending", 5), order("3", 1, "shipped", 5)]})
    assert run_tool(factory, settings, 1, "find_orders", purpose="cancel").details["selected"] == "2"
    assert run_tool(factory, settings, 1, "find_orders", purpose="refund").details["selected"] == "1"
    status = run_tool(factory, settings, 1, "find_orders", purpose="status")
    assert status.status == "needs_info" and len(status.details["choices"]) == 3


def test_invalid_arguments_are_an_error_and_change_nothing(shop, factory, settings):
    result = run_tool(factory, settings, 1, "issue_refund")
    assert result.status == "error" and "order_id" in result.reason
    bad = run_tool(factory, settings, 1, "create_replacement", order_id="13", reason="because")
    assert bad.status == "error"
    with transaction(factory) as s:
        assert s.scalars(select(Refund)).first() is None
    assert iso(0)


def test_replacement_result_keeps_the_rule_reason(shop, factory, settings):
    result = run_tool(factory, settings, 1, "create_replacement", order_id="13", reason="damaged")
    action_result = result.as_action_result()
    assert action_result["reason"].startswith("R4") and action_result["replacement_reason"] == "damaged"


def test_free_replacement_order_is_neither_refunded_nor_cancelled(shop, factory, settings):
    new_id = run_tool(factory, settings, 1, "create_replacement", order_id="13",
                      reason="defective").details["replacement_order_id"]
    cancel = run_tool(factory, settings, 1, "cancel_order", order_id=new_id)
    assert cancel.status == "denied" and "free replacement" in cancel.reason
    assert order_status(factory, new_id) == "processing"
    with transaction(factory) as s:
        new = s.get(Order, new_id)
        new.status, new.delivered_at = "delivered", new.ordered_at
    refund = run_tool(factory, settings, 1, "issue_refund", order_id=new_id)
    assert refund.status == "denied" and "nothing to refund" in refund.reason
    assert refunds(factory) == 0  # no $0 refund eating into the fraud limit


def test_replacement_of_a_long_order_id_fits_the_column(seed, factory, settings):
    long_id = "9" * 40
    seed({"users": users(1), "orders": [order(long_id, 1, "delivered", 5, delivered_days_ago=1)]})
    result = run_tool(factory, settings, 1, "create_replacement", order_id=long_id,
                      reason="wrong_item")
    assert result.status == "success" and len(result.details["replacement_order_id"]) <= 40
