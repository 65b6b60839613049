"""Signed-in sessions that can be ended: a row per session in `portal_sessions`.

Flask's session cookie is signed, not stored, so on its own a copy taken before sign-out keeps
working until it expires. Here the cookie also carries a random token (`SESSION_TOKEN`); the
database keeps only its sha256, and every request checks that the row is still there (the
same query that loads the user). Signing out deletes the row; a password change deletes every
row of that user and starts a new one for the browser that changed it; rows expire after
PORTAL_SESSION_HOURS. Every portal process sees the same rows.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import PortalSession, User, utcnow

SESSION_TOKEN = "sid"  # the key in Flask's session
_PURGE_ONE_IN = 50  # expired rows are swept now and then by a sign-in, not by a cron job


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(factory: sessionmaker[Session], user_id: int, lifetime: timedelta,
          now: datetime | None = None) -> str:
    """A new session for `user_id`; returns the token to put in the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with transaction(factory) as session:
        session.add(PortalSession(id=_digest(token), user_id=user_id, created_at=now,
                                  expires_at=now + lifetime))
        if random.randrange(_PURGE_ONE_IN) == 0:
            session.execute(delete(PortalSession).where(PortalSession.expires_at <= now))
    return token


def user_of(factory: sessionmaker[Session], user_id: str | int, token: str | None,
            now: datetime | None = None) -> User | None:
    """The user this cookie signs in, if its session is still live; else None."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    if not token or not isinstance(token, str):
        return None
    with transaction(factory) as session:
        return session.scalar(
            select(User).join(PortalSession, PortalSession.user_id == User.id)
            .where(PortalSession.id == _digest(token), User.id == uid,
                   PortalSession.expires_at > (now or utcnow())))


def end(factory: sessionmaker[Session], token: str | None) -> None:
    """Sign-out: this session ends, for every copy of its cookie."""
    if not token or not isinstance(token, str):
        return
    with transaction(factory) as session:
        session.execute(delete(PortalSession).where(PortalSession.id == _digest(token)))


def end_all(factory: sessionmaker[Session], user_id: int, keep: str | None = None) -> int:
    """Every session of the user ends (a password change, "sign out everywhere else"), except
    the one whose token is `keep`. Returns how many ended."""
    query = delete(PortalSession).where(PortalSession.user_id == user_id)
    if keep:
        query = query.where(PortalSession.id != _digest(keep))
    with transaction(factory) as session:
        return session.execute(query).rowcount or 0


def count(factory: sessionmaker[Session], user_id: int, now: datetime | None = None) -> int:
    """Live sessions of the user (the account page says how many other browsers are signed in)."""
    with transaction(factory) as session:
        return len(session.scalars(select(PortalSession.id).where(
            PortalSession.user_id == user_id,
            PortalSession.expires_at > (now or utcnow()))).all())
