"""One error shape for every failure: {"error": {"code", "message"}}, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.errors import NotFound
from tools.registry import ProposalGone, ProposalNotFound

log = logging.getLogger("api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
         415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
         503: "unavailable"}
BUSY = ("The service is busy or its database is unreachable right now; try again in {} s.")


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # pragma: no cover - redis is a dependency
        return ()
    return (RedisConnectionError, RedisTimeout)


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=headers)


LOCATIONS = ("body", "query", "path", "header", "cookie")
NOT_JSON = "The request body is not valid JSON."


def _describe(errors: list[dict]) -> str:
    """`field: problem` for each error. Only the leading location (body, query, …) is dropped,
    so a field that is itself called `body` is still named ("body: Field required")."""
    if any(err.get("type") == "json_invalid" for err in errors):
        return NOT_JSON
    parts = []
    for err in errors[:5]:
        path = list(err.get("loc", ()))
        if path and path[0] in LOCATIONS:
            path = path[1:]
        loc = ".".join(str(p) for p in path)
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound):
        return error_response(404, f"{exc.what}_not_found", exc.message)

    @app.exception_handler(ProposalNotFound)
    async def _no_proposal(_: Request, exc: ProposalNotFound):
        return error_response(404, "proposal_not_found", "No such proposal for this user.")

    @app.exception_handler(ProposalGone)
    async def _proposal_gone(_: Request, exc: ProposalGone):
        messages = {"expired": "This offer has expired; nothing was changed. Ask again and "
                               "I'll check your order afresh.",
                    "dropped": "This offer was withdrawn (the conversation moved on); nothing "
                               "was changed.",
                    "confirmed": "This offer was already confirmed."}
        return error_response(409, f"proposal_{exc.state}",
                              messages.get(exc.state, "This offer is no longer open."))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return error_response(422, "validation_error", _describe(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, CODES.get(exc.status_code, "error"), message,
                              getattr(exc, "headers", None))

    def unavailable(request: Request, code: str, dependency: str, exc: BaseException):
        """503 with Retry-After: the client may retry; counted per dependency in /metrics."""
        wait = request.app.state.settings.unavailable_retry_after
        log.warning("%s unavailable on %s %s: %s", dependency, request.method, request.url.path,
                    str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        request.app.state.metrics.unavailable.labels(dependency).inc()
        return error_response(503, code, BUSY.format(wait), {"Retry-After": str(wait)})

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout):
        # every pooled connection is in use for longer than DB_POOL_TIMEOUT
        return unavailable(request, "busy", "database_pool", exc)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError):
        # refused or lost connections, lock time-outs, "too many clients"
        return unavailable(request, "busy", "database", exc)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError):
        # a value the database cannot hold (a number out of its column's range, NUL): bad input
        log.info("data error on %s %s: %s", request.method, request.url.path,
                 str(exc.orig).splitlines()[0][:200] if exc.orig else "-")
        return error_response(422, "validation_error",
                              "A value in the request is out of range or not storable.")

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError):
        if exc.connection_invalidated:  # the connection died under the statement
            return unavailable(request, "busy", "database", exc)
        return await _unexpected(request, exc)

    for redis_error in _redis_errors():
        app.add_exception_handler(
            redis_error, lambda request, exc: unavailable(request, "unavailable", "redis", exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        request_id = getattr(request.state, "request_id", "-")
        log.error("unhandled error on %s %s (request %s)", request.method, request.url.path,
                  request_id, exc_info=exc)
        return error_response(500, "internal_error",
                              f"Something went wrong on our side (request id {request_id}).",
                              {"X-Request-ID": request_id})
