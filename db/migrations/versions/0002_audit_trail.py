"""Audit trail in the database: the records, hash-chained, and the chain's head.

Revision ID: 0002_audit_trail
Revises: 0001_baseline
Create Date: 2026-12-01

Until this revision the audit trail was only the JSONL file at AUDIT_LOG_PATH. From here the
`audit_records` table is the source of truth, written in the same transaction as each action,
and the file is exported from it (audit/export.py). Records already in an old file stay there
as they were; the chain starts with the first record written after the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_audit_trail"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # the `prev_hash` of the first record (audit/chain.py)


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_audit_records_conversation_id", "audit_records", ["conversation_id"])
    op.create_index("ix_audit_records_ticket_id", "audit_records", ["ticket_id"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_chain_head_single"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_index("ix_audit_records_ticket_id", table_name="audit_records")
    op.drop_index("ix_audit_records_conversation_id", table_name="audit_records")
    op.drop_table("audit_records")
