"""The API as an operator runs it — gunicorn with N uvicorn workers on a throw-away PostgreSQL
database — as a subprocess on loopback that a test can load, kill -9 (one worker or the whole
server) and restart, and helpers to read the database afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from config import ROOT

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API_KEY = "reliability-key"
HEADERS = {"X-API-Key": API_KEY}


def run_async(coro):
    """asyncio.run on a thread of its own: in the whole suite the browser tests' Playwright
    (sync API) leaves an event loop running in the main thread, where asyncio.run refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database() -> str:
    name = f"supportops_rel_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(env: dict, fixture: dict, tmp: Path) -> None:
    """init_db.py --seed-file, exactly as an operator loads a shop (schema, data, index)."""
    path = tmp / "fixture.json"
    path.write_text(json.dumps(fixture))
    done = subprocess.run([sys.executable, "init_db.py", "--seed-file", str(path), "--reset"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


class ApiServer:
    """gunicorn -k uvicorn.workers.UvicornWorker -w N, in its own process group."""

    def __init__(self, env: dict, workers: int, log: Path):
        self.env, self.workers, self.log = env, workers, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 150) -> float:
        """Start and wait until every worker has finished its start-up; returns the seconds."""
        started = time.monotonic()
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "api.main:app", "-k",
             "uvicorn.workers.UvicornWorker", "-w", str(self.workers), "-b",
             f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "5"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
            stderr=open(self.log, "a"), start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            ready = self.log.read_text()[offset:].count("Application startup complete")
            if ready >= self.workers and self.healthy():
                return time.monotonic() - started
            time.sleep(0.3)
        self.kill()
        raise RuntimeError("API did not start:\n" + self.log.read_text()[-3000:])

    def healthy(self) -> bool:
        try:
            return httpx.get(self.base + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        pid = self.proc.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def kill_worker(self) -> int:
        """kill -9 one worker; gunicorn's master starts a new one."""
        victim = self.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill(self) -> None:
        """kill -9 the whole server: master and every worker at once."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def check_invariants(url: str, max_refunds: int) -> dict:
    """What must hold after any load, crash or outage: the fraud limit, once per order, no
    partial cancellation, and every action exactly once in the audit trail (and nothing in the
    trail that did not happen). Returns the counts."""
    per_user = query(url, "SELECT user_id, count(*) FROM refunds WHERE kind = 'refund' "
                          "GROUP BY user_id")
    assert all(n <= max_refunds for _, n in per_user), per_user
    per_order = query(url, "SELECT order_id, count(*) FROM refunds GROUP BY order_id "
                           "HAVING count(*) > 1")
    assert per_order == [], per_order
    cancelled = {r[0] for r in query(url, "SELECT id FROM orders WHERE status = 'cancelled'")}
    cancel_refunds = {r[0] for r in query(url, "SELECT order_id FROM refunds "
                                                "WHERE kind = 'cancellation'")}
    assert cancelled == cancel_refunds, (cancelled ^ cancel_refunds)
    counts = {}
    for tool, sql in (("issue_refund", "SELECT order_id FROM refunds WHERE kind = 'refund'"),
                      ("cancel_order", "SELECT id FROM orders WHERE status = 'cancelled'"),
                      ("create_replacement", "SELECT original_order_id FROM replacements")):
        done = sorted(str(r[0]) for r in query(url, sql))
        audited = sorted(str(r[0]) for r in query(
            url, "SELECT order_id FROM audit_records WHERE tool = :tool "
                 "AND outcome IN ('success', 'escalated')", tool=tool))
        assert done == audited, (tool, sorted(set(done) ^ set(audited)))
        counts[tool] = len(done)
    # every case opened (by a request for a person, R2a or R2b) is in the trail
    cases = {r[0] for r in query(url, "SELECT order_id FROM escalations WHERE order_id "
                                      "IS NOT NULL")}
    audited = {r[0] for r in query(url, "SELECT order_id FROM audit_records WHERE outcome IN "
                                        "('escalated', 'denied', 'success')")}
    assert cases <= audited, sorted(cases - audited)
    counts["cases"] = len(cases)
    verify = subprocess.run([sys.executable, "-m", "audit", "verify"], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    return counts
