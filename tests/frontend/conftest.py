"""Portal tests with Flask's test client, on a real SQLite database seeded from a fixture.

A template database is built once per session (users, orders, refunds from a fixture;
tickets, conversations and escalation cases the agent would have written) and copied
for every test, so each test starts from the same known shop. Tests that need the
agent service use the real API from tests/e2e/servers.py.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.trail import AuditTrail
from config import ROOT
from db.engine import create_schema, make_engine, make_session_factory, transaction
from db.fixture_schema import parse_fixture
from db.models import Conversation, EscalationCase, Message, Ticket, utcnow
from db.seed import load_fixture
from frontend.app import create_app
from tests.e2e.servers import api_stack, free_port  # noqa: F401

PASSWORDS = {"ana@example.com": "ana-password-1", "ben@example.com": "ben-password-2",
             "cleo@example.com": "cleo-password-3", "staff@example.com": "staff-password-9"}


def _iso(days_ago: float) -> str:
    return (utcnow() - timedelta(days=days_ago)).replace(microsecond=0).isoformat() + "Z"


SHOP = {
    "users": [
        {"id": 1, "name": "Ana Diaz", "email": "ana@example.com", "password": PASSWORDS["ana@example.com"]},
        {"id": 2, "name": "Ben Carter", "email": "ben@example.com", "password": PASSWORDS["ben@example.com"]},
        {"id": 3, "name": "Cleo Park", "email": "cleo@example.com", "password": PASSWORDS["cleo@example.com"]},
        {"id": 9, "name": "Sam Support", "email": "staff@example.com",
         "password": PASSWORDS["staff@example.com"], "role": "staff"},
    ],
    "orders": [
        {"id": "1001", "user_id": 1, "status": "delivered", "total": 84.49,
         "items": [{"sku": "KB-01", "name": "Mechanical keyboard", "qty": 1, "price": 59.99},
                   {"sku": "MS-02", "name": "Wireless mouse", "qty": 1, "price": 24.50}],
         "ordered_at": _iso(12), "shipped_at": _iso(11), "delivered_at": _iso(8),
         "carrier": "UPS", "tracking_number": "1ZANA1001"},
        {"id": "1002", "user_id": 1, "status": "pending", "total": 1234.50,
         "items": [{"sku": "TV-01", "name": "OLED television", "qty": 1, "price": 1234.50}],
         "ordered_at": _iso(1)},
        {"id": "1003", "user_id": 1, "status": "cancelled", "total": 19.99,
         "items": [{"sku": "TS-09", "name": "Cotton T-shirt", "qty": 1, "price": 19.99}],
         "ordered_at": _iso(20)},
        {"id": "2001", "user_id": 2, "status": "delivered", "total": 89.99,
         "items": [{"sku": "BL-07", "name": "Glass blender", "qty": 1, "price": 89.99}],
         "ordered_at": _iso(9), "shipped_at": _iso(8), "delivered_at": _iso(6),
         "carrier": "FedEx", "tracking_number": "FX2001"},
    ],
    "refunds": [
        {"order_id": "1003", "user_id": 1, "amount": 19.99, "kind": "cancellation",
         "created_at": _iso(19)},
        {"order_id": "2001", "user_id": 2, "amount": 89.99, "created_at": _iso(2)},
    ],
}

ANA_TICKET, BEN_TICKET, ANA_QUEUED = 1, 2, 3
BEN_CASE, ANA_CASE, OLD_CASE = 1, 2, 3


def _agent_history(factory, audit: AuditTrail) -> None:
    """What the agent service would have written: tickets, conversations, cases, audit lines."""
    now = utcnow()
    with transaction(factory) as s:
        s.add_all([Conversation(id="conv-ana", user_id=1, state={}),
                   Conversation(id="conv-ben", user_id=2, state={})])
        s.flush()
        s.add_all([
            Ticket(id=ANA_TICKET, user_id=1, conversation_id="conv-ana", status="resolved",
                   user_input="I want a refund for order 1001, the keyboard arrived broken",
                   intent="refund", confidence=0.97, order_id="1001", action="issue_refund",
                   result_status="success",
                   result={"status": "success", "reason": "R2 refund: delivered 8 days ago.",
                           "refund_id": 7, "amount": 84.49},
                   response="I've refunded $84.49 for order #1001 to your original payment.",
                   policy_sources=[{"source": "refund_policy.md", "section": "Refund window",
                                    "score": 0.83}],
                   mode="offline", created_at=now - timedelta(hours=3)),
            Ticket(id=BEN_TICKET, user_id=2, conversation_id="conv-ben", status="escalated",
                   user_input="Refund order 2001 please, the blender is cracked",
                   intent="refund", confidence=0.93, order_id="2001", action="issue_refund",
                   result_status="escalated",
                   result={"status": "escalated", "reason": "R2b fraud limit: sent to review."},
                   response="I've passed this to our fraud-review team.", mode="offline",
                   created_at=now - timedelta(hours=2)),
            Ticket(id=ANA_QUEUED, user_id=1, status="queued",
                   user_input="Where is my order 1002?", created_at=now - timedelta(hours=1)),
        ])
        s.flush()
        s.add_all([
            Message(conversation_id="conv-ana", role="user", ticket_id=ANA_TICKET,
                    content="I want a refund for order 1001, the keyboard arrived broken"),
            Message(conversation_id="conv-ana", role="assistant", ticket_id=ANA_TICKET,
                    content="I've refunded $84.49 for order #1001 to your original payment."),
            Message(conversation_id="conv-ben", role="user", ticket_id=BEN_TICKET,
                    content="Refund order 2001 please, the blender is cracked"),
            Message(conversation_id="conv-ben", role="assistant", ticket_id=BEN_TICKET,
                    content="I've passed this to our fraud-review team."),
            EscalationCase(id=BEN_CASE, user_id=2, ticket_id=BEN_TICKET, order_id="2001",
                           kind="fraud", reason="R2b fraud limit reached", priority="high",
                           created_at=now - timedelta(hours=2)),
            EscalationCase(id=ANA_CASE, user_id=1, ticket_id=ANA_TICKET, order_id="1001",
                           kind="unsatisfied", reason="Customer rated the resolution unsatisfied",
                           priority="normal", created_at=now - timedelta(hours=4)),
            EscalationCase(id=OLD_CASE, user_id=2, ticket_id=None, kind="human_request",
                           reason="Asked for a manager", priority="normal", status="closed",
                           resolution_note="Customer withdrew", resolved_at=now - timedelta(days=1),
                           created_at=now - timedelta(days=2)),
        ])
    audit.write(request_id="r1", user_id=2, conversation_id="conv-ben", ticket_id=BEN_TICKET,
                tool="issue_refund", order_id="2001", outcome="escalated",
                reason="R2b fraud limit reached", details={}, duration_ms=3.1)
    audit.write(request_id="r0", user_id=1, conversation_id="conv-ana", ticket_id=ANA_TICKET,
                tool="issue_refund", order_id="1001", outcome="success",
                reason="R2 refund", details={}, duration_ms=2.0)


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shop-template")
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    create_schema(engine)
    factory = make_session_factory(engine)
    load_fixture(factory, parse_fixture(SHOP), reset=True)
    _agent_history(factory, AuditTrail(factory, folder / "audit.jsonl"))
    engine.dispose()  # the last connection closing checkpoints the WAL into shop.db
    assert not (folder / "shop.db-wal").exists()
    return folder


@pytest.fixture
def shop(tmp_path, shop_template):
    """This test's own copy of the shop: database, audit log and policy documents."""
    shutil.copy(shop_template / "shop.db", tmp_path / "shop.db")
    shutil.copy(shop_template / "audit.jsonl", tmp_path / "audit.jsonl")
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    return tmp_path


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it fails for real."""
    return free_port()


def portal_config(folder: Path, api_url: str, **extra) -> dict:
    return {"TESTING": True, "database_url": f"sqlite:///{folder / 'shop.db'}",
            "audit_log_path": folder / "audit.jsonl", "policies_dir": folder / "policies",
            "api_url": api_url, "support_api_key": "unused-key", "secret_key": "test-secret",
            "api_timeout_seconds": 5, "QUEUE_RETRY_BACKOFF": 0.0, **extra}


@pytest.fixture
def app(shop, closed_port):
    """The portal on this test's shop; the agent service is down (nothing listens there)."""
    app = create_app(portal_config(shop, f"http://127.0.0.1:{closed_port}"))
    yield app
    app.extensions["supportops_portal"].engine.dispose()


@pytest.fixture
def factory(app):
    return app.extensions["supportops_portal"].factory


@pytest.fixture
def client(app):
    return app.test_client()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Auth:
    """Signs in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/orders/") -> str:
        """Flask-WTF's token belongs to the session, so any page's token will do."""
        return csrf_from(self.client.get(path, follow_redirects=True).get_data(as_text=True))

    def login(self, email: str = "ana@example.com", password: str | None = None, next_: str = ""):
        return self.client.post("/login", data={
            "email": email, "password": password or PASSWORDS.get(email, "wrong"),
            "next": next_, "csrf_token": self.token()})

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.token()})

    def post(self, path: str, data: dict, **kwargs):
        """Submit a form the way a browser does: with the session's CSRF token."""
        return self.client.post(path, data={**data, "csrf_token": self.token()}, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def db_execute(factory, sql: str, **params):
    with transaction(factory) as s:
        result = s.execute(text(sql), params)
        return result.all() if result.returns_rows else None
