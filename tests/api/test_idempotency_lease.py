"""Exactly-once that recovers (R8, issue 12): a claim is leased, a lapsed claim without a result is
taken over, a stored result is replayed, and repeats wait without holding worker threads."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import func, select

from api.errors import ApiError
from api.services import idempotency
from db.engine import create_schema, engine_from_settings, make_session_factory, transaction
from db.models import IdempotencyRecord, Refund, utcnow
from tests.api.conftest import KEY, resolve
from tests.api.test_resolve import refund_count

BODY = {"user_input": "refund order 1042", "user_id": 1, "conversation_id": None,
        "ticket_id": None}


@pytest.fixture
def db(any_backend):
    engine = engine_from_settings(any_backend)
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_claim_is_leased_and_a_second_attempt_is_told_to_wait(db):
    first = idempotency.claim(db, "k1", "resolve", BODY, lease_seconds=30)
    assert first.owner
    second = idempotency.claim(db, "k1", "resolve", BODY, lease_seconds=30)
    assert second.owner is None and second.replay is None and 25 < second.busy_for <= 30


def test_a_lapsed_claim_without_a_result_is_taken_over_once(db):
    dead = idempotency.claim(db, "k2", "resolve", BODY, lease_seconds=30, request_id="r-dead")
    with transaction(db) as s:  # the owner was killed: its lease runs out
        s.get(IdempotencyRecord, dead.key).lease_until = utcnow() - timedelta(seconds=1)
    taker = idempotency.claim(db, "k2", "resolve", BODY, lease_seconds=30, request_id="r-new")
    assert taker.owner and taker.owner != dead.owner
    assert taker.taken_over and taker.taken_over_from == "r-dead"
    # only one retry takes it over; the next one waits for that retry
    assert idempotency.claim(db, "k2", "resolve", BODY).owner is None
    # the dead owner, were it to wake up, can no longer store a result or renew
    assert idempotency.complete(db, dead, 200, {"late": True}) is False
    assert idempotency.renew(db, dead, 30) is False
    assert idempotency.complete(db, taker, 200, {"ok": 1}) is True
    with transaction(db) as s:
        record = s.get(IdempotencyRecord, dead.key)
        assert (record.status_code, record.response, record.attempts) == (200, {"ok": 1}, 2)


def test_a_stored_result_is_replayed_and_a_release_lets_a_retry_run_at_once(db):
    c = idempotency.claim(db, "k3", "resolve", BODY)
    idempotency.complete(db, c, 200, {"answer": 42})
    assert idempotency.claim(db, "k3", "resolve", BODY).replay == (200, {"answer": 42})
    failed = idempotency.claim(db, "k4", "resolve", BODY)
    idempotency.release(db, failed)
    assert idempotency.claim(db, "k4", "resolve", BODY).owner  # no 60 s wait, no stuck key
    with pytest.raises(ApiError) as conflict:
        idempotency.claim(db, "k4", "resolve", {**BODY, "user_input": "cancel order 1043"})
    assert conflict.value.status == 409 and conflict.value.code == "idempotency_conflict"


def _dead_claim(factory, key: str, body: dict) -> None:
    """What a worker killed mid-request leaves behind: a claim with no result, lease lapsed."""
    with transaction(factory) as s:
        s.add(IdempotencyRecord(key=f"resolve:{key}",
                                request_hash=idempotency.request_hash("resolve", body),
                                status_code=idempotency.IN_PROGRESS, response={},
                                owner="dead-worker", lease_until=utcnow() - timedelta(seconds=5),
                                attempts=1, request_id="killed"))


def test_over_http_a_dead_owners_key_is_taken_over_and_answers(make_client, fresh_db):
    client = make_client(confirm_actions="when_unsure")
    _dead_claim(fresh_db.session_factory, "crashed-1", BODY)
    started = time.monotonic()
    response = resolve(client, "refund order 1042", headers={"Idempotency-Key": "crashed-1"})
    assert response.status_code == 200 and time.monotonic() - started < 10
    assert response.json()["action_result"]["status"] == "success"
    again = resolve(client, "refund order 1042", headers={"Idempotency-Key": "crashed-1"})
    assert again.json() == response.json() and again.headers["Idempotent-Replayed"] == "true"
    assert refund_count(fresh_db) == 1


def test_over_http_a_key_held_by_a_live_owner_gets_409_with_retry_after(make_client, fresh_db):
    client = make_client(idempotency_wait_seconds=0.3)
    idempotency.claim(fresh_db.session_factory, "busy-1", "resolve", BODY, lease_seconds=60)
    response = resolve(client, "refund order 1042", headers={"Idempotency-Key": "busy-1"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def test_a_failed_attempt_does_not_block_its_retry(make_client, fresh_db, monkeypatch):
    client = make_client(confirm_actions="when_unsure")
    real = client.app.state.services.agent.resolve
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker hiccup")
        return real(*args, **kwargs)

    monkeypatch.setattr(client.app.state.services.agent, "resolve", flaky)
    headers = {"Idempotency-Key": "flaky-1"}
    assert resolve(client, "refund order 1042", headers=headers).status_code == 500
    started = time.monotonic()
    retry = resolve(client, "refund order 1042", headers=headers)
    assert retry.status_code == 200 and time.monotonic() - started < 10
    assert refund_count(fresh_db) == 1


def test_fifty_concurrent_repeats_run_once_without_starving_the_thread_pool(
        make_client, fresh_db, monkeypatch):
    """50 repeats of one key while the work takes a second, with only 4 worker threads: the
    waiters sleep in the event loop, so the owner still gets a thread; one execution, one
    answer for all, no 409."""
    client = make_client(confirm_actions="when_unsure")
    app = client.app
    real = app.state.services.agent.resolve
    runs = []

    def slow(*args, **kwargs):
        runs.append(1)
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(app.state.services.agent, "resolve", slow)

    async def main():
        anyio.to_thread.current_default_thread_limiter().total_tokens = 4
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await asyncio.gather(*[
                http.post("/support/resolve", json={"user_input": "refund order 1042",
                                                    "user_id": 1},
                          headers={**KEY, "Idempotency-Key": "storm-1"}, timeout=60)
                for _ in range(50)])

    started = time.monotonic()
    responses = anyio.run(main)
    elapsed = time.monotonic() - started
    codes = [r.status_code for r in responses]
    assert codes == [200] * 50, codes
    assert len({r.text for r in responses}) == 1
    assert len(runs) == 1 and refund_count(fresh_db) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
    assert elapsed < 30
    text = client.get("/metrics").text
    assert 'supportops_idempotency_total{outcome="claimed"} 1.0' in text
    assert 'supportops_idempotency_total{outcome="replayed"} 49.0' in text
    assert 'outcome="in_progress"' not in text
    with transaction(fresh_db.session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 1

