"""Accounts: sign-in checks, registration, and the logged-in user object."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_login import UserMixin
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import User
from db.passwords import hash_password, verify_password
from frontend import sessions

# Checked against when the email is unknown, so a wrong email costs as much as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-just-for-timing")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PortalUser(UserMixin):
    id: int
    name: str
    email: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name

    def get_id(self) -> str:
        return str(self.id)


def _portal_user(user: User) -> PortalUser:
    return PortalUser(id=user.id, name=user.name, email=user.email, role=user.role)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def load_signed_in(factory: sessionmaker[Session], user_id: str | int,
                   token: str | None) -> PortalUser | None:
    """The user of a session cookie, only while its server-side session lives (sessions.py)."""
    user = sessions.user_of(factory, user_id, token)
    return _portal_user(user) if user else None


def authenticate(factory: sessionmaker[Session], email: str, password: str) -> PortalUser | None:
    with transaction(factory) as session:
        user = session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
        if user is None:
            verify_password(_DUMMY_HASH, password)
            return None
        return _portal_user(user) if verify_password(user.password_hash, password) else None


class EmailTaken(Exception):
    pass


def register(factory: sessionmaker[Session], name: str, email: str, password: str) -> PortalUser:
    """A new customer account; the role is never taken from the form."""
    email = normalise_email(email)
    try:
        with transaction(factory) as session:
            if session.scalar(select(User.id).where(func.lower(User.email) == email)):
                raise EmailTaken(email)
            user = User(name=name.strip(), email=email, password_hash=hash_password(password),
                        role="customer")
            session.add(user)
            session.flush()
            return _portal_user(user)
    except IntegrityError as exc:  # a concurrent registration won the unique index
        raise EmailTaken(email) from exc


def password_matches(factory: sessionmaker[Session], user_id: int, password: str) -> bool:
    with transaction(factory) as session:
        hashed = session.scalar(select(User.password_hash).where(User.id == user_id))
    if hashed is None:
        verify_password(_DUMMY_HASH, password)
        return False
    return verify_password(hashed, password)


def set_password(factory: sessionmaker[Session], user_id: int, password: str) -> None:
    with transaction(factory) as session:
        session.execute(update(User).where(User.id == user_id)
                        .values(password_hash=hash_password(password)))
