"""Findings of a black-box tester, reproduced first: a "thanks!" answered with words that
disagree with the status badge; dates written two ways; the assistant's confidence shown to
staff as a bare percentage. (The browser-only ones are in tests/e2e/test_portal_fixes.py.)"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from frontend.filters import date, datetime_utc, iso_utc
from frontend.services import small_talk
from tests.frontend.conftest import ANA_CASE, ANA_TICKET, BEN_CASE, db_execute, text_of

MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
OTHER_DATE_STYLES = (rf"\b{MONTH} \d{{1,2}}, \d{{4}}", r"\b\d{4}-\d{2}-\d{2}\b",
                     r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _badge(page: str) -> str:
    return re.search(r'data-testid="ticket-status"><span [^>]*>([^<]+)<', page).group(1)


def test_thanks_on_a_resolved_request_agrees_with_its_badge(client, auth):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{ANA_TICKET}/reply", {"message": "thanks!"})
    page = text_of(response)
    assert response.status_code == 200 and _badge(page) == "Resolved"
    answer = re.search(r'id="latest"[^>]*>.*?preserve-lines">([^<]+)<', page, re.S).group(1)
    assert answer.startswith("You&#39;re welcome, Ana!")
    assert "is resolved" in answer and "open" not in answer


@pytest.mark.parametrize("status,says,never", [
    ("resolved", "This request is resolved", "open"),
    ("closed", "This request is closed", "open"),
    ("open", "This request is still open", "resolved"),
    (None, "just tell us here", "request"),
])
def test_thanks_says_what_the_status_says(status, says, never):
    answer = small_talk.reply_to("thanks!", "Ana", status)
    assert answer.startswith("You're welcome, Ana!") and says in answer and never not in answer


def test_portal_dates_are_written_one_way():
    moment = datetime(2026, 11, 5, 9, 7, 3)
    assert date(moment) == "5 Nov 2026"
    assert datetime_utc(moment) == "5 Nov 2026, 09:07 UTC"
    assert iso_utc("2026-11-05T09:07:03Z") == "5 Nov 2026, 09:07:03 UTC"


@pytest.mark.parametrize("who,paths", [
    ("ana@example.com", ["/account", "/tickets/", f"/tickets/{ANA_TICKET}", "/orders/"]),
    ("staff@example.com", ["/staff/", "/staff/dashboard", "/staff/policies/",
                           f"/staff/cases/{BEN_CASE}", f"/staff/cases/{ANA_CASE}"]),
])
def test_no_page_writes_a_date_another_way(client, auth, who, paths):
    auth.login(who)
    for path in paths:
        visible = _visible(text_of(client.get(path)))
        for style in OTHER_DATE_STYLES:
            assert not re.search(style, visible), (path, style, re.search(style, visible))
    assert re.search(rf"\b\d{{1,2}} {MONTH} \d{{4}}\b", visible)  # the last page has dates


def test_staff_see_what_the_assistant_understood_in_words(client, auth, factory):
    db_execute(factory, "UPDATE escalations SET summary = :s WHERE id = :i", i=ANA_CASE,
               s="Customer: Ana Diaz (user 1). Order: #1001.\nUnderstood: refund (confidence "
                 "0.98).\nAgent did: no automatic action")
    auth.login("staff@example.com")
    page = text_of(client.get(f"/staff/cases/{ANA_CASE}"))
    understood = re.search(r'data-testid="understood-as">(.*?)</dd>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>|\s+", " ", understood).split() == ["Refund", "(sure)"]
    assert "Understood: refund (sure)." in page
    visible = _visible(page)
    assert not re.search(r"\d\s?%", visible)
    assert not re.search(r"confidence \d", visible)


@pytest.mark.parametrize("confidence,words", [(0.97, "sure"), (0.9, "sure"), (0.75, "fairly sure"),
                                              (0.6, "fairly sure"), (0.45, "unsure")])
def test_confidence_in_words(client, auth, factory, confidence, words):
    db_execute(factory, "UPDATE tickets SET confidence = :c WHERE id = :i", c=confidence,
               i=ANA_TICKET)
    auth.login("staff@example.com")
    page = text_of(client.get(f"/staff/cases/{ANA_CASE}"))
    assert re.search(rf'data-testid="understood-as">Refund <span[^>]*>\({words}\)</span>', page)
