"""Request id, body-size limit and request metrics, as one pure ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware) so the size limit can count a streamed body
as it arrives and refuse it before the app reads it all.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from starlette.exceptions import HTTPException

from api.metrics import Metrics
from audit.redact import redact

SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def _usable_id(incoming: str) -> bool:
    """A client's X-Request-ID is kept only when it is short, plain and holds nothing the PII
    redactor would change (a phone number as an id would otherwise reach logs and the audit
    trail); else the request gets an id of ours."""
    return bool(SAFE_ID.match(incoming)) and redact(incoming) == incoming


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it through as a 413."""

    def __init__(self, limit: int):
        super().__init__(413, f"Request body is larger than {limit} bytes.")


class RequestContextMiddleware:
    def __init__(self, app, max_body_bytes: int, metrics: Metrics):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _usable_id(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [h for h in message["headers"]
                                      if h[0].lower() != b"x-request-id"]
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body_bytes:
            await self._reject(send_wrapper, request_id)
            self._observe(scope, 413, started)
            return

        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await self._reject(send_wrapper, request_id, 400, "bad_request",
                               "The URL must not contain NUL characters.")
            self._observe(scope, 400, started)
            return

        received = 0

        async def receive_wrapper():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge(self.max_body_bytes)
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except _TooLarge:
            await self._reject(send_wrapper, request_id)
            status_holder["status"] = 413
        except BaseException:
            # Unhandled: the outermost error handler answers 500 outside this middleware, so
            # count it here or /metrics would never see it.
            self._observe(scope, 500, started)
            raise
        self._observe(scope, status_holder["status"], started)

    async def _reject(self, send, request_id, status: int = 413, code: str = "payload_too_large",
                      message: str | None = None):
        message = message or f"Request body is larger than {self.max_body_bytes} bytes."
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope, status: int, started: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "GET")
        self.metrics.requests.labels(path, method, str(status)).inc()
        self.metrics.latency.labels(path, method).observe(time.perf_counter() - started)
