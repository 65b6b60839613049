"""Tables. Money columns are integer cents; times are naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ORDER_STATUSES = ("pending", "processing", "shipped", "delivered", "cancelled")
TICKET_STATUSES = ("open", "awaiting_customer", "resolved", "escalated", "with_agent", "closed",
                   "queued")
CASE_STATUSES = ("open", "with_agent", "resolved", "closed")
PROPOSAL_STATES = ("proposed", "confirmed", "dropped", "expired")
DECISIONS = ("approved", "denied")
ROLES = ("customer", "staff")
REFUND_KINDS = ("refund", "cancellation")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="customer")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="user", order_by="Order.ordered_at")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="ck_orders_status"),
        CheckConstraint("total_cents >= 0", name="ck_orders_total"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    total_cents: Mapped[int] = mapped_column(Integer)
    ordered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    carrier: Mapped[str | None] = mapped_column(String(50))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    replacement_for: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))

    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(Integer, default=1)
    price_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")


class Refund(Base):
    """One refund per order, enforced by the database as the last guard (R8)."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("order_id", name="uq_refunds_order"),
        CheckConstraint(_in("kind", REFUND_KINDS), name="ck_refunds_kind"),
        CheckConstraint("amount_cents >= 0", name="ck_refunds_amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="refund")
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Replacement(Base):
    """At most one replacement per original order (R4), enforced by a unique key."""

    __tablename__ = "replacements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    original_order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    new_order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Conversation(Base):
    """Conversation state lives here, not in process memory, so any worker can continue it."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id")


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    # `user` (the customer), `assistant`, or `agent` (a person on our team: see author_*).
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A person's message: who wrote it, and the first name the customer sees (kept as it was
    # when written, so a later change of name does not rewrite the transcript).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str | None] = mapped_column(String(100))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (CheckConstraint(_in("status", TICKET_STATUSES), name="ck_tickets_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    user_input: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(30))
    confidence: Mapped[float | None] = mapped_column(Float)
    order_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str | None] = mapped_column(String(40))
    result_status: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[dict | None] = mapped_column(JSON)
    response: Mapped[str | None] = mapped_column(Text)
    policy_sources: Mapped[list | None] = mapped_column(JSON)
    mode: Mapped[str | None] = mapped_column(String(10))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class EscalationCase(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint(_in("priority", ("high", "normal")), name="ck_escalations_priority"),
        CheckConstraint(_in("status", CASE_STATUSES), name="ck_escalations_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(500))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(10), default="open")
    summary: Mapped[str | None] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # People in the loop: when the customer was promised a first answer (business hours, see
    # tools/first_response.py), when it came, and who took the case when.
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    handed_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A case waiting on approval (R2a high value, R2b fraud review) gets exactly one decision.
    # `decision_result` is what the approved action did (None while it runs).
    decision: Mapped[str | None] = mapped_column(String(10))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_result: Mapped[dict | None] = mapped_column(JSON)

    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseNote.id")


class CaseNote(Base):
    """A dated line on a case: a repeat of the same problem (R12), or a staff member's note."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[EscalationCase] = relationship(back_populates="notes")


class OutboxMail(Base):
    """An e-mail to a customer, written in the same transaction as the staff change it tells
    about (so a change never commits without its mail) and sent later by
    api/services/mail_sender.py.

    `message_id` is fixed when the row is written: a resend after a crash between sending and
    marking it sent carries the same Message-ID, so it is recognisably the same mail. The
    recipient is read from the user at sending time, so the address is stored only once."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(Integer)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(300))


class Proposal(Base):
    """An action the agent has offered and the customer has not yet confirmed (R11).

    The id is unguessable because the portal's Confirm button sends it back. `result` holds
    what the confirmed action returned, written in the same transaction as the action, so a
    repeated or concurrent confirmation can only ever read it, never run the action again."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(_in("state", PROPOSAL_STATES), name="ck_proposals_state"),
        CheckConstraint("amount_cents >= 0", name="ck_proposals_amount"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JSON, default=list)
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    intent: Mapped[str] = mapped_column(String(30))
    confidence: Mapped[float] = mapped_column(Float)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="proposed")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[dict | None] = mapped_column(JSON)
    response: Mapped[dict | None] = mapped_column(JSON)


class TicketAction(Base):
    """Every action a ticket has seen, in order, with the words that asked for it and the
    receipt: a ticket whose conversation took two actions shows both."""

    __tablename__ = "ticket_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    request_text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    response: Mapped[str] = mapped_column(Text)
    proposal_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QueuedRequest(Base):
    """The portal's retry bookkeeping for a ticket kept while the API was unreachable: its own
    row, never keys inside the ticket's result."""

    __tablename__ = "queued_requests"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True,
                                           autoincrement=False)
    request_key: Mapped[str | None] = mapped_column(String(64), index=True)
    replay_key: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(String(300))
    retry_after: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)


class IdempotencyRecord(Base):
    """The first response to an Idempotency-Key, replayed for repeats (R8).

    While `status_code` is 0 the key is claimed: `owner` (one attempt of the request) holds it
    until `lease_until`, renewing the lease while it works. A retry may take over a claim whose
    lease has lapsed without a result (the owner died), so a key is never stuck
    (api/services/idempotency.py)."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    request_id: Mapped[str | None] = mapped_column(String(64))  # the current attempt's


class RateLimitCounter(Base):
    """Hits on one rate limit (`key`, e.g. `user:7`) in one fixed one-minute `window` (minutes
    since the epoch), shared by every API worker (api/rate_limit.DatabaseLimiter)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)


class AuditRecord(Base):
    """One audit record (SPEC "Audit record"): the source of truth for the trail, inserted in the
    same transaction as the action it describes (audit/trail.py).

    `seq` is the record's place in the one hash chain: 1, 2, 3 … with no gaps, given out under
    the chain head's lock, so records commit in `seq` order. `hash` is the sha256 of the record's
    canonical JSON including `prev_hash` (audit/chain.py). No foreign keys: a record outlives the
    rows it mentions, and text columns are unbounded so no value can make an action fail."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    conversation_id: Mapped[str | None] = mapped_column(Text, index=True)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    tool: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The single row (id 1) that says where the chain ends. A writer locks it (`FOR UPDATE` on
    PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers) before taking the next
    `seq`, so every worker on every host extends the same chain one record at a time. It also
    anchors the end of the chain: deleting the newest records is seen because the head still
    names them."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_chain_head_single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class PortalSession(Base):
    """A signed-in portal session, kept on the server so it can be ended (frontend/sessions.py).

    The browser's signed session cookie carries a random token; this row holds only its sha256.
    Every request looks the row up, so a copied cookie stops working the moment the row goes: at
    sign-out (that session), at a password change (every session of the user) or at
    `expires_at`. Deleting a user deletes their sessions."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LoginAttempt(Base):
    """One sign-in attempt, reserved against the throttle before the password is checked
    (frontend/throttle.py), so every portal process counts the same attempts. A successful
    sign-in deletes its key's rows; the others age out of the window. `key` is an HMAC of the
    email and the client address, never the email itself."""

    __tablename__ = "login_attempts"

    # A random hex id given by the throttle, not a sequence: nothing to resynchronise after a
    # fixture load (db/seed.py).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime, index=True)
