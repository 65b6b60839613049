"""Latency and throughput figures for the offline agent (printed; nothing asserted).

    .venv/bin/python bench/run_bench.py        # or: make bench

Measures, on a temporary SQLite database with a generated shop:
- start-up: loading MiniLM, the FAISS index and the intent model;
- understanding one message (embedding + classifier + entities);
- POST /support/resolve end to end in-process (FastAPI + agent + tools + audit), p50/p95;
- 20 concurrent refund requests for one user: wall time and how many succeeded (must be 2).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fastapi.testclient import TestClient  # noqa: E402

from agents.factory import build_services  # noqa: E402
from api.main import create_app  # noqa: E402
from config import Settings  # noqa: E402
from db.fixture_schema import parse_fixture  # noqa: E402
from db.seed import load_fixture  # noqa: E402

MESSAGES = ["I want a refund for order {o}, it arrived broken", "where is my order {o}?",
            "how long do I have to return something?", "hi there",
            "please cancel order {o}", "the lamp from order {o} arrived cracked, send a new one",
            "I want to talk to a real person"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def shop(n_users: int = 40) -> dict:
    from datetime import timedelta

    from db.models import utcnow
    now = utcnow().replace(microsecond=0)
    users, orders = [], []
    for u in range(1, n_users + 1):
        users.append({"id": u, "name": f"User {u}", "email": f"u{u}@example.com", "password": "x"})
        for k in range(25):
            delivered = now - timedelta(days=2 + k % 5)
            orders.append({"id": str(u * 100 + k), "user_id": u, "status": "delivered",
                           "total": 10 + k, "ordered_at": (delivered - timedelta(days=3)).isoformat() + "Z",
                           "delivered_at": delivered.isoformat() + "Z",
                           "items": [{"sku": "S", "name": "Thing", "qty": 1, "price": 10 + k}]})
    return {"users": users, "orders": orders}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench.db",
                            audit_log_path=Path(tmp) / "audit.jsonl", support_api_key="k",
                            agent_mode="offline", index_dir=Path(tmp) / "index",
                            rate_limit_per_user=10_000, rate_limit_per_key=100_000)
        started = time.perf_counter()
        services = build_services(settings)
        print(f"start-up (MiniLM load + FAISS build + intent model load/train): {time.perf_counter() - started:.2f} s")
        load_fixture(services.session_factory, parse_fixture(shop()), reset=True)

        times = []
        for i in range(200):
            t = time.perf_counter()
            services.nlu.understand(MESSAGES[i % len(MESSAGES)].format(o=1000 + i))
            times.append((time.perf_counter() - t) * 1000)
        print(f"understand one message: p50 {pct(times, .5):.1f} ms, p95 {pct(times, .95):.1f} ms "
              f"(n={len(times)})")

        client = TestClient(create_app(settings, services))
        times, by_intent = [], {}
        for i in range(210):
            user = 1 + i % 40
            text = MESSAGES[i % len(MESSAGES)].format(o=user * 100 + (i // 40) % 25)
            t = time.perf_counter()
            r = client.post("/support/resolve", json={"user_input": text, "user_id": user},
                            headers={"X-API-Key": "k"})
            ms = (time.perf_counter() - t) * 1000
            times.append(ms)
            by_intent.setdefault(r.json()["intent"], []).append(ms)
        print(f"POST /support/resolve in-process: p50 {pct(times, .5):.1f} ms, "
              f"p95 {pct(times, .95):.1f} ms, mean {statistics.mean(times):.1f} ms (n={len(times)})")
        for intent, values in sorted(by_intent.items()):
            print(f"  {intent:<16} p50 {pct(values, .5):6.1f} ms  (n={len(values)})")

        load_fixture(services.session_factory, parse_fixture(shop(1)), reset=True)
        user = 1  # a fresh shop: no refunds yet, so exactly 2 may succeed

        def refund(k: int) -> str:
            r = client.post("/support/resolve", json={"user_input": f"refund order {100 + k}",
                                                      "user_id": user}, headers={"X-API-Key": "k"})
            return r.json()["action_result"]["status"]

        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(refund, range(20)))
        print(f"20 concurrent refunds for one user: {time.perf_counter() - t:.2f} s wall, "
              f"success={outcomes.count('success')} (limit 2), denied={outcomes.count('denied')}")
        services.close()


if __name__ == "__main__":
    main()
