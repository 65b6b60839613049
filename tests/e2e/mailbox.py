"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it receives, for the mail
tests and the browser journey. It can be started late, on a port chosen up front, to play a
mail server that was down."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, predicate, timeout: float = 20.0) -> list[EmailMessage]:
        """The mails matching `predicate`, once there is at least one (or [] after timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.received() if predicate(m)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)
