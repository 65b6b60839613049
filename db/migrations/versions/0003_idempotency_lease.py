"""Idempotency claims with a lease; rate-limit counters shared by every worker.

Revision ID: 0003_idempotency_lease
Revises: 0002_audit_trail
Create Date: 2026-11-30

An Idempotency-Key's claim now names its owner (one attempt of the request) and how long that
owner holds it (`lease_until`). A retry may take a claim over once the lease has lapsed without a
stored result (the owner crashed, or its release failed in an outage), so a key can no longer be
stuck forever (api/services/idempotency.py). Existing rows are finished results (or stuck
claims, whose NULL lease counts as lapsed).

`rate_limit_counters` holds one row per (limit key, one-minute window), incremented atomically,
so several API workers share one budget without Redis (api/rate_limit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_idempotency_lease"
down_revision = "0002_audit_trail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tolerant of a database that already has them (one made by create_all from newer models
    # before it was adopted, db/migrate.py): only what is missing is added.
    inspector = sa.inspect(op.get_bind())
    have = {c["name"] for c in inspector.get_columns("idempotency_records")}
    new_columns = [
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("request_id", sa.String(length=64), nullable=True),
    ]
    missing = [c for c in new_columns if c.name not in have]
    if missing:
        with op.batch_alter_table("idempotency_records") as batch:
            for column in missing:
                batch.add_column(column)
    if not inspector.has_table("rate_limit_counters"):
        op.create_table(
            "rate_limit_counters",
            sa.Column("key", sa.String(length=200), nullable=False),
            sa.Column("window", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("hits", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("key", "window"),
        )


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_column("request_id")
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
