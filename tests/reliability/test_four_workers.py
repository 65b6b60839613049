"""Four uvicorn workers under gunicorn on a throw-away PostgreSQL database, reached through a
loopback TCP proxy the test can cut (issue 12):

1. 200 concurrent mixed requests: the fraud limit, once per order and DB <-> audit one-to-one
   hold, and no answer is a 5xx;
2. 50 concurrent repeats of one Idempotency-Key: one execution, one answer, no 409;
3. a database outage: 503 with Retry-After (never 500), then recovery by itself, and every key
   sent during the outage answerable afterwards;
4. kill -9 of a worker and then of the whole server mid-load: no partial effects, no action
   without its audit record;
5. after a restart, every Idempotency-Key sent before the crash is answerable (a stored result
   replayed as it was; a lapsed claim run again, exactly once by the action's own rules).

The tests share one server and database and run in this order. Money moves at once
(CONFIRM_ACTIONS=when_unsure) so the races are on the actions themselves."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest

from tests.conftest import order
from tests.reliability.harness import (
    API_KEY,
    HEADERS,
    ApiServer,
    check_invariants,
    create_database,
    drop_database,
    query,
    run_async,
    seed,
)
from tests.reliability.tcp_proxy import TcpProxy

WORKERS = 4
MAX_REFUNDS = 2


def oid(user: int, k: int) -> str:
    return str(50000 + user * 10 + k)


def fixture() -> dict:
    users = [{"id": u, "name": f"Customer {u}", "email": f"c{u}@example.com",
              "password": f"pw-{u}-long-secret"} for u in range(1, 71)]
    orders = []
    for u in range(1, 71):
        orders += [order(oid(u, k), u, "delivered", 20 + u + k, delivered_days_ago=5)
                   for k in (1, 2, 3, 4)]
        orders.append(order(oid(u, 5), u, "pending", 15.00, ordered_days_ago=1))
        orders.append(order(oid(u, 6), u, "shipped", 25.00, ordered_days_ago=3))
    return {"users": users, "orders": orders}


def refund(u: int, k: int) -> dict:
    return {"user_input": f"I want a refund for order #{oid(u, k)}, it arrived broken",
            "user_id": u}


def cancel(u: int) -> dict:
    return {"user_input": f"Please cancel order #{oid(u, 5)}", "user_id": u}


def status(u: int) -> dict:
    return {"user_input": f"Where is my order #{oid(u, 6)}?", "user_id": u}


def person(u: int) -> dict:
    return {"user_input": "I want to talk to a real person", "user_id": u}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reliability")
    name = create_database()
    proxy = TcpProxy(5432)
    direct = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:"
                                         f"{proxy.port}/{name}",
           "SUPPORT_API_KEY": API_KEY, "AGENT_MODE": "offline", "HF_HUB_OFFLINE": "1",
           "AUDIT_LOG_PATH": str(tmp / "audit.jsonl"), "INDEX_DIR": str(tmp / "index"),
           "CONFIRM_ACTIONS": "when_unsure", "MAX_REFUNDS_PER_WINDOW": str(MAX_REFUNDS),
           "IDEMPOTENCY_LEASE_SECONDS": "10", "IDEMPOTENCY_WAIT_SECONDS": "55",
           "DB_POOL_SIZE": "5", "DB_MAX_OVERFLOW": "5", "DB_POOL_TIMEOUT": "10",
           "DB_CONNECT_TIMEOUT": "1", "UNAVAILABLE_RETRY_AFTER": "1"}
    for name_ in ("REDIS_URL", "OPENAI_API_KEY", "RATE_LIMIT_BACKEND"):
        env.pop(name_, None)
    seed(env, fixture(), tmp)
    server = ApiServer(env, WORKERS, tmp / "server.log")
    server.start()
    state = {"server": server, "proxy": proxy, "url": direct, "sent": {}, "tmp": tmp}
    yield state
    server.stop()
    proxy.cut()
    drop_database(name)


async def send_all(base: str, requests: list[tuple[dict, str | None]], timeout: float = 60):
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        async def one(body, key):
            headers = {**HEADERS, **({"Idempotency-Key": key} if key else {})}
            try:
                return await client.post("/support/resolve", json=body, headers=headers)
            except httpx.HTTPError as exc:
                return exc
        return await asyncio.gather(*[one(b, k) for b, k in requests])


def test_200_concurrent_mixed_requests_keep_every_rule_and_no_5xx(stack):
    base = stack["server"].base
    requests = []
    for u in range(1, 21):
        requests += [(refund(u, k), f"load-r-{u}-{k}") for k in (1, 2, 3, 4)]
        requests += [(refund(u, 1), f"load-r-{u}-1-again"),  # a second refund of one order
                     (refund(u, 2), f"load-r-{u}-2"),  # a concurrent repeat of one key
                     (cancel(u), f"load-c-{u}-a"), (cancel(u), f"load-c-{u}-b"),
                     (status(u), None), (person(u), f"load-p-{u}")]
    assert len(requests) == 200
    started = time.monotonic()
    responses = run_async(send_all(base, requests))
    elapsed = time.monotonic() - started
    codes = [getattr(r, "status_code", type(r).__name__) for r in responses]
    assert all(c == 200 for c in codes), sorted(set(map(str, codes)))
    by_key = {}
    for (_, key), response in zip(requests, responses, strict=True):
        if key:
            by_key.setdefault(key, []).append(response.json())
    assert all(b == bodies[0] for bodies in by_key.values() for b in bodies)
    counts = check_invariants(stack["url"], MAX_REFUNDS)
    assert counts["issue_refund"] == 20 * MAX_REFUNDS  # each user got exactly the limit
    assert counts["cancel_order"] == 20
    print(f"\n200 mixed requests on {WORKERS} workers: {elapsed:.1f} s, {counts}")


def test_50_concurrent_repeats_of_one_key_execute_once(stack):
    base, url = stack["server"].base, stack["url"]
    started = time.monotonic()
    responses = run_async(send_all(base, [(refund(61, 1), "storm-61")] * 50))
    codes = [getattr(r, "status_code", type(r).__name__) for r in responses]
    assert codes == [200] * 50, codes
    assert len({r.text for r in responses}) == 1
    assert responses[0].json()["action_result"]["status"] == "success"
    assert query(url, "SELECT count(*) FROM refunds WHERE order_id = :o", o=oid(61, 1)) == [(1,)]
    assert query(url, "SELECT count(*) FROM tickets WHERE user_id = 61") == [(1,)]
    assert time.monotonic() - started < 40


def test_a_database_outage_is_503_then_recovers(stack):
    base, proxy = stack["server"].base, stack["proxy"]
    results: list[tuple[float, str, object]] = []
    cut_at, restore_at, stop_at = 1.0, 5.0, 12.0

    async def client_loop(u: int, t0: float):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            i = 0
            while time.monotonic() - t0 < stop_at:
                i += 1
                key = f"outage-{u}-{i}"
                body = refund(u, 1 + i % 4) if i % 3 else status(u)
                try:
                    r = await client.post("/support/resolve", json=body,
                                          headers={**HEADERS, "Idempotency-Key": key})
                    results.append((time.monotonic() - t0, key, r))
                except httpx.HTTPError as exc:
                    results.append((time.monotonic() - t0, key, exc))
                stack["sent"][key] = body
                await asyncio.sleep(0.1)

    async def main():
        t0 = time.monotonic()
        loops = [asyncio.create_task(client_loop(u, t0)) for u in range(41, 47)]
        await asyncio.sleep(cut_at)
        proxy.cut()
        await asyncio.sleep(restore_at - cut_at)
        proxy.restore()
        await asyncio.gather(*loops)

    run_async(main())
    statuses = [getattr(r, "status_code", type(r).__name__) for _, _, r in results]
    assert set(statuses) <= {200, 503}, sorted(set(map(str, statuses)))
    unavailable = [r for _, _, r in results if getattr(r, "status_code", 0) == 503]
    assert unavailable, "no request saw the outage"
    for r in unavailable:
        assert r.json()["error"]["code"] == "busy" and int(r.headers["Retry-After"]) >= 1
    recovered = [t for t, _, r in results
                 if t > restore_at and getattr(r, "status_code", 0) == 200]
    assert recovered, "no success after the database came back"
    recovery = min(recovered) - restore_at
    assert recovery < 6, recovery
    # every key that got a 503 is answerable now (its lease lapsed or was released)
    retry = [(stack["sent"][k], k) for _, k, r in results if getattr(r, "status_code", 0) != 200]
    again = run_async(send_all(base, retry))
    assert all(getattr(r, "status_code", None) == 200 for r in again)
    check_invariants(stack["url"], MAX_REFUNDS)
    print(f"\noutage: {len(unavailable)} x 503 of {len(results)}; first success "
          f"{recovery:.2f} s after the database came back")


def test_kill_9_of_a_worker_and_of_the_whole_server_leaves_no_partial_effects(stack):
    server, url = stack["server"], stack["url"]
    requests = []
    for u in range(21, 41):
        requests += [(refund(u, k), f"kill-r-{u}-{k}") for k in (1, 2, 3)]
        requests += [(cancel(u), f"kill-c-{u}"), (person(u), f"kill-p-{u}")]
    stack["kill_requests"] = requests

    async def main():
        load = asyncio.create_task(send_all(server.base, requests, timeout=30))
        await asyncio.sleep(1.0)
        server.kill_worker()
        await asyncio.sleep(1.5)
        server.kill()
        return await load

    responses = run_async(main())
    stack["kill_responses"] = responses
    answered = [r for r in responses if isinstance(r, httpx.Response)]
    assert all(r.status_code < 500 for r in answered), [r.status_code for r in answered]
    counts = check_invariants(url, MAX_REFUNDS)
    print(f"\nkill -9: {len(answered)} of {len(requests)} answered before the crash; {counts}")


def test_every_key_is_answerable_after_a_restart(stack):
    server, url = stack["server"], stack["url"]
    took = server.start()
    requests, before = stack["kill_requests"], stack["kill_responses"]
    started = time.monotonic()
    again = run_async(send_all(server.base, requests))
    assert all(getattr(r, "status_code", None) == 200 for r in again), [
        getattr(r, "status_code", repr(r)) for r in again]
    replayed = sum(r.headers.get("Idempotent-Replayed") == "true" for r in again)
    for first, second in zip(before, again, strict=True):
        if isinstance(first, httpx.Response) and first.status_code == 200:
            assert second.json() == first.json()  # a stored result, replayed as it was
    counts = check_invariants(url, MAX_REFUNDS)
    print(f"\nrestart took {took:.1f} s; {len(requests)} keys answered in "
          f"{time.monotonic() - started:.1f} s ({replayed} replayed, "
          f"{len(requests) - replayed} run again after a lapsed lease); {counts}")
