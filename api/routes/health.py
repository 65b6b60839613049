"""Health and metrics: open to probes and scrapers, no API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

router = APIRouter(tags=["operations"])


def _database_ok(engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@router.get("/health")
async def health(request: Request):
    """Database, policy index and agent mode; 503 when the database is unreachable."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting", "database": "unknown", "index": "unknown",
                             "agent_mode": request.app.state.settings.resolved_agent_mode},
                            status_code=503)
    db_ok = await run_in_threadpool(_database_ok, services.engine)
    body = {"status": "ok" if db_ok else "degraded",
            "database": "ok" if db_ok else "unreachable",
            "index": {"status": "ok", "sections": services.index.chunk_count},
            "agent_mode": services.agent.mode}
    return JSONResponse(body, status_code=200 if db_ok else 503)


@router.get("/metrics")
async def metrics(request: Request):
    """Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)
