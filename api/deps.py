"""Dependency aliases: the services built at start-up, the API key check, the rate limits."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from agents.factory import AgentServices
from api.errors import ApiError
from api.rate_limit import LimiterUnavailable
from config import Settings

log = logging.getLogger("api")


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_services(request: Request) -> AgentServices:
    services = getattr(request.app.state, "services", None)
    if services is None:
        raise ApiError(503, "The agent is still starting up; try again shortly.")
    return services


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ServicesDep = Annotated[AgentServices, Depends(get_services)]


API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="The service key (SUPPORT_API_KEY).")


def require_api_key(request: Request,
                    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None):
    """Constant-time comparison; a server with no key configured refuses everyone."""
    expected = request.app.state.settings.support_api_key
    if not expected:
        raise ApiError(401, "The API has no SUPPORT_API_KEY configured.", "unauthorized")
    if not x_api_key or not secrets.compare_digest(x_api_key.encode(), expected.encode()):
        raise ApiError(401, "Missing or invalid X-API-Key header.", "unauthorized")
    limit_key(request, "key", request.app.state.settings.rate_limit_per_key)


def limit_key(request: Request, scope: str, limit: int, who: str = "") -> None:
    """Count one hit; 429 with Retry-After past the limit. When the counter store is down the
    request goes through (RATE_LIMIT_FAIL_OPEN, the default) or gets 503, never a 500.
    Blocking (a database or Redis round trip): call it from a thread, as sync dependencies are."""
    settings = request.app.state.settings
    try:
        wait = request.app.state.limiter.hit(f"{scope}:{who}", limit)
    except LimiterUnavailable as exc:
        request.app.state.metrics.limiter_unavailable.labels(
            "open" if settings.rate_limit_fail_open else "closed").inc()
        if settings.rate_limit_fail_open:
            log.warning("rate limiter unavailable, failing open: %s", str(exc)[:200])
            return
        raise ApiError(503, "The service is temporarily unavailable; try again shortly.",
                       "unavailable", {"Retry-After": str(settings.unavailable_retry_after)}
                       ) from exc
    if wait:
        raise ApiError(429, f"Too many requests; try again in {wait} s.", "rate_limited",
                       {"Retry-After": str(wait)})


async def limit_user(request: Request, user_id: int) -> None:
    await run_in_threadpool(limit_key, request, "user", request.app.state.settings.rate_limit_per_user,
                            str(user_id))


def request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "-")


RequestIdDep = Annotated[str, Depends(request_id)]
