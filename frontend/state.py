"""What the portal builds once per app (in create_app) and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit.audit_log import AuditLog
from config import Settings
from frontend.api_client import ApiClient
from frontend.throttle import LoginThrottle

EXTENSION_KEY = "supportops_portal"


@dataclass
class PortalState:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    api: ApiClient
    throttle: LoginThrottle
    audit: AuditLog
    # Seconds a queued ticket waits after a failed attempt before the next one.
    retry_backoff_seconds: float = 5.0
    # Page views retry inline, so they use a shorter timeout than the background worker.
    inline_retry_timeout: float = 10.0


def get_state() -> PortalState:
    return current_app.extensions[EXTENSION_KEY]
