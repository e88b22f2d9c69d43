"""The dashboard and the JSON API: users, API tokens, the log of logins and token use; an inbox
entry records who read it and who acknowledged it, when.

Revision ID: 0003_users_and_inbox_ack
Revises: 0002_audit_hash_format
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_users_and_inbox_ack"
down_revision = "0002_audit_hash_format"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "gpw_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("login", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("region", _json(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("login"),
    )
    op.create_table(
        "gpw_api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("gpw_user.id"), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_gpw_api_token_user_id", "gpw_api_token", ["user_id"])
    op.create_table(
        "gpw_auth_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("login", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("ip", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    op.create_index("ix_gpw_auth_event_login_at", "gpw_auth_event", ["login", "at"])
    op.create_index("ix_gpw_auth_event_ip_at", "gpw_auth_event", ["ip", "at"])
    with op.batch_alter_table("gpw_inbox") as batch:
        batch.add_column(sa.Column("read_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gpw_inbox") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
        batch.drop_column("read_by")
    op.drop_table("gpw_auth_event")
    op.drop_table("gpw_api_token")
    op.drop_table("gpw_user")
