"""Idempotency-Key (R8): the first result is stored and replayed; a reused key with another body
is a conflict (409).

A request with a key first *claims* it: a row with no result yet, an `owner` (this attempt) and a
lease (`lease_until`). The owner renews the lease while it works and writes the result right
after the work; a repeat that finds the claim held waits in the event loop (asyncio.sleep, no
worker thread held), replays the result when it appears, and after IDEMPOTENCY_WAIT_SECONDS gets
409 `idempotency_in_progress` with Retry-After. A claim whose lease lapsed without a result (the
owner was killed, or its release failed in a database outage) is taken over by the next retry,
which runs the request again; so no key is ever stuck.

What this guarantees (README "Exactly once"): a key's result, once stored, is the only answer
that key ever gets; while an attempt is alive no second attempt runs; and when a crashed
attempt's request is run again, the action itself still happens at most once because the
action's own rules hold in the database (a refund, a cancellation and a replacement are
unique per order, R8; a proposal is confirmed once, R11; one open case per order, R12). What
the rerun cannot do is repeat the crashed attempt's words: it answers from the state it finds
(e.g. "already refunded").
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from agents.errors import NotFound
from api.errors import ApiError
from db.engine import transaction
from db.models import IdempotencyRecord, utcnow

log = logging.getLogger("api.idempotency")

IN_PROGRESS = 0
FIRST_POLL, MAX_POLL = 0.02, 0.5  # seconds between a waiter's looks at the claim


@dataclass
class Claim:
    key: str
    owner: str | None = None  # set: this attempt holds the key and must do the work
    replay: tuple[int, dict] | None = None  # set: the stored result
    busy_for: float = 0.0  # neither: another attempt holds the key for this many seconds more
    taken_over: bool = False  # this attempt took over a lapsed claim that left no result
    taken_over_from: str | None = None  # that attempt's request id


def request_hash(scope: str, body: dict) -> str:
    return hashlib.sha256((scope + json.dumps(body, sort_keys=True, default=str)).encode()
                          ).hexdigest()


def claim(factory, key: str, scope: str, body: dict, *, lease_seconds: float = 30.0,
          request_id: str | None = None) -> Claim:
    """One look at the key, never waiting: claim it, take over a lapsed claim, replay the stored
    result, or report how long another attempt still holds it."""
    if not 1 <= len(key) <= 200:
        raise ApiError(422, "Idempotency-Key must be 1 to 200 characters.")
    full_key, digest = f"{scope}:{key}", request_hash(scope, body)
    owner, now = uuid.uuid4().hex, utcnow()
    lease = timedelta(seconds=lease_seconds)
    rid = (request_id or "")[:64] or None
    try:
        with transaction(factory) as s:
            s.add(IdempotencyRecord(key=full_key, request_hash=digest, status_code=IN_PROGRESS,
                                    response={}, owner=owner, lease_until=now + lease,
                                    attempts=1, request_id=rid))
        return Claim(full_key, owner=owner)
    except IntegrityError:
        pass
    with transaction(factory) as s:
        # Locked, so two retries of a lapsed claim cannot both take it over.
        record = s.get(IdempotencyRecord, full_key, with_for_update=True)
        if record is None:  # released by an older version of this code (deleted): claim again
            return claim(factory, key, scope, body, lease_seconds=lease_seconds,
                         request_id=request_id)
        if record.request_hash != digest:
            raise ApiError(409, "This Idempotency-Key was already used with a different "
                                "request body.", "idempotency_conflict")
        if record.status_code != IN_PROGRESS:
            return Claim(full_key, replay=(record.status_code, record.response))
        if record.lease_until is None or record.lease_until <= now:
            previous = record.request_id
            record.owner, record.lease_until, record.request_id = owner, now + lease, rid
            record.attempts = (record.attempts or 1) + 1
            log.warning("Idempotency-Key %s: lease of attempt %s lapsed without a result; "
                        "attempt %d takes over", full_key, previous, record.attempts)
            return Claim(full_key, owner=owner, taken_over=True, taken_over_from=previous)
        return Claim(full_key, busy_for=(record.lease_until - now).total_seconds())


def _owned(claim_: Claim):
    return (update(IdempotencyRecord)
            .where(IdempotencyRecord.key == claim_.key, IdempotencyRecord.owner == claim_.owner,
                   IdempotencyRecord.status_code == IN_PROGRESS)
            .execution_options(synchronize_session=False))


def renew(factory, claim_: Claim, lease_seconds: float) -> bool:
    """Extend this attempt's lease; False when it is no longer the owner."""
    with transaction(factory) as s:
        done = s.execute(_owned(claim_).values(
            lease_until=utcnow() + timedelta(seconds=lease_seconds)))
        return done.rowcount == 1


def complete(factory, claim_: Claim, status_code: int, response: dict) -> bool:
    """Store the result for every later repeat; False when another attempt took the key over
    (this attempt's lease lapsed), whose result then stands."""
    with transaction(factory) as s:
        done = s.execute(_owned(claim_).values(status_code=status_code, response=response,
                                               lease_until=None))
        return done.rowcount == 1


def release(factory, claim_: Claim) -> None:
    """The work failed unexpectedly: end the lease now, so a retry runs at once. The row stays,
    so a retry with another body is still a conflict. If this fails too (database down), the
    lease lapses by itself."""
    with transaction(factory) as s:
        s.execute(_owned(claim_).values(lease_until=utcnow()))


# Lease renewals get threads of their own: under load the shared thread pool is full of
# requests' work, and a renewal queued behind them would let a live owner's lease lapse.
_RENEWALS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="idempotency-lease")


async def _heartbeat(factory, claim_: Claim, lease_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            if not await loop.run_in_executor(_RENEWALS, renew, factory, claim_,
                                              lease_seconds):
                log.warning("Idempotency-Key %s: lost the claim while working", claim_.key)
                return
        except Exception:  # an outage: the lease may lapse, which is the point of a lease
            log.warning("Idempotency-Key %s: could not renew the lease", claim_.key,
                        exc_info=True)


async def _quietly(fn, *args) -> bool | None:
    try:
        return await run_in_threadpool(fn, *args)
    except Exception:
        log.warning("Idempotency-Key bookkeeping failed (%s)", fn.__name__, exc_info=True)
        return None


def _count(metrics, outcome: str) -> None:
    if metrics is not None:
        metrics.idempotency.labels(outcome).inc()


async def run_once(factory, settings, key: str, scope: str, body: dict, request_id: str,
                   work: Callable[[], dict], metrics=None) -> dict | JSONResponse:
    """Run `work` (in the thread pool) at most once per live claim of `key`, or replay its
    stored result. Waiting for another attempt happens in the event loop, bounded."""
    lease = settings.idempotency_lease_seconds
    deadline = time.monotonic() + settings.idempotency_wait_seconds
    delay = FIRST_POLL
    while True:
        claim_ = await run_in_threadpool(lambda: claim(factory, key, scope, body,
                                                       lease_seconds=lease,
                                                       request_id=request_id))
        if claim_.replay is not None:
            _count(metrics, "replayed")
            status, payload = claim_.replay
            return JSONResponse(payload, status_code=status,
                                headers={"Idempotent-Replayed": "true"})
        if claim_.owner is not None:
            _count(metrics, "taken_over" if claim_.taken_over else "claimed")
            break
        if time.monotonic() + delay > deadline:
            _count(metrics, "in_progress")
            wait = max(1, math.ceil(min(claim_.busy_for, 5.0)))
            raise ApiError(409, "A request with this Idempotency-Key is still being processed; "
                                f"retry in {wait} s for its result.", "idempotency_in_progress",
                           {"Retry-After": str(wait)})
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 1.6, MAX_POLL)

    beat = asyncio.create_task(_heartbeat(factory, claim_, lease))
    try:
        response = await run_in_threadpool(work)
    except asyncio.CancelledError:
        # The request was abandoned while its work may still be running in its thread: keep
        # the claim (no release) and let the lease lapse, so no retry runs alongside it.
        beat.cancel()
        raise
    except NotFound as exc:  # a client error is this key's answer too
        beat.cancel()
        await _quietly(complete, factory, claim_, 404, {
            "error": {"code": f"{exc.what}_not_found", "message": exc.message}})
        raise
    except BaseException:  # unexpected (or an outage): let a retry run at once
        beat.cancel()
        await _quietly(release, factory, claim_)
        raise
    beat.cancel()
    # The action has committed: the client gets its answer even if storing it fails now (the
    # lease then lapses and a retry answers from the state it finds).
    if await _quietly(complete, factory, claim_, 200, response) is False:
        log.warning("Idempotency-Key %s: another attempt took the key over; its result stands",
                    claim_.key)
    return response
