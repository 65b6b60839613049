"""Loading data: fixtures (SPEC format) and the demo shop. Each load is one transaction.

Rows go in as bulk inserts (one multi-row INSERT per table and batch, not one statement and
one ORM object per row), and passwords are hashed before the transaction opens, on every core,
at the fixture cost for customers (db/passwords.py; staff always at the full cost): 1,000
customers with 5,000 orders load in a few seconds (`make bench`)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.fixture_schema import Fixture, FixtureError
from db.models import (
    Base,
    CaseNote,
    Conversation,
    EscalationCase,
    IdempotencyRecord,
    Message,
    Order,
    OrderItem,
    OutboxMail,
    Proposal,
    QueuedRequest,
    Refund,
    Replacement,
    Ticket,
    TicketAction,
    User,
    utcnow,
)
from db.passwords import fixture_cost, hash_password

# Children before parents, so a reset never trips a foreign key.
RESET_ORDER = (OutboxMail, Message, Conversation, CaseNote, EscalationCase, Proposal, TicketAction,
               QueuedRequest, Ticket, IdempotencyRecord, Replacement, Refund, OrderItem, Order,
               User)


def _check_against_database(session: Session, fixture: Fixture, reset: bool) -> None:
    if reset:
        existing_users, existing_orders = {}, {}
    else:
        existing_users = dict(session.execute(select(User.id, User.email)).all())
        existing_orders = dict(session.execute(select(Order.id, Order.user_id)).all())
    emails = set(existing_users.values())
    for i, u in enumerate(fixture.users):
        if u.id in existing_users:
            raise FixtureError(f"users[{i}].id: user {u.id} already exists (use --reset)")
        if u.email in emails:
            raise FixtureError(f"users[{i}].email: that email already exists (use --reset)")
    user_ids = set(existing_users) | {u.id for u in fixture.users}
    owners = dict(existing_orders)
    for i, o in enumerate(fixture.orders):
        if o.id in existing_orders:
            raise FixtureError(f"orders[{i}].id: order {o.id} already exists (use --reset)")
        if o.user_id not in user_ids:
            raise FixtureError(f"orders[{i}].user_id: no user {o.user_id}")
        owners[o.id] = o.user_id
    for i, r in enumerate(fixture.refunds):
        if r.order_id not in owners:
            raise FixtureError(f"refunds[{i}].order_id: no order {r.order_id}")
        if owners[r.order_id] != r.user_id:
            raise FixtureError(f"refunds[{i}].user_id: order {r.order_id} belongs to user "
                               f"{owners[r.order_id]}")
        if not reset and session.scalar(select(Refund.id).where(Refund.order_id == r.order_id)):
            raise FixtureError(f"refunds[{i}].order_id: order {r.order_id} is already refunded")


def _password_hashes(fixture: Fixture, cost: int) -> list[str]:
    """One hash per user, in order: staff at the sign-up cost, customers at `cost`. scrypt
    releases the GIL, so a thread per core hashes in parallel."""
    def one(user) -> str:
        return hash_password(user.password, None if user.role == "staff" else cost)

    if len(fixture.users) < 8:
        return [one(u) for u in fixture.users]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(one, fixture.users))


def load_fixture(factory: sessionmaker[Session], fixture: Fixture, reset: bool = False,
                 password_cost: int | None = None) -> dict:
    """All or nothing: any problem raises FixtureError and the transaction rolls back.

    `password_cost` is the scrypt N for customers' passwords (default FIXTURE_PASSWORD_COST)."""
    hashes = _password_hashes(fixture, fixture_cost() if password_cost is None else password_cost)
    now = utcnow()
    with transaction(factory) as session:
        _check_against_database(session, fixture, reset)
        if reset:
            for model in RESET_ORDER:
                session.execute(delete(model))
        _bulk(session, User, [
            {"id": u.id, "name": u.name, "email": u.email, "password_hash": hashed,
             "role": u.role, "created_at": now}
            for u, hashed in zip(fixture.users, hashes, strict=True)])
        _bulk(session, Order, [
            {"id": o.id, "user_id": o.user_id, "status": o.status, "total_cents": o.total_cents,
             "ordered_at": o.ordered_at or o.shipped_at or o.delivered_at or now,
             "shipped_at": o.shipped_at, "delivered_at": o.delivered_at, "carrier": o.carrier,
             "tracking_number": o.tracking_number, "replacement_for": None}
            for o in fixture.orders])
        _bulk(session, OrderItem, [
            {"order_id": o.id, "sku": i.sku, "name": i.name, "qty": i.qty,
             "price_cents": i.price_cents}
            for o in fixture.orders for i in o.items])
        _bulk(session, Refund, [
            {"order_id": r.order_id, "user_id": r.user_id, "kind": r.kind,
             "amount_cents": r.amount_cents, "reason": r.reason,
             "created_at": r.created_at or now}
            for r in fixture.refunds])
    _resync_sequences(factory)
    return {"users": len(fixture.users), "orders": len(fixture.orders),
            "refunds": len(fixture.refunds)}


BULK_ROWS = 5000


def _bulk(session: Session, model, rows: list[dict]) -> None:
    """Multi-row INSERTs (SQLAlchemy's insertmanyvalues), in batches to bound memory."""
    for start in range(0, len(rows), BULK_ROWS):
        session.execute(insert(model), rows[start:start + BULK_ROWS])


def _resync_sequences(factory: sessionmaker[Session]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the largest id."""
    with transaction(factory) as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        for table in Base.metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and pk[0].type.python_type is int and pk[0].autoincrement:
                session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))


def has_users(factory: sessionmaker[Session]) -> bool:
    with transaction(factory) as session:
        return session.scalar(select(User.id).limit(1)) is not None
