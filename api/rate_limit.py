"""Per-user and per-key rate limits over a rolling minute: in-process, or Redis when configured.

The in-process limiter is exact for one worker; with several workers set REDIS_URL
so they share counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

WINDOW = 60.0


class InProcessLimiter:
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


class RedisLimiter:
    """Fixed one-minute windows in Redis (INCR + EXPIRE): shared by every worker."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1)

    def hit(self, key: str, limit: int) -> int:
        now = time.time()
        window = int(now // WINDOW)
        name = f"supportops:rl:{key}:{window}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, int(WINDOW) + 5)
        count, _ = pipe.execute()
        if count > limit:
            return max(1, math.ceil((window + 1) * WINDOW - now))
        return 0


def make_limiter(redis_url: str | None):
    return RedisLimiter(redis_url) if redis_url else InProcessLimiter()
