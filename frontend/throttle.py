"""Login throttling: at most N failed sign-ins per (email, client address) per window.

Kept in process memory, which is right for one portal process; several worker
processes would each keep their own count (a shared store such as Redis would be
the next step).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(email: str, address: str | None) -> tuple[str, str]:
        return (email.strip().lower(), address or "unknown")

    def retry_after(self, key: tuple[str, str]) -> int:
        """Seconds until another attempt is allowed; 0 when not blocked."""
        with self._lock:
            attempts = self._prune(key)
            if len(attempts) < self.max_failures:
                return 0
            return max(1, int(attempts[0] + self.window - self.clock()) + 1)

    def record_failure(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._prune(key).append(self.clock())
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                for stale in [k for k in self._failures if not self._prune(k)]:
                    self._failures.pop(stale, None)

    def reset(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        attempts = self._failures.setdefault(key, deque())
        cutoff = self.clock() - self.window
        while attempts and attempts[0] <= cutoff:
            attempts.popleft()
        return attempts
