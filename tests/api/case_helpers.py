"""A shop with staff for the Staff API tests, and the steps that put a case in the queue."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from audit.audit_log import AuditLog
from db.engine import transaction
from db.fixture_schema import parse_fixture
from db.models import OutboxMail, Refund
from db.seed import load_fixture
from tests.api.conftest import KEY, resolve
from tests.conftest import iso, order, users

SAM, RITA = 9, 8
STAFF = [{"id": SAM, "name": "Sam Support", "email": "sam@example.com", "password": "pw-sam-9x",
          "role": "staff"},
         {"id": RITA, "name": "Rita Ops", "email": "rita@example.com", "password": "pw-rita-8x",
          "role": "staff"}]


def shop() -> dict:
    return {"users": users(1, 2, 3) + STAFF, "orders": [
        order("1042", 1, "delivered", 59.99, delivered_days_ago=5),
        order("1044", 1, "delivered", 649.00, delivered_days_ago=3),
        order("2001", 2, "delivered", 20.00, delivered_days_ago=2),
        order("2002", 2, "delivered", 30.00, delivered_days_ago=2),
        order("2003", 2, "delivered", 35.00, delivered_days_ago=2),
        order("3001", 3, "processing", 12.00),
    ], "refunds": [  # user 2 is at the fraud limit (R2b)
        {"order_id": "2001", "user_id": 2, "amount": 20.00, "created_at": iso(3)},
        {"order_id": "2002", "user_id": 2, "amount": 30.00, "created_at": iso(2)},
    ]}


@pytest.fixture
def staff_db(services):
    load_fixture(services.session_factory, parse_fixture(shop()), reset=True)
    return services


@pytest.fixture
def api(api_settings, staff_db):
    return TestClient(create_app(api_settings, staff_db), raise_server_exceptions=False)


def cases(api, **query) -> list[dict]:
    """The queue as Sam (staff) reads it; `staff_id` is required (SPEC Staff API)."""
    response = api.get("/cases", params={"staff_id": SAM, **query}, headers=KEY)
    assert response.status_code == 200, response.text[:500]
    return response.json()["cases"]


def act(api, case_id: int, step: str, staff_id: int = SAM, **body):
    return api.post(f"/cases/{case_id}/{step}", json={"staff_id": staff_id, **body}, headers=KEY)


def ok(response) -> dict:
    assert response.status_code == 200, response.text[:500]
    return response.json()


def error_code(response, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert set(response.json()) == {"error"}
    return response.json()["error"]["code"]


def ask_for_a_person(api, user_id: int = 1, text: str = "I want to talk to a real person"
                     ) -> dict:
    made = resolve(api, text, user_id=user_id).json()
    assert made["action_result"]["status"] == "escalated", made
    return made


def high_value_case(api) -> tuple[dict, dict]:
    """User 1 asks for the $649 refund and confirms the offer: the case waits for a person."""
    offer = resolve(api, "I want a refund for order 1044, it arrived broken").json()
    assert offer["action_result"]["status"] == "needs_confirmation", offer
    done = api.post("/support/confirm", json={"user_id": 1,
                                              "proposal_id": offer["proposal"]["id"]},
                    headers=KEY).json()
    assert done["action_result"]["status"] == "escalated", done
    [case] = [c for c in cases(api) if c["order_id"] == "1044"]
    return done, case


def fraud_case(api) -> tuple[dict, dict]:
    """User 2, at the fraud limit, asks for a third refund: denied and sent to review."""
    made = resolve(api, "I want a refund for order 2003, it arrived broken", user_id=2).json()
    assert made["action_result"]["status"] == "denied", made
    [case] = [c for c in cases(api) if c["order_id"] == "2003"]
    return made, case


def audit_since(path, before: int) -> list[dict]:
    """Audit records written after the first `before` (the log outlives each test's data)."""
    return AuditLog(path).read()[before:]


def audit_count(path) -> int:
    return len(AuditLog(path).read())


def outbox(factory) -> list[OutboxMail]:
    with transaction(factory) as s:
        return list(s.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def refund_cents(factory, order_id: str) -> list[int]:
    """The amounts (cents) refunded for an order, oldest first."""
    with transaction(factory) as s:
        return list(s.scalars(select(Refund.amount_cents).where(Refund.order_id == order_id)
                              .order_by(Refund.id)))
