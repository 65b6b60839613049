"""Portal sessions kept on the server; sign-in attempts shared by every portal process.

Revision ID: 0004_portal_sessions
Revises: 0003_idempotency_lease
Create Date: 2026-12-02

`portal_sessions`: one row per signed-in browser (the sha256 of the token its signed cookie
carries). The portal checks it on every request, so signing out, changing the password or the
row expiring ends that session even for a copy of the cookie (frontend/sessions.py). Sessions
signed in before this revision carry no token and simply end: their owners sign in again.

`login_attempts`: the sign-in throttle's attempts, reserved before the password hash is
checked, so several gunicorn workers (or hosts) share one count (frontend/throttle.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_portal_sessions"
down_revision = "0003_idempotency_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_portal_sessions_user_id", "portal_sessions", ["user_id"])
    op.create_index("ix_portal_sessions_expires_at", "portal_sessions", ["expires_at"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["key"])
    op.create_index("ix_login_attempts_attempted_at", "login_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_attempted_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_key", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_portal_sessions_expires_at", table_name="portal_sessions")
    op.drop_index("ix_portal_sessions_user_id", table_name="portal_sessions")
    op.drop_table("portal_sessions")
