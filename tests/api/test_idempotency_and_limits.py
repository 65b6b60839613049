"""Idempotency-Key replays and conflicts (R8); rate limits with Retry-After."""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.api.conftest import resolve
from tests.api.test_resolve import refund_count


def test_same_key_replays_the_first_result(make_client, fresh_db):
    client = make_client(confirm_actions="when_unsure")
    headers = {"Idempotency-Key": "abc-1"}
    first = resolve(client, "refund order 1042", headers=headers)
    second = resolve(client, "refund order 1042", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["action_result"]["status"] == "success"
    assert refund_count(fresh_db) == 1


def test_same_key_with_another_body_is_409(client, fresh_db):
    headers = {"Idempotency-Key": "abc-2"}
    assert resolve(client, "refund order 1042", headers=headers).status_code == 200
    response = resolve(client, "cancel order 1043", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_concurrent_requests_with_one_key_act_once(make_client, fresh_db):
    client = make_client(confirm_actions="when_unsure")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: resolve(client, "refund order 1042",
                                                    headers={"Idempotency-Key": "same"}),
                                  range(6)))
    bodies = [r.json() for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert all(b == bodies[0] for b in bodies)
    assert refund_count(fresh_db) == 1


def test_not_found_is_replayed_too(client):
    headers = {"Idempotency-Key": "k404"}
    assert resolve(client, "hi", user_id=77, headers=headers).status_code == 404
    assert resolve(client, "hi", user_id=77, headers=headers).status_code == 404


def test_overlong_idempotency_key_is_rejected(client):
    assert resolve(client, "hi", headers={"Idempotency-Key": "x" * 300}).status_code == 422


def _early_in_a_window():
    """The limits count per fixed one-minute window: start well inside one, so the hits below
    never straddle a boundary (where counting starts again)."""
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.2)


def test_per_user_rate_limit_with_retry_after(make_client):
    client = make_client(rate_limit_per_user=3)
    _early_in_a_window()
    assert all(resolve(client, "hi").status_code == 200 for _ in range(3))
    limited = resolve(client, "hi")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert resolve(client, "hi", user_id=2).status_code == 200  # other users unaffected


def test_per_key_rate_limit(make_client):
    client = make_client(rate_limit_per_key=2)
    _early_in_a_window()
    codes = [client.get("/tickets?user_id=1", headers={"X-API-Key": "test-key"}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_same_key_replays_a_proposal_without_making_a_second(client, fresh_db):
    headers = {"Idempotency-Key": "offer-1"}
    first = resolve(client, "refund order 1042", headers=headers).json()
    second = resolve(client, "refund order 1042", headers=headers).json()
    assert first == second and first["proposal"]["id"]
    assert refund_count(fresh_db) == 0
