"""Resolves per second with 1, 2 and 4 workers on PostgreSQL and SQLite (README "Running for
many users"). Not a test: run it by hand; it prints a table and asserts nothing on time.

    .venv/bin/python -m tests.reliability.measure_throughput [--seconds 20] [--concurrency 16]

Each configuration gets a fresh database (a throw-away PostgreSQL database on 127.0.0.1:5432,
or a SQLite file), `init_db.py --seed-file`, then `gunicorn -k uvicorn.workers.UvicornWorker
-w N` on loopback, and a closed loop of `--concurrency` clients (httpx, asyncio) for
`--seconds`: a mix of status questions, refunds (CONFIRM_ACTIONS=when_unsure, so money moves
at once) and requests for a person, each with its own Idempotency-Key, spread over 200
customers so the per-user rate limit never fires.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.reliability.harness import (
    API_KEY,
    HEADERS,
    ApiServer,
    create_database,
    drop_database,
    seed,
)
from tests.reliability.test_four_workers import oid, order

USERS = 200


def shop() -> dict:
    users = [{"id": u, "name": f"Customer {u}", "email": f"c{u}@example.com",
              "password": f"pw-{u}-long-secret"} for u in range(1, USERS + 1)]
    orders = []
    for u in range(1, USERS + 1):
        orders += [order(oid(u, k), u, "delivered", 20 + k, delivered_days_ago=5)
                   for k in (1, 2, 3, 4)]
        orders.append(order(oid(u, 6), u, "shipped", 25.00, ordered_days_ago=3))
    return {"users": users, "orders": orders}


def request(i: int) -> dict:
    u = 1 + i % USERS
    kind = i % 4
    if kind == 0:
        return {"user_input": f"I want a refund for order #{oid(u, 1 + (i // USERS) % 4)}, it "
                              "arrived broken", "user_id": u}
    if kind == 3 and i % 8 == 3:
        return {"user_input": "I want to talk to a real person", "user_id": u}
    return {"user_input": f"Where is my order #{oid(u, 6)}?", "user_id": u}


async def load(base: str, seconds: float, concurrency: int) -> dict:
    latencies, codes, counter = [], {}, iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def client_loop(client):
        while time.monotonic() < deadline:
            i = next(counter)
            started = time.monotonic()
            try:
                r = await client.post("/support/resolve", json=request(i),
                                      headers={**HEADERS, "Idempotency-Key": f"tp-{i}"})
                code = r.status_code
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            latencies.append(time.monotonic() - started)
            codes[code] = codes.get(code, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        began = time.monotonic()
        await asyncio.gather(*[client_loop(client) for _ in range(concurrency)])
        elapsed = time.monotonic() - began
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "n": len(latencies), "codes": codes,
            "p50": statistics.median(latencies) * 1000,
            "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000}


def measure(backend: str, workers: int, seconds: float, concurrency: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="supportops-tp-"))
    name = None
    if backend == "postgresql":
        name = create_database()
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{tmp / 'tp.db'}"
    env = {**os.environ, "DATABASE_URL": url, "SUPPORT_API_KEY": API_KEY,
           "AGENT_MODE": "offline", "HF_HUB_OFFLINE": "1", "CONFIRM_ACTIONS": "when_unsure",
           "AUDIT_LOG_PATH": str(tmp / "audit.jsonl"), "INDEX_DIR": str(tmp / "index")}
    for unset in ("REDIS_URL", "OPENAI_API_KEY"):
        env.pop(unset, None)
    seed(env, shop(), tmp)
    server = ApiServer(env, workers, tmp / "server.log")
    try:
        server.start(timeout=300)
        asyncio.run(load(server.base, 3, concurrency))  # warm-up: first calls load caches
        return load_result(asyncio.run(load(server.base, seconds, concurrency)))
    finally:
        server.stop()
        if name:
            drop_database(name)


def load_result(result: dict) -> dict:
    return {**result, "rps": round(result["rps"], 1), "p50": round(result["p50"]),
            "p95": round(result["p95"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    print(f"{args.concurrency} concurrent clients, {args.seconds:.0f} s each, {os.cpu_count()} "
          "cores")
    print("| backend | workers | resolves/s | p50 ms | p95 ms | answers |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        for workers in map(int, args.workers.split(",")):
            r = measure(backend, workers, args.seconds, args.concurrency)
            print(f"| {backend} | {workers} | {r['rps']} | {r['p50']} | {r['p95']} | "
                  f"{r['codes']} |", flush=True)


if __name__ == "__main__":
    main()
