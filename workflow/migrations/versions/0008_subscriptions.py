"""Event subscriptions (issue #11): subscribers, the CloudEvents outbox written in the
event's transaction, and per-subscriber deliveries.

``gpw_subscription`` holds each host platform's URL, wanted events and HMAC key;
``gpw_cloudevent`` one CloudEvents document per project audit entry some subscription wanted,
written by that entry's own transaction; ``gpw_subscription_delivery`` one row per document and
subscriber, delivered in order per (subscriber, project). Nothing to fill for older databases:
subscriptions announce what happens after they are added.

Revision ID: 0008_subscriptions
Revises: 0007_robots
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_subscriptions"
down_revision = "0007_robots"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _aware() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gpw_subscription",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("events", _json(), nullable=True),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _aware(), nullable=False),
        sa.Column("removed_at", _aware(), nullable=True),
    )
    op.create_table(
        "gpw_cloudevent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _aware(), nullable=False),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("project_id", "seq", name="uq_gpw_cloudevent_project_seq"),
    )
    op.create_table(
        "gpw_subscription_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "subscription_id",
            sa.Integer(),
            sa.ForeignKey("gpw_subscription.id"),
            nullable=False,
        ),
        sa.Column(
            "cloudevent_id", sa.Integer(), sa.ForeignKey("gpw_cloudevent.id"), nullable=False
        ),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _aware(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", _aware(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", _aware(), nullable=False),
        sa.Column("sent_at", _aware(), nullable=True),
        sa.UniqueConstraint(
            "subscription_id", "cloudevent_id", name="uq_gpw_subscription_delivery"
        ),
    )
    op.create_index(
        "ix_gpw_subscription_delivery_lane",
        "gpw_subscription_delivery",
        ["subscription_id", "project_id", "seq"],
    )
    op.create_index(
        "ix_gpw_subscription_delivery_status_next",
        "gpw_subscription_delivery",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_gpw_subscription_delivery_status_next", table_name="gpw_subscription_delivery"
    )
    op.drop_index("ix_gpw_subscription_delivery_lane", table_name="gpw_subscription_delivery")
    op.drop_table("gpw_subscription_delivery")
    op.drop_table("gpw_cloudevent")
    op.drop_table("gpw_subscription")
