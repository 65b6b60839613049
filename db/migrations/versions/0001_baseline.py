"""Baseline: the schema as db/models.py made it with create_all before migrations existed.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01

Written as tables on a frozen MetaData rather than a list of op.create_table calls, because
db/migrate.py also needs this exact schema to adopt a database made by the old create_all: it
creates whichever of these tables are missing and adds the nullable columns an older release
did not have, then stamps this revision. Later changes go into later revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

metadata = sa.MetaData()

sa.Table(
    'idempotency_records', metadata,
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key'),
)

sa.Table(
    'users', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role IN ('customer', 'staff')", name='ck_users_role'),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_users_email', 'email', unique=True),
)

sa.Table(
    'conversations', metadata,
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_conversations_user_id', 'user_id'),
)

sa.Table(
    'orders', metadata,
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('ordered_at', sa.DateTime(), nullable=False),
    sa.Column('shipped_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('carrier', sa.String(length=50), nullable=True),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('replacement_for', sa.String(length=40), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')", name='ck_orders_status'),
    sa.CheckConstraint('total_cents >= 0', name='ck_orders_total'),
    sa.ForeignKeyConstraint(['replacement_for'], ['orders.id']),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_orders_user_id', 'user_id'),
)

sa.Table(
    'outbox', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    sa.Index('ix_outbox_next_attempt_at', 'next_attempt_at'),
    sa.Index('ix_outbox_sent_at', 'sent_at'),
    sa.Index('ix_outbox_user_id', 'user_id'),
)

sa.Table(
    'proposals', metadata,
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=40), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('arguments', sa.JSON(), nullable=False),
    sa.Column('intent', sa.String(length=30), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.CheckConstraint("state IN ('proposed', 'confirmed', 'dropped', 'expired')", name='ck_proposals_state'),
    sa.CheckConstraint('amount_cents >= 0', name='ck_proposals_amount'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_proposals_conversation_id', 'conversation_id'),
    sa.Index('ix_proposals_user_id', 'user_id'),
)

sa.Table(
    'tickets', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('user_input', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=30), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=True),
    sa.Column('result_status', sa.String(length=20), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('policy_sources', sa.JSON(), nullable=True),
    sa.Column('mode', sa.String(length=10), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('feedback_comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'awaiting_customer', 'resolved', 'escalated', 'with_agent', 'closed', 'queued')", name='ck_tickets_status'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_tickets_conversation_id', 'conversation_id'),
    sa.Index('ix_tickets_created_at', 'created_at'),
    sa.Index('ix_tickets_user_id', 'user_id'),
)

sa.Table(
    'escalations', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('assigned_to', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('handed_back_at', sa.DateTime(), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_result', sa.JSON(), nullable=True),
    sa.CheckConstraint("priority IN ('high', 'normal')", name='ck_escalations_priority'),
    sa.CheckConstraint("status IN ('open', 'with_agent', 'resolved', 'closed')", name='ck_escalations_status'),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id']),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id']),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id']),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_escalations_created_at', 'created_at'),
    sa.Index('ix_escalations_due_at', 'due_at'),
    sa.Index('ix_escalations_ticket_id', 'ticket_id'),
    sa.Index('ix_escalations_user_id', 'user_id'),
)

sa.Table(
    'messages', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id']),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_messages_conversation_id', 'conversation_id'),
)

sa.Table(
    'order_items', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_order_items_order_id', 'order_id'),
)

sa.Table(
    'queued_requests', metadata,
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('replay_key', sa.String(length=120), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('retry_after', sa.DateTime(), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
    sa.PrimaryKeyConstraint('ticket_id'),
    sa.Index('ix_queued_requests_request_key', 'request_key'),
)

sa.Table(
    'refunds', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('refund', 'cancellation')", name='ck_refunds_kind'),
    sa.CheckConstraint('amount_cents >= 0', name='ck_refunds_amount'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', name='uq_refunds_order'),
    sa.Index('ix_refunds_created_at', 'created_at'),
    sa.Index('ix_refunds_user_id', 'user_id'),
)

sa.Table(
    'replacements', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('original_order_id', sa.String(length=40), nullable=False),
    sa.Column('new_order_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['new_order_id'], ['orders.id']),
    sa.ForeignKeyConstraint(['original_order_id'], ['orders.id']),
    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('new_order_id'),
    sa.UniqueConstraint('original_order_id'),
    sa.Index('ix_replacements_user_id', 'user_id'),
)

sa.Table(
    'ticket_actions', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('request_text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=30), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('proposal_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_ticket_actions_ticket_id', 'ticket_id'),
)

sa.Table(
    'case_notes', metadata,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id']),
    sa.ForeignKeyConstraint(['case_id'], ['escalations.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_case_notes_case_id', 'case_id'),
)


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
