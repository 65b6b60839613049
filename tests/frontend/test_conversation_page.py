"""The ticket page as a conversation (Flask test client, the agent service down): clickable
replies from the ticket's own result, greetings and thanks without a ticket, the rating only
when it makes sense, sign-in after an expired session back to the page, and the help centre."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from frontend.app import create_app
from frontend.services.small_talk import is_small_talk
from tests.frontend.conftest import ANA_TICKET, db_execute, portal_config, text_of


def _set_result(factory, ticket_id: int, status: str, result: dict, action: str = "none",
                ticket_status: str = "awaiting_customer") -> None:
    db_execute(factory, "UPDATE tickets SET result_status = :s, result = :r, action = :a, "
                        "status = :t WHERE id = :i", s=status, r=json.dumps(result), a=action,
               t=ticket_status, i=ticket_id)


def _tickets(factory) -> int:
    return db_execute(factory, "SELECT count(*) FROM tickets")[0][0]


def test_the_assistants_question_becomes_order_cards_of_the_customers_own_orders(client, auth,
                                                                               factory):
    _set_result(factory, ANA_TICKET, "needs_info",
                {"status": "needs_info", "reason": "R7 which order: 2 could fit.", "asking": True,
                 "choices": ["#1001 (…)", "#1002 (…)"], "choice_ids": ["1001", "1002", "2001"]})
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    cards = re.findall(r'data-testid="order-pick" data-order-id="(\w+)"', page)
    assert cards == ["1001", "1002"]  # 2001 is Ben's: never shown (R1)
    assert '<input type="hidden" name="message" value="Order #1001">' in page
    assert "Mechanical keyboard, Wireless mouse" in page and "OLED television" in page
    assert 'data-testid="rate-' not in page  # a question is open: no rating yet
    assert "R7" not in re.sub(r"<[^>]+>", " ", page)


def test_a_refusal_offers_follow_ups_and_a_person(client, auth, factory):
    _set_result(factory, ANA_TICKET, "denied",
                {"status": "denied", "reason": "R2 refund window: delivered 40 days ago."},
                action="issue_refund", ticket_status="resolved")
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    assert "We couldn&#39;t refund order #1001" in page
    assert 'value="Could I get a replacement instead?"' in page
    assert ">Ask about a replacement instead</button>" in page
    assert 'data-testid="talk-to-person"' in page
    assert "I&#39;d like to talk to a person, please." in page


@pytest.mark.parametrize("text,small", [("hi", True), ("Hello there!", True), ("thanks!", True),
                                        ("ok thanks, bye", True), ("Good morning", True),
                                        ("hi, refund order 1001", False),
                                        ("thanks, where is my order?", False), ("no", False),
                                        ("yes", False)])
def test_what_counts_as_a_greeting_or_thanks(text, small):
    assert is_small_talk(text) is small


def test_a_greeting_on_a_new_request_is_answered_without_a_ticket(client, auth, factory):
    auth.login("ana@example.com")
    before = _tickets(factory)
    response = auth.post("/tickets/new", {"message": "Hi there!", "order_id": ""})
    assert response.status_code == 200
    page = text_of(response)
    assert "Hi, Ana! Tell us what you need" in page and "Hi there!" in page
    assert _tickets(factory) == before
    assert 'name="message"' in page and "Hi there!</textarea>" not in page  # a fresh composer


def test_thanks_with_nothing_open_stays_in_the_conversation_without_a_ticket(client, auth,
                                                                            factory):
    auth.login("ana@example.com")
    before = _tickets(factory)
    page = text_of(auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": "thanks!"}))
    assert "You&#39;re welcome, Ana!" in page and _tickets(factory) == before
    assert page.count('id="latest"') == 1


def test_thanks_while_an_offer_or_question_is_open_goes_to_the_assistant(client, auth, factory):
    _set_result(factory, ANA_TICKET, "needs_info", {"status": "needs_info", "reason": "Which?"})
    auth.login("ana@example.com")
    before = _tickets(factory)
    response = auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": "thanks"})
    assert response.status_code == 302  # sent on (the service is down here: queued, not lost)
    assert _tickets(factory) == before + 1


def test_no_rating_while_a_question_is_open_even_if_posted(client, auth, factory):
    _set_result(factory, ANA_TICKET, "needs_info", {"status": "needs_info", "reason": "Which?"})
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/feedback", {"rating": "1"})
    assert response.headers["Location"] == f"/tickets/{ANA_TICKET}#latest"
    assert "once it is finished" in text_of(client.get(response.headers["Location"]))
    assert db_execute(factory, "SELECT satisfied FROM tickets WHERE id = 1") == [(None,)]


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(client, auth):
    auth.login("ana@example.com")
    token = auth.token()
    client.delete_cookie("session")  # the session ends while the customer types
    response = client.post(f"/tickets/{ANA_TICKET}/reply",
                           data={"message": "my words", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2Ftickets%2F{ANA_TICKET}"
    page = text_of(client.get(response.headers["Location"]))
    assert "Your session ended, so nothing was sent" in page
    assert f'value="/tickets/{ANA_TICKET}"' in page  # the sign-in form returns there


def test_a_stale_form_while_signed_in_is_still_explained(client, auth):
    auth.login("ana@example.com")
    response = client.post(f"/tickets/{ANA_TICKET}/reply", data={"message": "x",
                                                                "csrf_token": "stale"})
    assert response.status_code == 400 and "Your form expired" in text_of(response)


def test_the_composer_keeps_a_draft_key_per_customer_and_conversation(client, auth):
    auth.login("ana@example.com")
    page = text_of(client.get(f"/tickets/{ANA_TICKET}"))
    assert 'data-draft-key="u1:cconv-ana"' in page and "data-live" in page
    assert 'data-draft-key="u1:new"' in text_of(client.get("/tickets/new"))


def test_the_help_centre_is_public_and_readable(client):
    page = text_of(client.get("/help/"))
    assert 'href="/help/refund-policy"' in page and ">Refund Policy</span>" in page
    assert ".md" not in re.sub(r"<[^>]+>", " ", page)
    article = text_of(client.get("/help/refund-policy"))
    assert '<h1 class="h3 mb-3" id="article-h">Refund Policy</h1>' in article
    assert '<h2 id="refund-window">Refund window</h2>' in article
    assert client.get("/help/no-such-topic").status_code == 404
    assert client.get("/help/..%2Fconfig").status_code == 404


def test_help_search_falls_back_to_words_when_the_service_is_down(client):
    page = text_of(client.get("/help/?q=refund+window"))
    assert "simple word matches" in page
    assert 'href="/help/refund-policy#refund-window">Refund window</a>' in page


def test_proxy_and_secure_cookie_settings(shop, closed_port):
    app = create_app(portal_config(shop, f"http://127.0.0.1:{closed_port}",
                                   PORTAL_PROXY_HOPS=1, PORTAL_SECURE_COOKIES="1"))
    try:
        assert isinstance(app.wsgi_app, ProxyFix)
        assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
        seen = {}

        @app.get("/_whoami")
        def _whoami():
            from flask import request
            seen.update(addr=request.remote_addr, scheme=request.scheme)
            return "ok"

        app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9",
                                                   "X-Forwarded-Proto": "https"})
        assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    finally:
        app.extensions["supportops_portal"].engine.dispose()


def test_make_run_serves_the_portal_with_gunicorn():
    from scripts.run_local import portal_command

    command = portal_command()
    assert command[1:3] == ["-m", "gunicorn"] and "frontend.app:create_app()" in command
    assert "flask" not in command
