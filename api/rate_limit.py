"""Per-user and per-key rate limits per minute, shared by every API worker.

Three stores behind one `hit(key, limit)`:

- `DatabaseLimiter` (the default without REDIS_URL): one row per (key, minute) in
  `rate_limit_counters`, incremented by a single upsert, so all workers on all hosts that share
  the database share one budget. One short write per check.
- `RedisLimiter` (the default with REDIS_URL): INCR + EXPIRE per (key, minute).
- `InProcessLimiter` (RATE_LIMIT_BACKEND=memory): exact, but per process; only for one worker.

The shared stores count fixed one-minute windows (a client can make up to twice the limit
across a window boundary; the limits are generous, it is a guard against floods, not billing).
When the store is unreachable, `hit` raises `LimiterUnavailable`; api/deps.py lets the request
through (RATE_LIMIT_FAIL_OPEN, the default) or answers 503, never 500.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.engine import writing
from db.models import RateLimitCounter

log = logging.getLogger("api.rate_limit")

WINDOW = 60.0


class LimiterUnavailable(RuntimeError):
    """The shared counter store could not be reached."""


def _until_next_window(now: float) -> int:
    return max(1, math.ceil((int(now // WINDOW) + 1) * WINDOW - now))


class InProcessLimiter:
    """A rolling minute per process."""

    name = "memory"

    def __init__(self):
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> int:
        """0 when allowed; otherwise the seconds to wait (for Retry-After)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(WINDOW - (now - hits[0])))
            hits.append(now)
            return 0

    def ping(self) -> None:
        return None


class DatabaseLimiter:
    """Fixed one-minute windows in the database, one atomic upsert per hit."""

    name = "database"

    def __init__(self, engine: Callable[[], Engine | None]):
        self._engine = engine  # the app's engine, built in the lifespan after this object
        self._swept = -1

    def _upsert(self, dialect: str):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        return insert(RateLimitCounter)

    def hit(self, key: str, limit: int) -> int:
        engine = self._engine()
        if engine is None:
            raise LimiterUnavailable("the database is not ready")
        now = time.time()
        window = int(now // WINDOW)
        stmt = self._upsert(engine.dialect.name).values(key=key[:200], window=window, hits=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key", "window"],
            set_={"hits": RateLimitCounter.__table__.c.hits + 1},
        ).returning(RateLimitCounter.__table__.c.hits)
        try:
            with writing(engine), engine.begin() as conn:
                count = conn.execute(stmt).scalar_one()
                if window != self._swept:  # once a minute per process: forget old windows
                    self._swept = window
                    conn.execute(delete(RateLimitCounter).where(
                        RateLimitCounter.window < window - 1))
        except Exception as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return _until_next_window(now) if count > limit else 0

    def ping(self) -> None:
        return None  # the database has its own line in /health


class RedisLimiter:
    """Fixed one-minute windows in Redis (INCR + EXPIRE): shared by every worker."""

    name = "redis"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def hit(self, key: str, limit: int) -> int:
        now = time.time()
        window = int(now // WINDOW)
        name = f"supportops:rl:{key}:{window}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(name)
            pipe.expire(name, int(WINDOW) + 5)
            count, _ = pipe.execute()
        except Exception as exc:  # redis.ConnectionError, TimeoutError, a READONLY replica…
            raise LimiterUnavailable(str(exc)) from exc
        return _until_next_window(now) if count > limit else 0

    def ping(self) -> None:
        self.client.ping()


def make_limiter(settings, engine: Callable[[], Engine | None] = lambda: None):
    backend = settings.rate_limit_backend
    if backend == "auto":
        backend = "redis" if settings.redis_url else "database"
    if backend == "redis":
        if not settings.redis_url:
            raise ValueError("RATE_LIMIT_BACKEND=redis needs REDIS_URL")
        return RedisLimiter(settings.redis_url)
    if backend == "database":
        return DatabaseLimiter(engine)
    return InProcessLimiter()
