"""Delivers the outbox (db/outbox.py) over SMTP, with retries and exponential backoff.

Runs as a thread in the API process (started by the lifespan when `SMTP_HOST` is set) or on
its own:

    python -m api.services.mail_sender          # keep sending (Ctrl-C stops)
    python -m api.services.mail_sender --once   # send what is due, then exit

Without `SMTP_HOST` nothing is sent: mails wait in the outbox. A mail server that is down
delays mail but loses none: the row stays unsent and is retried 5 s, 10 s, 20 s ... (at most
`MAIL_RETRY_MAX_SECONDS`) later. Each mail carries the Message-ID stored on its row, so the
one possible duplicate — sent, then the sender died before recording it — is the same mail.
"""

from __future__ import annotations

import argparse
import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from db import outbox
from db.models import utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0  # longer than any one SMTP conversation takes (timeouts are 10 s)


@dataclass
class Report:
    sent: int = 0
    failed: int = 0


def build_message(mail: outbox.Claimed, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = formataddr((mail.to_name, mail.to_address))
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at.replace(tzinfo=UTC))
    message["X-SupportOps-Outbox"] = str(mail.id)
    message.set_content(mail.body)
    return message


class MailSender:
    def __init__(self, factory: sessionmaker[Session], settings: Settings,
                 lease_seconds: float = LEASE_SECONDS):
        self.factory = factory
        self.settings = settings
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one round ---------------------------------------------------------------------

    def run_once(self) -> Report:
        """Send every due mail; stop the round at the first connection failure (the server is
        down: the others would only fail the same way)."""
        report = Report()
        if not self.settings.smtp_host:
            return report
        while not self._stop.is_set():
            mail = outbox.claim(self.factory, utcnow(), self.lease_seconds)
            if mail is None:
                break
            try:
                self.deliver(mail)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as exc:  # this mail, not the server
                self._failed(mail, exc)
                report.failed += 1
                continue
            except (smtplib.SMTPException, OSError) as exc:
                self._failed(mail, exc)
                report.failed += 1
                break
            outbox.mark_sent(self.factory, mail.id, utcnow())
            report.sent += 1
        return report

    def deliver(self, mail: outbox.Claimed) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(build_message(mail, s))

    def _failed(self, mail: outbox.Claimed, exc: Exception) -> None:
        wait = outbox.backoff_seconds(mail.attempts, self.settings.mail_retry_base_seconds,
                                      self.settings.mail_retry_max_seconds)
        log.warning("mail %s not sent (attempt %d, %s); retrying in %.0f s", mail.id,
                    mail.attempts, type(exc).__name__, wait)
        outbox.mark_failed(self.factory, mail.id, f"{type(exc).__name__}: {exc}",
                           utcnow() + timedelta(seconds=wait))

    # --- the background loop -----------------------------------------------------------

    def start(self) -> MailSender:
        self._thread = threading.Thread(target=self._loop, name="mail-sender", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the loop: try again later
                log.exception("mail sender round failed")
            self._stop.wait(self.settings.mail_poll_seconds)


def main(argv: list[str] | None = None) -> int:
    from audit.log_setup import configure_logging
    from config import get_settings
    from db.engine import create_schema, make_engine, make_session_factory

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="send what is due, then exit")
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    if not settings.smtp_host:
        print("SMTP_HOST is not set: nothing is sent (mails wait in the outbox).")
        return 0
    engine = make_engine(settings.database_url)
    create_schema(engine)
    sender = MailSender(make_session_factory(engine), settings)
    if args.once:
        report = sender.run_once()
        print(f"sent {report.sent}, failed {report.failed} (to be retried)")
        return 0
    sender.start()
    try:
        while sender._thread.is_alive():
            sender._thread.join(1.0)
    except KeyboardInterrupt:
        sender.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
