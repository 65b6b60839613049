"""The one place the portal talks HTTP to the agent service (api/).

Every call has a timeout. Failures come out as two exceptions the views can act on:
ApiUnavailable (no answer we can use: connection refused, timeout, 5xx, garbage) means
"keep the request and try again later"; ApiError (a 4xx with the API's stable error
shape) means the API understood and refused. Some 4xx are about the portal's own
configuration or load (bad key, rate limit), not the request: `retryable` says so.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({401, 403, 408, 425, 429})


class ApiUnavailable(Exception):
    """The agent service did not give a usable answer; the request may be retried.

    `maybe_delivered` says the service may have received (and acted on) the request even so:
    a read time-out or a 5xx, unlike a refused connection. A retry must then replay the
    original request (same Idempotency-Key, same body) rather than send a new one."""

    def __init__(self, message: str, maybe_delivered: bool = False):
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class ApiError(Exception):
    """The agent service refused the request with a 4xx and `{"error": {code, message}}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


class ApiClient:
    def __init__(self, base_url: str, api_key: str | None, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def resolve(self, *, user_input: str, user_id: int, conversation_id: str | None = None,
                ticket_id: int | None = None, idempotency_key: str | None = None,
                timeout: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"user_input": user_input, "user_id": user_id,
                                "conversation_id": conversation_id}
        if ticket_id is not None:
            body["ticket_id"] = ticket_id
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("POST", "/support/resolve", json=body, headers=headers,
                             timeout=timeout)

    def confirm(self, proposal_id: str, *, user_id: int,
                timeout: float | None = None) -> dict[str, Any]:
        """The customer's yes to a proposal (R11); the API runs it at most once."""
        return self._request("POST", "/support/confirm",
                             json={"user_id": user_id, "proposal_id": proposal_id},
                             timeout=timeout)

    def decline(self, proposal_id: str, *, user_id: int,
                timeout: float | None = None) -> dict[str, Any]:
        return self._request("POST", "/support/decline",
                             json={"user_id": user_id, "proposal_id": proposal_id},
                             timeout=timeout)

    def feedback(self, ticket_id: int, *, user_id: int, satisfied: bool, rating: int | None,
                 comment: str | None, timeout: float | None = None) -> dict[str, Any]:
        # user_id makes the API check the ticket belongs to the signed-in customer, too.
        body = {"satisfied": satisfied, "rating": rating, "comment": comment, "user_id": user_id}
        return self._request("POST", f"/tickets/{int(ticket_id)}/feedback", json=body,
                             timeout=timeout)

    # --- the Staff API: every change to a case goes through here ----------------------------

    CASE_STEPS = frozenset({"assign", "reply", "note", "decision", "handback", "resolve",
                            "close"})

    def case_action(self, case_id: int, step: str, *, staff_id: int,
                    timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """POST /cases/{id}/{step} as `staff_id` (the signed-in member of staff): take or
        assign, reply, note, decision (approve/deny), handback, resolve, close."""
        if step not in self.CASE_STEPS:
            raise ValueError(f"unknown case step {step!r}")
        body = {"staff_id": staff_id, **{k: v for k, v in fields.items() if v is not None}}
        return self._request("POST", f"/cases/{int(case_id)}/{step}", json=body,
                             timeout=timeout)

    def search_policies(self, query: str, *, k: int = 5,
                        timeout: float | None = None) -> dict[str, Any]:
        """The assistant's own policy search (GET /policies/search), for the help centre."""
        return self._request("GET", "/policies/search", params={"q": query[:200], "k": k},
                             timeout=timeout)

    def health(self, timeout: float | None = None) -> dict[str, Any]:
        return self._request("GET", "/health", timeout=timeout)

    def _request(self, method: str, path: str, *, json: Any = None, params: Any = None,
                 headers: dict[str, str] | None = None, timeout: float | None = None) -> dict:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.api_key:
            all_headers["X-API-Key"] = self.api_key
        try:
            read = timeout or self.timeout
            # Connecting gets at least a second (a shorter connect limit only causes false
            # alarms); the read limit is the configured one.
            response = requests.request(method, self.base_url + path, json=json,
                                        params=params, headers=all_headers, timeout=(max(1.0, read), read))
        except requests.ConnectTimeout as exc:
            raise ApiUnavailable(f"the support service did not answer in time ({path})") from exc
        except requests.Timeout as exc:
            raise ApiUnavailable(f"the support service did not answer in time ({path})",
                                 maybe_delivered=True) from exc
        except requests.RequestException as exc:
            raise ApiUnavailable(f"the support service is unreachable ({path}): "
                                 f"{type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise ApiUnavailable(f"the support service failed ({path}): HTTP "
                                 f"{response.status_code}", maybe_delivered=True)
        try:
            data = response.json()
        except ValueError as exc:
            if response.status_code >= 400:
                raise ApiError(response.status_code, "http_error",
                               f"HTTP {response.status_code}") from exc
            raise ApiUnavailable(f"the support service sent a non-JSON answer ({path})",
                                 maybe_delivered=True) from exc
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            raise ApiError(response.status_code, str(error.get("code") or "http_error"),
                           str(error.get("message") or f"HTTP {response.status_code}"))
        if not isinstance(data, dict):
            raise ApiUnavailable(f"the support service sent an unexpected answer ({path})",
                                 maybe_delivered=True)
        return data
