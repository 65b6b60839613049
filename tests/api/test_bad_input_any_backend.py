"""Bad input is a 4xx on SQLite and on PostgreSQL alike (issue 12): NUL characters in any text
field or URL, and ids beyond what an integer column holds (a ticket_id above 2**31)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agents.factory import services_for
from api.main import create_app
from db.fixture_schema import parse_fixture
from db.seed import load_fixture
from tests.api.case_helpers import SAM, shop
from tests.api.conftest import KEY

BIG = 2**31
HUGE = 2**40

REQUESTS = [
    ("post", "/support/resolve", {"user_input": "refund order 1042\x00", "user_id": 1}),
    ("post", "/support/resolve", {"user_input": "hi", "user_id": 1, "conversation_id": "c\x00"}),
    ("post", "/support/resolve", {"user_input": "hi", "user_id": 1, "ticket_id": BIG}),
    ("post", "/support/resolve", {"user_input": "hi", "user_id": 1, "ticket_id": HUGE}),
    ("post", "/support/resolve", {"user_input": "hi", "user_id": BIG}),
    ("post", "/support/resolve", {"user_input": "hi", "user_id": -BIG - 1}),
    ("post", "/support/confirm", {"user_id": 1, "proposal_id": "p_\x00"}),
    ("post", "/support/confirm", {"user_id": HUGE, "proposal_id": "p_1"}),
    ("post", "/support/decline", {"user_id": HUGE, "proposal_id": "p_1"}),
    ("get", f"/tickets/{BIG}", None),
    ("get", f"/tickets/{HUGE}?user_id={HUGE}", None),
    ("get", f"/tickets?user_id={HUGE}", None),
    ("post", f"/tickets/{HUGE}/feedback", {"satisfied": False}),
    ("post", "/tickets/1/feedback", {"satisfied": False, "comment": "bad\x00"}),
    ("get", "/conversation/abc%00def", None),
    ("get", f"/conversation/abc?user_id={HUGE}", None),
    ("delete", "/conversation/abc%00", None),
    ("get", f"/cases/{HUGE}", None),
    ("get", f"/cases?staff_id={HUGE}", None),
    ("post", "/cases/1/assign", {"staff_id": HUGE}),
    ("post", "/cases/1/assign", {"staff_id": SAM, "assignee_id": HUGE}),
    ("post", f"/cases/{HUGE}/reply", {"staff_id": SAM, "message": "hello"}),
    ("post", "/cases/1/reply", {"staff_id": SAM, "message": "hel\x00lo"}),
    ("post", "/cases/1/note", {"staff_id": SAM, "body": "\x00"}),
    ("post", "/cases/1/decision", {"staff_id": SAM, "decision": "deny", "reason": "no\x00"}),
    ("post", "/cases/1/resolve", {"staff_id": SAM, "note": "done\x00"}),
    ("get", "/tickets?user_id=1&x=%00", None),
]


@pytest.fixture
def client_on(any_backend, services):
    made = services_for(any_backend, services)
    load_fixture(made.session_factory, parse_fixture(shop()), reset=True)
    yield TestClient(create_app(any_backend, made), raise_server_exceptions=False)
    made.engine.dispose()


def test_nul_characters_and_out_of_range_ids_are_4xx(client_on):
    client = client_on
    # a real ticket and case to aim at, so the bad value is the only thing wrong
    made = client.post("/support/resolve", headers=KEY,
                       json={"user_input": "I want to talk to a real person", "user_id": 1})
    assert made.status_code == 200
    answers = {}
    for method, path, body in REQUESTS:
        response = client.request(method.upper(), path, json=body, headers=KEY)
        answers[(method, path, str(body))] = response.status_code
        assert 400 <= response.status_code < 500, (method, path, body, response.text[:300])
        assert set(response.json()) == {"error"}
    # nothing out of range ever gets as far as the database's own range check
    assert client.get("/health").json()["database"] == "ok"


def test_nul_is_refused_before_anything_is_stored(client_on):
    response = client_on.post("/support/resolve", headers=KEY,
                              json={"user_input": "refund order 1042\x00", "user_id": 1})
    assert response.status_code == 422 and "NUL" in response.json()["error"]["message"]
    tickets = client_on.get("/tickets?user_id=1", headers=KEY).json()
    assert tickets["tickets"] == [] if isinstance(tickets, dict) else tickets == []
