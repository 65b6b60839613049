"""A small background loop that processes queued tickets once the agent service is back."""

from __future__ import annotations

import logging
import threading

from frontend.services.queue import retry_queued
from frontend.state import PortalState

log = logging.getLogger(__name__)


class RetryWorker(threading.Thread):
    def __init__(self, state: PortalState, interval_seconds: float = 20.0):
        super().__init__(name="queued-ticket-retry", daemon=True)
        self.state = state
        self.interval = interval_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                counts = retry_queued(self.state)
                if counts["processed"] or counts["rejected"]:
                    log.info("queued tickets retried: %s", counts)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("queued-ticket retry round failed")

    def stop(self) -> None:
        self._stop_event.set()
