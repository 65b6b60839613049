"""HTTP load on the real server: `/support/resolve` and the same server's `/health`, with wrk.

The server is started exactly as `make run` serves the API (scripts/run_local.api_command), on
loopback, against a prepared SQLite shop. Debian's `wrk` drives 16 keep-alive connections from
one thread (resolve.lua sends the message mix); without wrk, a small asyncio generator in this
file does the same, and the report says which was used. Every run is bounded: wrk by -d, the
asyncio generator by its deadline, the server by a kill at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

from run_local import api_command  # noqa: E402

KEY = "bench-key"


def server_env(tmp: Path) -> dict:
    """The server's settings: the bench database and index, the offline brain, limits that a
    benchmark does not trip, and nothing from a developer's .env that would change the brain."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "SUPPORT_API_KEY": KEY, "AGENT_MODE": "offline", "OPENAI_API_KEY": "",
            "REDIS_URL": "", "INDEX_DIR": str(tmp / "index"),
            "AUDIT_LOG_PATH": str(tmp / "audit.jsonl"), "HF_HUB_OFFLINE": "1",
            "RATE_LIMIT_PER_USER": "1000000", "RATE_LIMIT_PER_KEY": "100000000",
            "SMTP_HOST": ""}


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """`workers` uvicorn processes on `port`; `started_s` is the time to the first healthy
    /health (imports, model and index load, migrations check)."""

    def __init__(self, tmp: Path, port: int, workers: int):
        self.tmp, self.port, self.workers = tmp, port, workers
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(tmp / f"server-{workers}.log", "wb")  # noqa: SIM115
        started = time.perf_counter()
        self.proc = subprocess.Popen(api_command(port, workers), cwd=ROOT, env=server_env(tmp),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started_s = self._wait(started)

    def _wait(self, started: float, limit: float = 120) -> float:
        while time.perf_counter() - started < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    took = time.perf_counter() - started
                    # every worker up: each answers /health only once its lifespan has run
                    while self.workers > 1 and len(self.worker_rss_mb()) < self.workers:
                        time.sleep(0.1)
                    return took
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def worker_rss_mb(self) -> list[float]:
        """RSS of each worker process (with --workers, the supervisor's children other than
        multiprocessing's resource tracker)."""
        if self.workers == 1:
            return [round(rss_mb(self.proc.pid))]
        pids = [p for p in children(self.proc.pid)
                if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
        return [round(rss_mb(p)) for p in pids]

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, script: Path, seconds: float, connections: int, env: dict) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
                          "-s", str(script), url], capture_output=True, text=True, env=env,
                         timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON "):])
            data["rps"] = data["requests"] / data["seconds"]
            data["percentiles_ms"] = {float(k): v / 1000 for k, v in
                                      data.pop("percentiles_us").items()}
            return data
    raise RuntimeError(f"wrk printed no result: {out.stdout}\n{out.stderr}")


async def _async_load(url: str, bodies: list[str] | None, seconds: float,
                      connections: int) -> dict:
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        async def one(worker: int) -> None:
            nonlocal errors
            i = worker
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    if bodies is None:
                        r = await client.get(url)
                    else:
                        r = await client.post(url, content=bodies[i % len(bodies)],
                                              headers=headers)
                        i += connections
                    errors += r.status_code >= 400
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(one(w) for w in range(connections)))
        took = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] * 1000  # noqa: E731
    qs = (1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 90, 95, 99, 99.9)
    return {"requests": len(latencies), "seconds": took, "errors": 0, "non2xx": errors,
            "rps": len(latencies) / took, "percentiles_ms": {float(q): pick(q) for q in qs}}


def load(url: str, bodies_file: Path | None, seconds: float, connections: int) -> dict:
    """Drive `url` for `seconds` with `connections` connections: POST bodies from bodies_file
    (one JSON per line) or GET when None."""
    if wrk_available():
        env = {**os.environ, "BENCH_KEY": KEY}
        script = HERE / "health.lua"
        if bodies_file is not None:
            env["BENCH_BODIES"], script = str(bodies_file), HERE / "resolve.lua"
        return run_wrk(url, script, seconds, connections, env)
    bodies = bodies_file.read_text().splitlines() if bodies_file is not None else None
    return asyncio.run(_async_load(url, bodies, seconds, connections))


def measure(tmp: Path, bodies_file: Path, workers: int, port: int, seconds: float,
            connections: int = 16) -> dict:
    """One server: start-up time, /health then /support/resolve under the same load, RSS."""
    server = Server(tmp, port, workers)
    try:
        for line in bodies_file.read_text().splitlines()[:20]:  # warm every code path once
            httpx.post(server.url + "/support/resolve", content=line, timeout=30,
                       headers={"X-API-Key": KEY, "Content-Type": "application/json"})
        health = load(server.url + "/health", None, seconds, connections)
        resolve = load(server.url + "/support/resolve", bodies_file, seconds, connections)
        rss = server.worker_rss_mb()
    finally:
        server.stop()
    return {"workers": workers, "started_s": server.started_s, "health": health,
            "resolve": resolve, "rss_mb": rss, "ratio": resolve["rps"] / health["rps"],
            "generator": "wrk" if wrk_available() else "python asyncio (httpx)"}
