"""Health and metrics: open to probes and scrapers, no API key.

/health names every dependency: `database` ("ok" / "unreachable", with `database_detail`), the
policy `index`, `redis` when REDIS_URL is set (the shared rate limits), the rate-limit store, and
`audit_export`: how far the JSONL file lags behind the audit table. 200 when the API can serve
(`status` "ok", or "warn" when the export is behind); 503 when the database or Redis is
unreachable.
"""

from __future__ import annotations

import json
import os
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select, text

from db.engine import READ_ONLY
from db.models import AuditChainHead

router = APIRouter(tags=["operations"])

# The export runs every half second; past this many seconds behind, the file is "behind".
EXPORT_LAG_WARN_SECONDS = 5.0


def _database(engine) -> tuple[dict, int | None]:
    """The database's state and the audit chain's last seq."""
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})  # a read: never waits for a writer
            conn.execute(text("SELECT 1"))
            last_seq = conn.execute(select(AuditChainHead.last_seq)).scalar()
        return {"status": "ok", "backend": engine.dialect.name,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}, last_seq
    except Exception as exc:
        return {"status": "unreachable", "backend": engine.dialect.name,
                "error": type(exc).__name__}, None


def _last_exported_seq(path) -> int | None:
    """The `seq` of the last complete line of the JSONL audit file (0: empty or missing)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 65536))
            lines = [ln for ln in f.read().split(b"\n")[:-1] if ln.strip()]
    except FileNotFoundError:
        return 0
    except OSError:
        return None
    for raw in reversed(lines):
        try:
            seq = json.loads(raw).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int):
            return seq
    return 0


class _ExportLag:
    """Records behind, and since when, so the answer is a lag in seconds too."""

    def __init__(self):
        self.behind_since: float | None = None

    def check(self, path, last_seq: int | None) -> dict:
        exported = _last_exported_seq(path)
        if last_seq is None or exported is None:
            return {"status": "unknown"}
        behind = max(0, last_seq - exported)
        now = time.monotonic()
        if behind == 0:
            self.behind_since = None
        elif self.behind_since is None:
            self.behind_since = now
        lag = 0.0 if self.behind_since is None else now - self.behind_since
        return {"status": "behind" if lag > EXPORT_LAG_WARN_SECONDS else "ok",
                "records_behind": behind, "lag_seconds": round(lag, 1)}


def _redis(app) -> dict:
    client = getattr(app.state.limiter, "client", None)
    if client is None:  # Redis configured, but the limits are kept elsewhere: probe it anyway
        client = getattr(app.state, "redis_probe", None)
        if client is None:
            import redis

            client = app.state.redis_probe = redis.Redis.from_url(
                app.state.settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return {"status": "ok"}
    except Exception as exc:
        return {"status": "unreachable", "error": type(exc).__name__}


@router.get("/health")
async def health(request: Request):
    """Every dependency; 503 when the database or Redis is unreachable."""
    app = request.app
    settings = app.state.settings
    services = getattr(app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting", "database": "unknown",
                             "index": {"status": "unknown"},
                             "agent_mode": settings.resolved_agent_mode},
                            status_code=503)
    database, last_seq = await run_in_threadpool(_database, services.engine)
    lag = getattr(app.state, "export_lag", None)
    if lag is None:
        lag = app.state.export_lag = _ExportLag()
    body = {"status": "ok", "database": database["status"], "database_detail": database,
            "index": {"status": "ok" if services.index.chunk_count else "empty",
                      "sections": services.index.chunk_count},
            "rate_limits": {"backend": app.state.limiter.name,
                            "fail_open": settings.rate_limit_fail_open},
            "audit_export": await run_in_threadpool(lag.check, services.runner.audit.path,
                                                    last_seq),
            "agent_mode": services.agent.mode}
    down = body["database"] != "ok"
    if settings.redis_url:
        body["redis_detail"] = await run_in_threadpool(_redis, app)
        body["redis"] = body["redis_detail"]["status"]
        down = down or body["redis"] != "ok"
    if down:
        body["status"] = "degraded"
    elif body["audit_export"]["status"] == "behind" or body["index"]["status"] != "ok":
        body["status"] = "warn"
    return JSONResponse(body, status_code=503 if down else 200)


@router.get("/metrics")
async def metrics(request: Request):
    """Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)
