"""The portal against the real agent API (uvicorn in a subprocess): queued requests processed
when the API is back (on the next view and by the background loop), follow-up replies,
feedback that escalates, and the API's refusals."""

from __future__ import annotations

import re
import time

import pytest

from frontend.app import create_app
from tests.e2e.servers import API_KEY, CUSTOMERS, PASSWORD, STAFF
from tests.frontend.conftest import ANA_QUEUED, Auth, db_execute, portal_config, text_of


def _portal(stack, api_url=None, **extra):
    config = {"TESTING": True, "QUEUE_RETRY_BACKOFF": 0.0,
              **stack.portal_config(**({"api_url": api_url} if api_url else {})), **extra}
    return create_app(config)


@pytest.fixture
def live(api_stack):
    """The portal with the agent service up."""
    return _portal(api_stack)


@pytest.fixture
def down(api_stack, closed_port):
    """The same portal and database, but the agent service unreachable."""
    return _portal(api_stack, f"http://127.0.0.1:{closed_port}")


def signed_in(app, who: dict) -> Auth:
    auth = Auth(app.test_client())
    assert auth.login(who["email"], who.get("password", PASSWORD)).status_code == 302
    return auth


def ticket_id_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.fullmatch(r"/tickets/(\d+)(?:#latest)?", response.headers["Location"]).group(1))


def _state(app, ticket_id):
    factory = app.extensions["supportops_portal"].factory
    return db_execute(factory, "SELECT status, action, result_status, conversation_id, user_id "
                               "FROM tickets WHERE id = :i", i=ticket_id)[0]


def press(auth, ticket_id: int, button: str = "confirm") -> str:
    """Press Confirm (or Not now) on the offer card of the ticket page; returns the page after."""
    page = text_of(auth.client.get(f"/tickets/{ticket_id}"))
    action = re.search(rf'action="(/tickets/{ticket_id}/offers/p_[\w-]+/{button})"', page)
    assert action, "no offer card on the page"
    response = auth.post(action.group(1), {})
    assert response.status_code == 302
    return text_of(auth.client.get(response.headers["Location"]))


def _refunds(app, order_id):
    factory = app.extensions["supportops_portal"].factory
    return db_execute(factory, "SELECT amount_cents FROM refunds WHERE order_id = :o", o=order_id)


def test_a_queued_request_is_processed_on_the_next_view_once_the_api_is_back(live, down):
    chloe = CUSTOMERS["queue"]
    offline = signed_in(down, chloe)
    text = f"I want a refund for order {chloe['order']}, it arrived broken"
    ticket_id = ticket_id_from(offline.post("/tickets/new", {"message": text, "order_id": ""}))
    page = text_of(offline.client.get(f"/tickets/{ticket_id}", follow_redirects=True))
    assert "saved your request" in page
    assert _state(down, ticket_id)[:2] == ("queued", None) and _refunds(down, chloe["order"]) == []

    online = signed_in(live, chloe)
    page = text_of(online.client.get(f"/tickets/{ticket_id}"))
    assert 'data-testid="offer-card"' in page and "$50.00" in page
    assert _refunds(live, chloe["order"]) == []  # R11: nothing moves before the customer's yes
    assert 'data-testid="queued-notice"' not in page
    page = press(online, ticket_id)
    receipt = re.search(r'data-testid="receipt".*?</dl>', page, re.S).group(0)
    assert "Refund of $50.00 sent" in receipt
    assert 'data-testid="offer-card"' not in page and 'data-testid="rate-5"' in page
    status, action, outcome, conversation_id, user_id = _state(live, ticket_id)
    assert (status, action, outcome, user_id) == ("resolved", "issue_refund", "success",
                                                  chloe["id"])
    assert conversation_id and _refunds(live, chloe["order"]) == [(5000,)]
    # Viewing again does not send it again.
    online.client.get(f"/tickets/{ticket_id}")
    online.client.get("/tickets/")
    assert _refunds(live, chloe["order"]) == [(5000,)]


def test_the_background_loop_processes_queued_requests(api_stack, down):
    david = CUSTOMERS["worker"]
    offline = signed_in(down, david)
    ticket_id = ticket_id_from(offline.post("/tickets/new", {
        "message": f"Please refund order {david['order']}, it arrived damaged", "order_id": ""}))
    assert _state(down, ticket_id)[0] == "queued"

    app = _portal(api_stack, TESTING=False, QUEUE_RETRY_INTERVAL=0.2)
    worker = app.extensions["supportops_retry_worker"]
    try:
        deadline = time.monotonic() + 60
        while _state(app, ticket_id)[0] == "queued" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stop()
        worker.join(timeout=30)
    assert _state(app, ticket_id)[:3] == ("awaiting_customer", "issue_refund",
                                          "needs_confirmation")
    assert _refunds(app, david["order"]) == []
    press(signed_in(app, david), ticket_id)
    assert _state(app, ticket_id)[:3] == ("resolved", "issue_refund", "success")
    assert _refunds(app, david["order"]) == [(5500,)]


def test_a_reply_continues_the_same_conversation(live):
    emma = CUSTOMERS["follow"]
    auth = signed_in(live, emma)
    first = ticket_id_from(auth.post("/tickets/new", {"message": "Where is my order?",
                                                      "order_id": emma["order"]}))
    page = text_of(auth.client.get(f"/tickets/{first}"))
    receipt = re.search(r'data-testid="receipt".*?</dl>', page, re.S).group(0)
    assert "Order #5501: delivered" in receipt and "UPS 1Z5501" in receipt
    conversation_id = _state(live, first)[3]

    second = ticket_id_from(auth.post(f"/tickets/{first}/reply",
                                      {"message": "Thanks! And what carrier is it with?"}))
    assert _state(live, second)[3] == conversation_id
    page = text_of(auth.client.get(f"/tickets/{second}"))
    transcript = re.search(r'data-testid="transcript">.*?</ol>', page, re.S).group(0)
    assert transcript.count("chat-row-user") == 2 and transcript.count("chat-row-assistant") == 2
    assert "Where is my order? (order #5501)" in transcript and "what carrier" in transcript


def test_unsatisfied_feedback_escalates_and_staff_resolve_the_case(live):
    farid = CUSTOMERS["feedback"]
    auth = signed_in(live, farid)
    ticket_id = ticket_id_from(auth.post("/tickets/new", {
        "message": f"What's the status of order {farid['order']}?", "order_id": ""}))
    response = auth.post(f"/tickets/{ticket_id}/feedback",
                         {"rating": "2", "comment": "I need it sooner"})  # 1-2: not satisfied
    assert response.headers["Location"] == f"/tickets/{ticket_id}#latest"
    page = text_of(auth.client.get(f"/tickets/{ticket_id}"))
    assert 'data-testid="ticket-status"><span class="badge text-bg-warning' in page
    assert "Passed to a person on our team" in page
    assert "You said you were <strong>not satisfied</strong> and rated it 2/5" in page
    factory = live.extensions["supportops_portal"].factory
    [(case_id, kind, status)] = db_execute(
        factory, "SELECT id, kind, status FROM escalations WHERE ticket_id = :t", t=ticket_id)
    assert (kind, status) == ("unsatisfied", "open")

    staff = signed_in(live, STAFF)
    assert f'data-case-id="{case_id}">' in text_of(staff.client.get("/staff/"))
    case_page = text_of(staff.client.get(f"/staff/cases/{case_id}"))
    assert farid["name"] in case_page and "What&#39;s the status of order 5601?" in case_page
    assert "<code>get_order_status</code>" in case_page and "<code>escalate_case</code>" in case_page
    staff.post(f"/staff/cases/{case_id}/settle",
               {"outcome": "resolved", "note": "Upgraded to express shipping."})
    page = text_of(auth.client.get(f"/tickets/{ticket_id}"))
    assert "Upgraded to express shipping." in page and 'data-status="resolved"' in page


def test_one_form_sent_twice_runs_once_and_a_changed_form_is_a_new_request(live):
    hugo = CUSTOMERS["repeat"]
    auth = signed_in(live, hugo)
    form = {"message": f"I want a refund for order {hugo['order']}, it arrived broken",
            "order_id": "", "request_key": "cd" * 16}
    first = ticket_id_from(auth.post("/tickets/new", form))
    again = ticket_id_from(auth.post("/tickets/new", form))
    assert again == first
    offers = db_execute(live.extensions["supportops_portal"].factory,
                        "SELECT count(*) FROM proposals WHERE order_id = :o", o=hugo["order"])
    assert offers == [(1,)]  # one offer, not two
    press(auth, first)
    press_again = auth.client.get(f"/tickets/{first}")
    assert 'data-testid="offer-card"' not in text_of(press_again)
    assert _refunds(live, hugo["order"]) == [(7000,)]
    # Back button, new words, same form: a new request, not an error.
    changed = ticket_id_from(auth.post("/tickets/new", {**form, "message": "Where is my order?"}))
    assert changed != first
    assert _state(live, changed)[:2] == ("resolved", "get_order_status")


def test_a_request_the_api_refuses_is_explained_not_queued(api_stack, shop):
    """The shop's customer #1 does not exist in the API's database: the API answers 404."""
    app = create_app(portal_config(shop, api_stack.url, support_api_key=API_KEY))
    auth = Auth(app.test_client())
    auth.login("ana@example.com")
    response = auth.post("/tickets/new", {"message": "Where is order 1002?", "order_id": ""})
    assert response.status_code == 400
    assert "We couldn&#39;t take that request: No user with id 1." in text_of(response)
    factory = app.extensions["supportops_portal"].factory
    assert db_execute(factory, "SELECT count(*) FROM tickets") == [(3,)]
    # A queued ticket the API refuses for good is closed with the reason, its text kept.
    page = text_of(auth.client.get(f"/tickets/{ANA_QUEUED}"))
    assert "couldn&#39;t process this request automatically" in page
    assert db_execute(factory, "SELECT status, user_input FROM tickets WHERE id = :i",
                      i=ANA_QUEUED) == [("closed", "Where is my order 1002?")]


def test_a_wrong_service_key_keeps_the_request_queued(api_stack, shop):
    app = create_app(portal_config(shop, api_stack.url, support_api_key="not-the-key"))
    auth = Auth(app.test_client())
    auth.login("ana@example.com")
    ticket_id = ticket_id_from(auth.post("/tickets/new", {"message": "Where is order 1002?",
                                                          "order_id": ""}))
    factory = app.extensions["supportops_portal"].factory
    assert db_execute(factory, "SELECT status FROM tickets WHERE id = :i", i=ticket_id) == [
        ("queued",)]


def test_a_request_that_timed_out_is_replayed_not_run_twice(api_stack, live):
    """The API acts but answers after the portal gave up: the retry must not act again."""
    iris = CUSTOMERS["timeout"]
    impatient = _portal(api_stack, api_timeout_seconds=0.003)
    auth = signed_in(impatient, iris)
    ticket_id = ticket_id_from(auth.post("/tickets/new", {
        "message": f"I want a refund for order {iris['order']}, it arrived broken",
        "order_id": "", "request_key": "ef" * 16}))
    assert _state(impatient, ticket_id)[0] == "queued"
    factory = live.extensions["supportops_portal"].factory

    def offers():
        return db_execute(factory, "SELECT ticket_id FROM proposals WHERE order_id = :o",
                          o=iris["order"])
    deadline = time.monotonic() + 30
    while not offers() and time.monotonic() < deadline:
        time.sleep(0.1)  # the API finishes the request the portal stopped waiting for
    [(answered,)] = offers()

    online = signed_in(live, iris)
    page = text_of(online.client.get(f"/tickets/{ticket_id}"))
    assert len(offers()) == 1  # replayed, not proposed again
    assert _state(live, ticket_id)[0] == "closed"
    assert f"This request was answered in ticket #{answered}" in page
    press(online, answered)
    assert _refunds(live, iris["order"]) == [(7500,)]
