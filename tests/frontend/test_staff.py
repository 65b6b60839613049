"""Staff: the escalation queue, a case with its transcript and audit trail, resolving and
closing, and the dashboard."""

from __future__ import annotations

import json
import re

import pytest

from audit.audit_log import AuditLog
from tests.frontend.conftest import (
    ANA_CASE,
    ANA_TICKET,
    BEN_CASE,
    BEN_TICKET,
    OLD_CASE,
    db_execute,
    text_of,
)


@pytest.fixture
def staff(auth):
    auth.login("staff@example.com")
    return auth


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-case-id="(\d+)">', page)


def test_queue_lists_open_cases_high_priority_first(client, staff):
    page = text_of(client.get("/staff/"))
    assert _rows(page) == [str(BEN_CASE), str(ANA_CASE)]
    ben = re.search(rf'<tr data-case-id="{BEN_CASE}">.*?</tr>', page, re.S).group(0)
    for expected in ("Ben Carter", "ben@example.com", "#2001", "Fraud", "R2b fraud limit reached",
                     'data-status="high">High</span>', f"ticket #{BEN_TICKET}"):
        assert expected in ben


@pytest.mark.parametrize("status,expected", [("closed", [OLD_CASE]), ("resolved", []),
                                             ("all", [BEN_CASE, ANA_CASE, OLD_CASE])])
def test_queue_filters(client, staff, status, expected):
    page = text_of(client.get(f"/staff/?status={status}"))
    assert _rows(page) == [str(i) for i in expected]
    if not expected:
        assert "No resolved cases" in page


def test_case_page_shows_customer_order_transcript_and_audit_events(client, staff):
    page = text_of(client.get(f"/staff/cases/{BEN_CASE}"))
    assert 'data-testid="case-customer">Ben Carter</p>' in page
    assert "Order #2001" in page and "$89.99" in page and "Glass blender" in page
    transcript = re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)
    assert "the blender is cracked" in transcript and "fraud-review team" in transcript
    audit = re.search(r'<table class="table table-sm small align-middle mb-0 audit-table">.*?</table>',
                      page, re.S).group(0)
    assert "<code>issue_refund</code>" in audit and "R2b fraud limit reached" in audit
    assert "R2 refund" not in audit  # only this ticket's events
    assert 'action="/staff/cases/1/settle"' in page


@pytest.mark.parametrize("outcome", ["resolved", "closed"])
def test_settling_a_case_updates_case_and_ticket_and_is_audited(client, staff, factory, shop,
                                                                outcome):
    response = staff.post(f"/staff/cases/{BEN_CASE}/settle",
                          {"outcome": outcome, "note": "Approved after review; refund sent."})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    [(status, note, resolved_at, resolved_by)] = db_execute(
        factory, "SELECT status, resolution_note, resolved_at, resolved_by FROM escalations "
                 "WHERE id = :i", i=BEN_CASE)
    assert (status, note) == (outcome, "Approved after review; refund sent.") and resolved_at
    assert resolved_by == 9
    assert db_execute(factory, "SELECT status FROM tickets WHERE id = :i", i=BEN_TICKET) == [
        (outcome,)]
    [event] = AuditLog(shop / "audit.jsonl").read(tool="staff_settle_case")
    assert event["ticket_id"] == BEN_TICKET and event["details"]["staff_user_id"] == 9
    queue = text_of(client.get("/staff/"))
    assert f"Case #{BEN_CASE} marked {outcome}" in queue and _rows(queue) == [str(ANA_CASE)]
    case_page = text_of(client.get(f"/staff/cases/{BEN_CASE}"))
    assert "Approved after review; refund sent." in case_page and "/settle" not in case_page


def test_the_customer_sees_the_staff_note(client, staff, auth):
    staff.post(f"/staff/cases/{ANA_CASE}/settle",
               {"outcome": "resolved", "note": "We sent a replacement keyboard."})
    auth.logout()
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    assert "Our support team has resolved your case" in page
    assert "We sent a replacement keyboard." in page


def test_settling_needs_a_note(client, staff, factory):
    response = staff.post(f"/staff/cases/{BEN_CASE}/settle", {"outcome": "resolved", "note": " "})
    assert response.status_code == 400 and "Add a note" in text_of(response)
    assert db_execute(factory, "SELECT status FROM escalations WHERE id = :i", i=BEN_CASE) == [
        ("open",)]


def test_an_already_settled_case_is_left_alone(client, staff, factory):
    response = staff.post(f"/staff/cases/{OLD_CASE}/settle",
                          {"outcome": "resolved", "note": "Reopening by mistake"})
    assert response.headers["Location"] == f"/staff/cases/{OLD_CASE}"
    assert "already closed" in text_of(client.get(response.headers["Location"]))
    assert db_execute(factory, "SELECT status, resolution_note FROM escalations WHERE id = :i",
                      i=OLD_CASE) == [("closed", "Customer withdrew")]


def test_settling_a_missing_case_is_404(staff):
    assert staff.post("/staff/cases/999/settle", {"outcome": "closed", "note": "x"}
                      ).status_code == 404


def _kpi(page: str, testid: str) -> str:
    block = re.search(rf'data-testid="{testid}">(.*?)</div></div>', page, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).strip()


def test_dashboard_numbers_and_server_drawn_charts(client, staff, factory):
    db_execute(factory, "UPDATE tickets SET satisfied = 1, rating = 5 WHERE id = :i", i=ANA_TICKET)
    db_execute(factory, "UPDATE tickets SET satisfied = 0, rating = 2 WHERE id = :i", i=BEN_TICKET)
    page = text_of(client.get("/staff/dashboard"))
    assert _kpi(page, "kpi-tickets") == "Tickets 3 1 queued"
    assert _kpi(page, "kpi-csat") == "Customer satisfaction 50% 1 of 2 rated satisfied"
    assert _kpi(page, "kpi-refunds") == "Refunds issued 1 $89.99 in total"
    assert _kpi(page, "kpi-escalations") == "Open escalations 2 1 high priority · 3 in total"
    intent = re.search(r'data-testid="chart-intent">.*?</figure>', page, re.S).group(0)
    assert '<svg class="bar-chart"' in intent and 'role="img"' in intent
    assert "<title" in intent and "Refund: 2" in intent
    outcome = re.search(r'data-testid="chart-outcome">.*?</figure>', page, re.S).group(0)
    assert "Done: 1" in outcome and "Escalated: 1" in outcome


def test_dashboard_with_no_ratings(client, staff):
    page = text_of(client.get("/staff/dashboard"))
    assert _kpi(page, "kpi-csat") == "Customer satisfaction — no ratings yet"


def test_dashboard_counts_tickets_in_the_database(client, staff, factory):
    db_execute(factory, "INSERT INTO tickets (user_id, status, user_input, intent, result_status, "
                        "created_at, updated_at) VALUES (3, 'resolved', 'hi', 'other', 'success', "
                        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    page = text_of(client.get("/staff/dashboard"))
    assert _kpi(page, "kpi-tickets") == "Tickets 4 1 queued"
    desc = re.search(r'<desc id="chart-d\d+">([^<]*)</desc>', page).group(1)
    assert json.dumps(desc)  # a plain-text description of the chart for screen readers
    assert desc == "Refund: 2, Other: 1"
