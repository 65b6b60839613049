"""The app factory. `uvicorn api.main:app` serves the module-level app; tests call create_app.

The lifespan builds the engine, policy index, classifier and agent once per
process (never at import time); tests may pass ready-made services instead.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from agents.factory import AgentServices, build_services
from api.deps import require_api_key
from api.errors import install_error_handlers
from api.metrics import Metrics
from api.middleware import RequestContextMiddleware
from api.rate_limit import make_limiter
from api.routes import cases, conversations, health, policies, support, tickets
from audit.log_setup import configure_logging
from config import Settings, get_settings

DESCRIPTION = """Customer-support agent service. Every endpoint except `/health`, `/metrics` and
the docs needs the `X-API-Key` header. Errors are `{"error": {"code", "message"}}`."""


def create_app(settings: Settings | None = None, services: AgentServices | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging()
        # At most API_THREADS requests run their work at once in this worker; the rest wait in
        # the event loop. With the offline brain the work is CPU-bound: more threads only fight
        # for the GIL, and a thread holding the database's write lock while it waits for the GIL
        # stalls every writer (README "Speed").
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        own = services is None
        app.state.services = services or await run_in_threadpool(build_services, settings)
        # The JSONL audit file follows the database within a second, including records that a
        # crashed process committed but never exported (audit/export.py).
        exporter = app.state.services.runner.audit.start_export_thread()
        sender = None
        if settings.smtp_host:  # without SMTP nothing is sent; mails wait in the outbox
            from api.services.mail_sender import MailSender

            sender = MailSender(app.state.services.session_factory, settings).start()
        try:
            yield
        finally:
            if sender is not None:
                await run_in_threadpool(sender.stop)
            await run_in_threadpool(exporter.stop)
            if own:
                app.state.services.close()

    app = FastAPI(title="SupportOps agent API", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.services = services  # tests may inject; otherwise the lifespan builds them
    app.state.metrics = Metrics()
    app.state.limiter = make_limiter(
        settings, lambda: getattr(app.state.services, "engine", None))
    install_error_handlers(app)

    protected = [Depends(require_api_key)]
    app.include_router(support.router, dependencies=protected)
    app.include_router(conversations.router, dependencies=protected)
    app.include_router(tickets.router, dependencies=protected)
    app.include_router(cases.router, dependencies=protected)
    app.include_router(policies.router, dependencies=protected)
    app.include_router(health.router)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["X-API-Key", "Content-Type", "Idempotency-Key"])
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes,
                       metrics=app.state.metrics)
    logging.getLogger("api").debug("app created")
    return app


app = create_app()
