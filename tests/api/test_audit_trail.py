"""The audit trail through the API: the JSONL file follows the database (at once after a call,
within a second for a record another process left unexported), and the staff case view flags
a broken chain instead of showing the records as genuine."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from agents.factory import services_for
from api.main import create_app
from audit.chain import line_of
from audit.trail import append
from db.engine import transaction
from db.fixture_schema import parse_fixture
from db.models import AuditRecord
from db.seed import load_fixture
from tests.api import case_helpers
from tests.api.case_helpers import SAM, high_value_case, ok

KEY = {"X-API-Key": "test-key"}


@pytest.fixture
def own(services, api_settings, tmp_path):
    """A database and audit file of this test's own (tampering must not leak into others)."""
    settings = api_settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'own.db'}",
        "audit_log_path": tmp_path / "audit.jsonl"})
    made = services_for(settings, services)
    load_fixture(made.session_factory, parse_fixture(case_helpers.shop()), reset=True)
    yield settings, made
    made.engine.dispose()


def stored(factory) -> list[dict]:
    with transaction(factory) as s:
        return [line_of(r) for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq))]


def file_lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_the_file_is_current_when_a_call_returns_and_equals_the_database(own):
    settings, made = own
    api = TestClient(create_app(settings, made), raise_server_exceptions=False)
    high_value_case(api)
    lines = file_lines(settings.audit_log_path)
    assert [r["outcome"] for r in lines] == ["needs_confirmation", "escalated"]
    assert lines == stored(made.session_factory)


def test_a_record_left_unexported_reaches_the_file_within_a_second(own):
    settings, made = own
    with TestClient(create_app(settings, made)):  # the lifespan starts the export thread
        with transaction(made.session_factory) as s:  # another process, which then died
            append(s, tool="issue_refund", outcome="success", order_id="1042")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not file_lines(settings.audit_log_path):
            time.sleep(0.05)
        assert [r["order_id"] for r in file_lines(settings.audit_log_path)] == ["1042"]


def test_the_case_view_flags_a_broken_chain(own):
    settings, made = own
    api = TestClient(create_app(settings, made), raise_server_exceptions=False)
    _, case = high_value_case(api)
    view = ok(api.get(f"/cases/{case['id']}", params={"staff_id": SAM}, headers=KEY))
    assert view["audit_chain"] == {"intact": True, "problem": None}
    assert view["audit"] and all(e["verified"] for e in view["audit"])
    first = view["audit"][0]["seq"]
    with transaction(made.session_factory) as s:  # someone edits a record in the database
        s.execute(update(AuditRecord).where(AuditRecord.seq == first).values(
            outcome="denied"))
    view = ok(api.get(f"/cases/{case['id']}", params={"staff_id": SAM}, headers=KEY))
    assert view["audit_chain"]["intact"] is False
    assert f"record {first} was changed" in view["audit_chain"]["problem"]
    assert view["audit"][0]["verified"] is False


def test_the_portal_case_page_flags_a_broken_chain(own):
    from frontend.services.escalations import case_view

    settings, made = own
    api = TestClient(create_app(settings, made), raise_server_exceptions=False)
    _, case = high_value_case(api)
    view = case_view(made.session_factory, None, case["id"])
    assert view.audit_problem is None and all(e["verified"] for e in view.audit)
    with transaction(made.session_factory) as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(reason="forged"))
    view = case_view(made.session_factory, None, case["id"])
    assert "record 1 was changed" in view.audit_problem
    assert [e["verified"] for e in view.audit][0] is False
