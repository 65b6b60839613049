"""Idempotency-Key (R8): the first result is stored and replayed; a reused key with another body
is a conflict. A placeholder row is inserted before the work starts, so two concurrent requests
with one key cannot both run the action: the second waits for the first's result."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from api.errors import ApiError
from db.engine import transaction
from db.models import IdempotencyRecord

IN_PROGRESS = 0
WAIT_SECONDS = 60.0


@dataclass
class Claim:
    key: str
    replay: tuple[int, dict] | None = None


def request_hash(scope: str, body: dict) -> str:
    return hashlib.sha256((scope + json.dumps(body, sort_keys=True, default=str)).encode()
                          ).hexdigest()


def claim(factory, key: str, scope: str, body: dict) -> Claim:
    if not 1 <= len(key) <= 200:
        raise ApiError(422, "Idempotency-Key must be 1 to 200 characters.")
    full_key, digest = f"{scope}:{key}", request_hash(scope, body)
    try:
        with transaction(factory) as s:
            s.add(IdempotencyRecord(key=full_key, request_hash=digest, status_code=IN_PROGRESS,
                                    response={}))
        return Claim(full_key)
    except IntegrityError:
        pass
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with transaction(factory) as s:
            record = s.get(IdempotencyRecord, full_key)
            if record is None:  # the first attempt failed and released the key: run again
                return claim(factory, key, scope, body)
            if record.request_hash != digest:
                raise ApiError(409, "This Idempotency-Key was already used with a different "
                                    "request body.", "idempotency_conflict")
            if record.status_code != IN_PROGRESS:
                return Claim(full_key, (record.status_code, record.response))
        if time.monotonic() > deadline:
            raise ApiError(409, "A request with this Idempotency-Key is still being processed.",
                           "idempotency_in_progress")
        time.sleep(0.05)


def complete(factory, claim_: Claim, status_code: int, response: dict) -> None:
    with transaction(factory) as s:
        record = s.get(IdempotencyRecord, claim_.key)
        if record is not None:
            record.status_code, record.response = status_code, response


def release(factory, claim_: Claim) -> None:
    """The work failed unexpectedly: forget the key so a retry can run."""
    with transaction(factory) as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == claim_.key))
