"""The outbox: e-mails to customers, written with the change they tell about, sent later.

Why an outbox instead of sending from the request: a mail sent before the change commits can
announce something that then rolls back, and a mail sent after it is lost if the process dies
in between. Writing the mail as a row in the same transaction makes the two one unit; the
sender (api/services/mail_sender.py) then delivers rows at least once.

Delivery bookkeeping, all through short transactions here:
- `claim` takes the oldest due row for a lease (`claimed_until`), so several senders (one per
  API worker) never send the same row at the same time;
- `mark_sent` records success; `mark_failed` schedules the next attempt with exponential
  backoff. A sender that dies after sending but before `mark_sent` leaves the row to be sent
  again when the lease runs out — with the same Message-ID, the only way a mail goes twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import OutboxMail, User, utcnow


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    to_name: str
    to_address: str
    subject: str
    body: str
    created_at: datetime
    attempts: int


def new_message_id(domain: str) -> str:
    return f"<supportops.{uuid.uuid4().hex}@{domain}>"


def enqueue(session: Session, *, user_id: int, kind: str, subject: str, body: str,
            domain: str, case_id: int | None = None, ticket_id: int | None = None,
            now: datetime | None = None) -> OutboxMail:
    """Add a mail to the caller's transaction: it commits, or rolls back, with the change."""
    now = now or utcnow()
    mail = OutboxMail(message_id=new_message_id(domain), user_id=user_id, kind=kind,
                      subject=subject[:300], body=body, case_id=case_id, ticket_id=ticket_id,
                      created_at=now, next_attempt_at=now, attempts=0)
    session.add(mail)
    return mail


def claim(factory: sessionmaker[Session], now: datetime, lease_seconds: float) -> Claimed | None:
    """The oldest unsent mail that is due and not leased by another sender, now leased to us."""
    with transaction(factory) as session:
        mail = session.scalars(
            select(OutboxMail).where(
                OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now,
                or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now))
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(1)
            .with_for_update(skip_locked=True)).first()
        if mail is None:
            return None
        user = session.get(User, mail.user_id)
        mail.claimed_until = now + timedelta(seconds=lease_seconds)
        mail.attempts += 1
        return Claimed(mail.id, mail.message_id, user.name, user.email, mail.subject,
                       mail.body, mail.created_at, mail.attempts)


def mark_sent(factory: sessionmaker[Session], mail_id: int, now: datetime) -> None:
    with transaction(factory) as session:
        mail = session.get(OutboxMail, mail_id)
        mail.sent_at, mail.claimed_until, mail.last_error = now, None, None


def mark_failed(factory: sessionmaker[Session], mail_id: int, error: str, retry_at: datetime
                ) -> None:
    with transaction(factory) as session:
        mail = session.get(OutboxMail, mail_id)
        if mail.sent_at is None:
            mail.claimed_until, mail.next_attempt_at = None, retry_at
            mail.last_error = error[:300]


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """5 s, 10 s, 20 s, ... up to the cap (10 minutes by default); never gives up."""
    return min(cap, base * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: datetime | None
    sent: int


def backlog(factory: sessionmaker[Session]) -> Backlog:
    """How many mails are waiting and since when (the dashboard shows it)."""
    with transaction(factory) as session:
        waiting, oldest = session.execute(
            select(func.count(), func.min(OutboxMail.created_at))
            .where(OutboxMail.sent_at.is_(None))).one()
        sent = session.scalar(select(func.count()).select_from(OutboxMail)
                              .where(OutboxMail.sent_at.is_not(None)))
        return Backlog(int(waiting or 0), oldest, int(sent or 0))
