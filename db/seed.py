"""Loading data: fixtures (SPEC format) and the demo shop. Each load is one transaction."""

from __future__ import annotations

from sqlalchemy import delete, select, text
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
)
from db.passwords import hash_password

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


def load_fixture(factory: sessionmaker[Session], fixture: Fixture, reset: bool = False) -> dict:
    """All or nothing: any problem raises FixtureError and the transaction rolls back."""
    with transaction(factory) as session:
        _check_against_database(session, fixture, reset)
        if reset:
            for model in RESET_ORDER:
                session.execute(delete(model))
        for u in fixture.users:
            session.add(User(id=u.id, name=u.name, email=u.email,
                             password_hash=hash_password(u.password), role=u.role))
        session.flush()
        for o in fixture.orders:
            session.add(Order(
                id=o.id, user_id=o.user_id, status=o.status, total_cents=o.total_cents,
                ordered_at=o.ordered_at or o.shipped_at or o.delivered_at, shipped_at=o.shipped_at,
                delivered_at=o.delivered_at, carrier=o.carrier, tracking_number=o.tracking_number,
                items=[OrderItem(sku=i.sku, name=i.name, qty=i.qty, price_cents=i.price_cents)
                       for i in o.items]))
        session.flush()
        for r in fixture.refunds:
            session.add(Refund(order_id=r.order_id, user_id=r.user_id, kind=r.kind,
                               amount_cents=r.amount_cents, reason=r.reason,
                               created_at=r.created_at))
    _resync_sequences(factory)
    return {"users": len(fixture.users), "orders": len(fixture.orders),
            "refunds": len(fixture.refunds)}


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
