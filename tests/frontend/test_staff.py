"""Staff pages read from the database (the agent service is down in these tests): the queue
by due time with overdue cases marked, a case with its transcript, notes and audit trail,
form checks, and the dashboard. Every change goes through the API: with the API down nothing
changes (the changes themselves are in test_staff_actions.py, against the real API)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from audit.audit_log import AuditLog
from db.models import utcnow
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
    return re.findall(r'<li class="case-card[^"]*" data-case-id="(\d+)"', page)


def test_queue_lists_waiting_cases(client, staff):
    page = text_of(client.get("/staff/"))
    assert _rows(page) == [str(BEN_CASE), str(ANA_CASE)]
    ben = re.search(rf'data-case-id="{BEN_CASE}">.*?</li>\s*(?=<li|</ul>)', page, re.S).group(0)
    for expected in ("Ben Carter", "ben@example.com", "#2001", "Fraud", "R2b fraud limit reached",
                     'data-status="high">High</span>', f"ticket #{BEN_TICKET}",
                     "Needs a decision"):
        assert expected in ben


def test_queue_is_sorted_by_due_time_and_marks_overdue_cases(client, staff, factory):
    now = utcnow()
    db_execute(factory, "UPDATE escalations SET due_at = :d WHERE id = :i",
               d=now - timedelta(hours=1), i=ANA_CASE)
    db_execute(factory, "UPDATE escalations SET due_at = :d WHERE id = :i",
               d=now + timedelta(hours=3), i=BEN_CASE)
    page = text_of(client.get("/staff/"))
    assert _rows(page) == [str(ANA_CASE), str(BEN_CASE)]
    assert re.search(rf'<li class="case-card [^"]*is-overdue" data-case-id="{ANA_CASE}" '
                     r'data-overdue="true">', page)
    assert f'data-case-id="{BEN_CASE}">' in page
    ana = re.search(rf'data-case-id="{ANA_CASE}".*?</li>\s*(?=<li|</ul>)', page, re.S).group(0)
    assert "Overdue" in ana
    case_page = text_of(client.get(f"/staff/cases/{ANA_CASE}"))
    assert 'data-testid="overdue"' in case_page and "Nobody has taken this case yet." in case_page
    db_execute(factory, "UPDATE escalations SET first_response_at = :d WHERE id = :i", d=now,
               i=ANA_CASE)  # answered: no longer overdue
    assert 'data-overdue="true"' not in text_of(client.get("/staff/"))


@pytest.mark.parametrize("status,expected", [("closed", [OLD_CASE]), ("resolved", []),
                                             ("all", [BEN_CASE, ANA_CASE, OLD_CASE]),
                                             ("open", [BEN_CASE, ANA_CASE]), ("mine", []),
                                             ("bogus", [BEN_CASE, ANA_CASE])])
def test_queue_filters(client, staff, status, expected):
    page = text_of(client.get(f"/staff/?status={status}"))
    assert _rows(page) == [str(i) for i in expected]
    if not expected:
        assert "No cases here" in page


def test_mine_lists_the_cases_the_signed_in_person_has(client, staff, factory):
    db_execute(factory, "UPDATE escalations SET status = 'with_agent', assigned_to = 9 "
                        "WHERE id = :i", i=ANA_CASE)
    assert _rows(text_of(client.get("/staff/?status=mine"))) == [str(ANA_CASE)]


def test_case_page_shows_customer_order_transcript_notes_audit_and_actions(client, staff,
                                                                          factory):
    db_execute(factory, "INSERT INTO case_notes (case_id, author_id, body, internal, created_at) "
                        "VALUES (:c, 9, 'Checked the account history', 1, CURRENT_TIMESTAMP)",
               c=BEN_CASE)
    page = text_of(client.get(f"/staff/cases/{BEN_CASE}"))
    assert 'data-testid="case-customer">Ben Carter</p>' in page
    assert "Order #2001" in page and "$89.99" in page and "Glass blender" in page
    transcript = re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)
    assert "the blender is cracked" in transcript and "fraud-review team" in transcript
    audit = re.search(r'data-testid="audit-events".*?</ol>', page, re.S).group(0)
    assert "<code>issue_refund</code>" in audit and "R2b fraud limit reached" in audit
    assert "R2 refund" not in audit  # only this ticket's events
    notes = re.search(r'data-testid="case-notes">.*?</ul>', page, re.S).group(0)
    assert "Checked the account history" in notes and "Sam Support" in notes
    for action in ("assign", "reply", "note", "decision", "handback", "settle"):
        assert f'action="/staff/cases/{BEN_CASE}/{action}"' in page
    assert 'data-testid="decision-panel"' in page  # a fraud review waits for a decision


def test_a_finished_case_shows_its_note_and_no_actions(client, staff):
    page = text_of(client.get(f"/staff/cases/{OLD_CASE}"))
    assert "Customer withdrew" in page and 'data-testid="case-actions"' not in page
    assert "/settle" not in page


@pytest.mark.parametrize("path,data,message", [
    ("settle", {"outcome": "resolved", "note": " "}, "Add a note"),
    ("reply", {"message": ""}, "Write a reply first."),
    ("note", {"body": ""}, "Write the note first."),
    ("decision", {"decision": "deny", "reason": ""}, "Give the reason"),
    ("decision", {}, "Choose approve or deny."),
])
def test_forms_are_checked_before_anything_is_sent(client, staff, factory, path, data, message):
    response = staff.post(f"/staff/cases/{BEN_CASE}/{path}", data)
    assert response.status_code == 400 and message in text_of(response)
    assert db_execute(factory, "SELECT status FROM escalations WHERE id = :i", i=BEN_CASE) == [
        ("open",)]


@pytest.mark.parametrize("path,data", [
    ("settle", {"outcome": "resolved", "note": "Approved the refund"}),
    ("assign", {}), ("reply", {"message": "Hello"}), ("handback", {}),
    ("decision", {"decision": "approve", "reason": ""}),
])
def test_with_the_api_down_nothing_changes(client, staff, factory, shop, path, data):
    response = staff.post(f"/staff/cases/{BEN_CASE}/{path}", data)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "nothing was changed" in page
    assert db_execute(factory, "SELECT status, resolution_note, decision FROM escalations "
                               "WHERE id = :i", i=BEN_CASE) == [("open", None, None)]
    assert db_execute(factory, "SELECT count(*) FROM refunds WHERE order_id = '2001'") == [(1,)]
    assert AuditLog(shop / "audit.jsonl").read(tool="case_" + path) == []


@pytest.mark.parametrize("path", ["settle", "assign", "reply", "note", "decision", "handback"])
def test_acting_on_a_missing_case_is_404(staff, path):
    data = {"outcome": "closed", "note": "x", "message": "x", "body": "x", "decision": "approve"}
    assert staff.post(f"/staff/cases/999/{path}", data).status_code == 404


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


def test_dashboard_numbers_for_the_people_in_the_loop(client, staff, factory):
    now = utcnow()
    db_execute(factory, "INSERT INTO tickets (user_id, status, user_input, intent, mode, "
                        "result_status, satisfied, created_at, updated_at) VALUES (3, 'resolved', "
                        "'where is it', 'status', 'llm', 'success', 1, :n, :n)", n=now)
    db_execute(factory, "UPDATE tickets SET satisfied = 0 WHERE id = :i", i=BEN_TICKET)
    db_execute(factory, "UPDATE escalations SET first_response_at = :r, decision = 'approved' "
                        "WHERE id = :i", r=now - timedelta(hours=1), i=BEN_CASE)  # 1 h to answer
    db_execute(factory, "UPDATE escalations SET first_response_at = :r, decision = 'denied', "
                        "created_at = :c WHERE id = :i", r=now, c=now - timedelta(hours=3),
               i=ANA_CASE)  # 3 h to answer
    db_execute(factory, "INSERT INTO outbox (message_id, user_id, kind, subject, body, "
                        "created_at, attempts, next_attempt_at) VALUES ('<m1@x>', 1, 'reply', "
                        "'s', 'b', :n, 2, :n)", n=now)
    page = text_of(client.get("/staff/dashboard"))
    # 3 answered tickets: the new one resolved by the assistant alone; Ana's and Ben's had cases
    assert _kpi(page, "kpi-containment") == (
        "Containment 33% 1 of 3 tickets resolved without a person")
    assert _kpi(page, "kpi-first-response").startswith(
        "First human response 2.0 h median over 2 cases")
    assert _kpi(page, "kpi-decisions") == "Approvals vs denials 1 / 1 refunds that needed a person"
    assert _kpi(page, "kpi-mail").startswith("E-mail waiting 1 oldest since")
    person = re.search(r'data-testid="csat-person">.*?</table>', page, re.S).group(0)
    assert re.search(r"with a person</td><td[^>]*>0%</td><td[^>]*>1<", person)
    assert re.search(r"assistant only</td><td[^>]*>100%</td><td[^>]*>1<", person)
    brain = re.search(r'data-testid="csat-mode">.*?</table>', page, re.S).group(0)
    assert "llm" in brain and "offline" in brain
    intent = re.search(r'data-testid="csat-intent">.*?</table>', page, re.S).group(0)
    assert "Order status" in intent and "Refund" in intent


def test_queue_cards_show_the_last_message_and_an_unread_dot_when_the_customer_wrote(
        client, staff, factory):
    page = text_of(client.get("/staff/"))
    ben = re.search(rf'data-case-id="{BEN_CASE}">.*?</li>', page, re.S).group(0)
    assert "Assistant:</span> I&#39;ve passed this to our fraud-review team." in ben
    assert 'data-testid="unread"' not in ben
    db_execute(factory, "INSERT INTO messages (conversation_id, role, content, ticket_id, "
                        "created_at) VALUES ('conv-ben', 'user', 'Any news?', :t, "
                        "CURRENT_TIMESTAMP)", t=BEN_TICKET)
    ben = re.search(rf'data-case-id="{BEN_CASE}">.*?</li>', text_of(client.get("/staff/")),
                    re.S).group(0)
    assert 'data-testid="unread"' in ben and "Customer:</span> Any news?" in ben
    client.get(f"/staff/cases/{BEN_CASE}")
    ben = re.search(rf'data-case-id="{BEN_CASE}">.*?</li>', text_of(client.get("/staff/")),
                    re.S).group(0)
    assert 'data-testid="unread"' not in ben


def test_a_rating_given_before_any_person_was_involved_counts_as_assistant_only(
        client, staff, factory):
    """Black-box report bb5: an unhappy rating opens a case (kind `unsatisfied`); that case came
    after the rating, so the rating was not one given "with a person"."""
    db_execute(factory, "UPDATE tickets SET satisfied = 0, rating = 1 WHERE id = :i",
               i=ANA_TICKET)  # Ana's only case is the one her rating opened
    db_execute(factory, "UPDATE tickets SET satisfied = 1, rating = 5 WHERE id = :i",
               i=BEN_TICKET)  # Ben's fraud review had a person on it before he rated
    page = text_of(client.get("/staff/dashboard"))
    person = re.search(r'data-testid="csat-person">.*?</table>', page, re.S).group(0)
    assert re.search(r"assistant only</td><td[^>]*>0%</td><td[^>]*>1<", person)
    assert re.search(r"with a person</td><td[^>]*>100%</td><td[^>]*>1<", person)
