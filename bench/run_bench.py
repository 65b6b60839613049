"""`make bench`: how fast the agent is, against the targets of issue 13 (printed and written to
bench/results/latest.md, with a chart of the latency distributions in bench/results/latency.png).

    .venv/bin/python bench/run_bench.py            # about 3 minutes on 2 cores
    .venv/bin/python bench/run_bench.py --quick    # shorter runs, noisier figures
    .venv/bin/python bench/run_bench.py --profile  # also a pyinstrument profile of 200 resolves

Everything runs on this machine, on loopback, against temporary SQLite databases with a
generated shop (bench/shop.py), the offline brain and the default settings (CONFIRM_ACTIONS=always):
- in-process: SupportAgent.resolve p50/p95/p99 per intent (database writes and audit included);
- HTTP: /support/resolve and the same server's /health under 16 connections, 1 and 2 workers,
  served as in production (bench/http_load.py), with the ratio resolve/health;
- start-up with a built index (to the first healthy /health) and RSS per worker;
- resolve latency with 100, 10,000 and 100,000 orders in the database;
- loading a 1,000-customer fixture with `init_db.py --seed-file`.
The machine's load average is printed with the figures: on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bench import report, shop  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def settings_for(tmp: Path, name: str):
    from config import Settings

    return Settings(_env_file=None, database_url=f"sqlite:///{tmp}/{name}.db",
                    audit_log_path=tmp / f"{name}.jsonl", support_api_key="k",
                    agent_mode="offline", index_dir=tmp / "index",
                    rate_limit_per_user=10**6, rate_limit_per_key=10**8)


def load_shop(services, customers: int) -> float:
    from db.fixture_schema import parse_fixture
    from db.seed import load_fixture

    started = time.perf_counter()
    load_fixture(services.session_factory, parse_fixture(shop.shop(customers)), reset=True)
    return time.perf_counter() - started


def resolve_times(agent, messages: list[tuple[str, int, str]], cpu: list | None = None
                  ) -> dict[str, list[float]]:
    """ms per resolve, by the intent the message was written for; the CPU ms of each (this
    process's, all threads) are appended to `cpu` when given."""
    by_intent: dict[str, list[float]] = {}
    for intent, customer, text in messages:
        started, cpu_started = time.perf_counter(), time.process_time()
        agent.resolve(customer, text)
        by_intent.setdefault(intent, []).append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - cpu_started) * 1000)
    return by_intent


def in_process(services, customers: int, per_intent: int) -> dict:
    """Wall-clock latency per intent, and CPU time per resolve: on a shared machine the wall
    clock includes waiting for a core, the CPU time does not."""
    agent = services.agent
    resolve_times(agent, shop.mixed(21, customers, seed=1))  # warm every path
    cpu: list[float] = []
    by_intent = resolve_times(agent, shop.mixed(per_intent * len(shop.MESSAGES), customers),
                              cpu)
    every = [ms for values in by_intent.values() for ms in values]
    return {"by_intent": by_intent, "all": every, "cpu": cpu}


STAGES = (  # (label, module, attribute): what one resolve spends its time on
    ("record the message (start_turn)", "agents.records", "start_turn"),
    ("expire due offers", "tools.registry", "ToolRunner.expire_due"),
    ("read the customer's orders", "agents.agent", "customer_orders"),
    ("understand (classifier, entities)", "agents.understanding", "OfflineNLU.understand"),
    ("sentence embeddings (ONNX, in the above)", "rag.embeddings", "OnnxEmbedder._one"),
    ("policy search", "agents.agent", "SupportAgent.retrieve"),
    ("tool + audit record (policy guard)", "tools.registry", "ToolRunner._run"),
    ("JSONL audit export", "audit.export", "JsonlExporter.flush"),
    ("store the reply (finish_turn)", "agents.records", "finish_turn"),
    ("SQLite write lock held (all writes)", "db.engine", "SqliteWriteLock.held"),
)


def stages(services, customers: int, n: int = 200) -> dict:
    """Where one resolve's time goes: each stage timed around the real call (wall clock, ms
    per resolve), on `n` mixed messages. The profile in numbers, stable from run to run."""
    import contextlib
    import importlib

    spent: dict[str, float] = {label: 0.0 for label, _, _ in STAGES}
    undo = []
    for label, module_name, attr in STAGES:
        owner = importlib.import_module(module_name)
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        if label.startswith("SQLite write lock"):
            @contextlib.contextmanager
            def timed(*a, _f=original, _label=label, **k):
                with _f(*a, **k):
                    started = time.perf_counter()
                    try:
                        yield
                    finally:
                        spent[_label] += time.perf_counter() - started
        else:
            def timed(*a, _f=original, _label=label, **k):
                started = time.perf_counter()
                try:
                    return _f(*a, **k)
                finally:
                    spent[_label] += time.perf_counter() - started
        setattr(owner, name, timed)
        undo.append((owner, name, original))
    try:
        started = time.perf_counter()
        resolve_times(services.agent, shop.mixed(n, customers, seed=7))
        total = time.perf_counter() - started
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)
    return {"total_ms": total / n * 1000,
            "stages": [(label, spent[label] / n * 1000) for label, _, _ in STAGES]}


def at_scale(base, tmp: Path, sizes: list[int], n: int) -> list[dict]:
    """Resolve latency with `orders` orders in the database (5 per customer)."""
    from agents.factory import services_for

    rows = []
    for orders in sizes:
        services = services_for(settings_for(tmp, f"scale{orders}"), base)
        try:
            loaded = load_shop(services, orders // 5)
            resolve_times(services.agent, shop.mixed(14, orders // 5, seed=2))
            times = [ms for v in resolve_times(
                services.agent, shop.mixed(n, orders // 5, seed=3)).values() for ms in v]
        finally:
            services.close()
        rows.append({"orders": orders, "load_s": loaded, "p50": pct(times, 50),
                     "p95": pct(times, 95), "mean": statistics.mean(times)})
    return rows


def fixture_load(tmp: Path, customers: int = 1000) -> dict:
    """`init_db.py --seed-file F --reset --skip-models` on a new database, timed end to end
    (process start and imports included)."""
    path = tmp / "fixture-1000.json"
    path.write_text(json.dumps(shop.shop(customers)))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/fixture.db",
           "AUDIT_LOG_PATH": str(tmp / "fixture.jsonl")}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "init_db.py", "--seed-file", str(path), "--reset",
                          "--skip-models"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    took = time.perf_counter() - started
    if out.returncode:
        raise RuntimeError(out.stderr)
    return {"customers": customers, "orders": customers * 5, "seconds": took}


def http(tmp: Path, seconds: float) -> list[dict]:
    from bench import http_load

    bodies = tmp / "bodies.jsonl"
    bodies.write_text("".join(json.dumps({"user_input": text, "user_id": customer}) + "\n"
                              for _, customer, text in shop.mixed(2100, 200, seed=4)))
    return [http_load.measure(tmp, bodies, workers, 18700 + workers, seconds)
            for workers in (1, 2)]


def profile(services, customers: int, out: Path) -> str:
    from pyinstrument import Profiler

    messages = shop.mixed(200, customers, seed=5)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    resolve_times(services.agent, messages)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    parser.add_argument("--profile", action="store_true", help="also profile 200 resolves")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-fixture", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the agent logs nothing useful for a benchmark
    RESULTS.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    figures: dict = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                     "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="supportops-bench-") as name:
        tmp = Path(name)
        from agents.factory import build_services

        started = time.perf_counter()
        services = build_services(settings_for(tmp, "bench"))
        figures["build_services_s"] = time.perf_counter() - started  # builds the index too
        try:
            load_shop(services, 200)
            figures["in_process"] = in_process(services, 200, 20 if args.quick else 50)
            figures["stages"] = stages(services, 200)
            if args.profile:
                profile(services, 200, RESULTS / "profile.txt")
                figures["profile"] = str(RESULTS / "profile.txt")
            if not args.skip_scale:
                sizes = [100, 10_000] if args.quick else [100, 10_000, 100_000]
                figures["scale"] = at_scale(services, tmp, sizes, 70 if args.quick else 140)
        finally:
            services.close()
        if not args.skip_fixture:
            figures["fixture"] = fixture_load(tmp)
        if not args.skip_http:
            figures["http"] = http(tmp, 5 if args.quick else 10)
    figures["load_after"] = os.getloadavg()
    figures["took_s"] = time.perf_counter() - began
    text = report.markdown(figures)
    print(text)
    (RESULTS / "latest.md").write_text(text)
    report.chart(figures, RESULTS / "latency.png")
    print(f"written: {RESULTS / 'latest.md'}, {RESULTS / 'latency.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
