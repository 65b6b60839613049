"""Dependency aliases: the services built at start-up, the API key check, the rate limits."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from agents.factory import AgentServices
from api.errors import ApiError
from config import Settings


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
    wait = request.app.state.limiter.hit(f"{scope}:{who}", limit)
    if wait:
        raise ApiError(429, f"Too many requests; try again in {wait} s.", "rate_limited",
                       {"Retry-After": str(wait)})


def limit_user(request: Request, user_id: int) -> None:
    limit_key(request, "user", request.app.state.settings.rate_limit_per_user, str(user_id))


def request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "-")


RequestIdDep = Annotated[str, Depends(request_id)]
