"""PII at every API write path (SPEC "Audit record", issue 12): after each way customer or staff
text reaches the database, the whole database is searched for the raw email and phone numbers.
The X-Request-ID a client chooses is part of it: a phone number as an id never reaches the
audit trail or any table."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select

from tests.api.case_helpers import SAM, act, api, ask_for_a_person, fraud_case, ok, staff_db  # noqa: F401
from tests.api.conftest import KEY, resolve

EMAIL = "ana.pii.test@example.org"
PHONES = ["+44 7700 900123", "07700 900123", "(415) 555-0132"]
RAW = [EMAIL, *PHONES, "900123", "555-0132"]
PII = f"you can reach me at {EMAIL} or {PHONES[0]} / {PHONES[1]} / {PHONES[2]}"


def database_text(engine) -> str:
    """Every value of every row of every table, as one string."""
    meta = MetaData()
    meta.reflect(engine)
    parts = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def assert_no_raw_pii(services, where: str):
    text = database_text(services.engine)
    for raw in RAW:
        assert raw not in text, f"raw {raw!r} stored after {where}"


def test_customer_text_request_ids_and_feedback(api, staff_db):  # noqa: F811
    made = resolve(api, f"where is order 1042? {PII}",
                   headers={"X-Request-ID": "07700900123", "Idempotency-Key": "pii-1"})
    assert made.status_code == 200
    assert made.headers["X-Request-ID"] != "07700900123"  # replaced by an id of ours
    assert_no_raw_pii(staff_db, "a resolve with an Idempotency-Key")
    follow = resolve(api, f"also {PII}", conversation_id=made.json()["conversation_id"],
                     headers={"X-Request-ID": "4155550132"})
    assert follow.status_code == 200
    assert_no_raw_pii(staff_db, "a follow-up in the conversation")
    offer = resolve(api, f"I want a refund for order 1042, it arrived broken. {PII}").json()
    done = api.post("/support/confirm", headers={**KEY, "X-Request-ID": "07700-900123"},
                    json={"user_id": 1, "proposal_id": offer["proposal"]["id"]})
    assert done.status_code == 200
    assert_no_raw_pii(staff_db, "a proposal and its confirmation")
    feedback = api.post(f"/tickets/{made.json()['ticket_id']}/feedback", headers=KEY,
                        json={"satisfied": False, "comment": PII, "user_id": 1})
    assert feedback.status_code == 200
    assert_no_raw_pii(staff_db, "feedback")


@pytest.mark.parametrize("step,body", [
    ("reply", {"message": PII}),
    ("note", {"body": PII}),
    ("resolve", {"note": PII}),
    ("close", {"note": PII}),
])
def test_staff_text(api, staff_db, step, body):  # noqa: F811
    made = ask_for_a_person(api, text=f"I want to talk to a real person, {PII}")
    [case] = [c for c in api.get("/cases", params={"staff_id": SAM}, headers=KEY).json()["cases"]
              if c["ticket_id"] == made["ticket_id"]]
    ok(act(api, case["id"], step, **body))
    assert_no_raw_pii(staff_db, f"staff {step}")


def test_staff_decision_reason(api, staff_db):  # noqa: F811
    _, case = fraud_case(api)
    ok(act(api, case["id"], "decision", staff_id=SAM, decision="deny", reason=PII))
    assert_no_raw_pii(staff_db, "a staff decision")
