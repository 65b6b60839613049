"""Sign-in throttling: at most N attempts per (email, client address) per window, counted where
every portal process sees them.

An attempt is *reserved* before the password hash is checked: `reserve` counts it and says go
ahead, or refuses it with the seconds to wait, in one step that concurrent requests cannot
interleave. So 40 parallel wrong passwords get at most N hash checks, and the others are refused
without one. A successful sign-in clears the key; a failed one leaves its reservation as the
failure. Counting attempts rather than failures means N sign-ins in flight at once use the
whole allowance until they finish, which is what a limit on guessing should do.

Backends (LOGIN_THROTTLE_BACKEND): the database (`login_attempts`, the default, shared by every
worker and host), Redis (when REDIS_URL is set; falls back to the database while Redis is
unreachable) and process memory (one process only: tests, `flask run`). Keys are an HMAC of
the email and the address with the portal's secret, so no store holds an email.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import LoginAttempt, utcnow

log = logging.getLogger(__name__)


def _wait(seconds_left: float) -> int:
    """Seconds until the oldest attempt leaves the window (never 0: 0 means go ahead)."""
    return max(1, int(seconds_left) + 1)


class LoginThrottle:
    """What every backend does; `reserve` and `clear` are theirs."""

    name = "base"

    def __init__(self, max_attempts: int = 5, window_seconds: float = 300.0,
                 secret: str = "supportops-login-throttle"):
        self.max_attempts = max_attempts
        self.window = float(window_seconds)
        self._secret = secret.encode()

    def key(self, email: str, address: str | None) -> str:
        plain = f"{(email or '').strip().lower()}\n{address or 'unknown'}"
        return hmac.new(self._secret, plain.encode(), hashlib.sha256).hexdigest()

    def reserve(self, key: str) -> int:
        """0: go ahead, this attempt is counted; otherwise the seconds to wait (nothing counted)."""
        raise NotImplementedError

    def clear(self, key: str) -> None:
        """A successful sign-in: earlier attempts of this key no longer count."""
        raise NotImplementedError


class MemoryThrottle(LoginThrottle):
    name = "memory"

    def __init__(self, max_attempts: int = 5, window_seconds: float = 300.0,
                 secret: str = "supportops-login-throttle",
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(max_attempts, window_seconds, secret)
        self.clock = clock
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str) -> int:
        with self._lock:
            attempts = self._prune(key)
            if len(attempts) >= self.max_attempts:
                return _wait(attempts[0] + self.window - self.clock())
            attempts.append(self.clock())
            if len(self._attempts) > 10_000:  # bound memory under a spray of addresses
                for stale in [k for k in self._attempts if not self._prune(k)]:
                    self._attempts.pop(stale, None)
            return 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._attempts.pop(key, None)

    def _prune(self, key: str) -> deque[float]:
        attempts = self._attempts.setdefault(key, deque())
        cutoff = self.clock() - self.window
        while attempts and attempts[0] <= cutoff:
            attempts.popleft()
        return attempts


class DatabaseThrottle(LoginThrottle):
    """Rows in `login_attempts`. The count and the insert happen in one transaction serialised
    per key: SQLite's BEGIN IMMEDIATE (db/engine.py) holds the write lock from the start, and on
    PostgreSQL a transaction-scoped advisory lock on the key does the same."""

    name = "database"

    def __init__(self, factory: sessionmaker[Session], max_attempts: int = 5,
                 window_seconds: float = 300.0, secret: str = "supportops-login-throttle",
                 clock: Callable[[], datetime] = utcnow):
        super().__init__(max_attempts, window_seconds, secret)
        self.factory = factory
        self.clock = clock

    def reserve(self, key: str) -> int:
        now = self.clock()
        cutoff = now - timedelta(seconds=self.window)
        with transaction(self.factory) as session:
            self._serialise(session, key)
            session.execute(delete(LoginAttempt).where(LoginAttempt.key == key,
                                                       LoginAttempt.attempted_at <= cutoff))
            times = list(session.scalars(
                select(LoginAttempt.attempted_at).where(LoginAttempt.key == key)
                .order_by(LoginAttempt.attempted_at).limit(self.max_attempts)))
            if len(times) >= self.max_attempts:
                return _wait((times[0] - cutoff).total_seconds())
            session.add(LoginAttempt(id=uuid.uuid4().hex, key=key, attempted_at=now))
            if random.randrange(100) == 0:  # other keys' old rows, now and then
                session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= cutoff))
        return 0

    def clear(self, key: str) -> None:
        with transaction(self.factory) as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))

    @staticmethod
    def _serialise(session: Session, key: str) -> None:
        if session.get_bind().dialect.name == "postgresql":
            lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})


# One sorted set per key, scored by Redis's own clock, so hosts with skewed clocks agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return '0'
"""


class RedisThrottle(LoginThrottle):
    """A Lua script does count-and-reserve atomically. While Redis is unreachable the database
    throttle counts instead (never a 500, never unlimited guessing)."""

    name = "redis"

    def __init__(self, url: str, fallback: DatabaseThrottle, max_attempts: int = 5,
                 window_seconds: float = 300.0, secret: str = "supportops-login-throttle"):
        import redis

        super().__init__(max_attempts, window_seconds, secret)
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.script = self.client.register_script(_RESERVE)
        self.fallback = fallback

    def _redis_key(self, key: str) -> str:
        return f"supportops:login:{key}"

    def reserve(self, key: str) -> int:
        try:
            left = float(self.script(keys=[self._redis_key(key)],
                                     args=[self.window, self.max_attempts, uuid.uuid4().hex]))
        except Exception as exc:  # ConnectionError, TimeoutError, a READONLY replica…
            log.warning("login throttle: Redis unavailable (%s); counting in the database",
                        type(exc).__name__)
            return self.fallback.reserve(key)
        return 0 if left <= 0 else _wait(left)

    def clear(self, key: str) -> None:
        try:
            self.client.delete(self._redis_key(key))
        except Exception as exc:
            log.warning("login throttle: Redis unavailable (%s)", type(exc).__name__)
        self.fallback.clear(key)


def make_throttle(backend: str, factory: sessionmaker[Session], redis_url: str | None,
                  max_attempts: int, window_seconds: float, secret: str) -> LoginThrottle:
    """`auto`: Redis when REDIS_URL is set, else the database."""
    if backend == "auto":
        backend = "redis" if redis_url else "database"
    if backend == "memory":
        return MemoryThrottle(max_attempts, window_seconds, secret)
    database = DatabaseThrottle(factory, max_attempts, window_seconds, secret)
    if backend == "redis":
        if not redis_url:
            raise ValueError("LOGIN_THROTTLE_BACKEND=redis needs REDIS_URL")
        return RedisThrottle(redis_url, database, max_attempts, window_seconds, secret)
    return database
