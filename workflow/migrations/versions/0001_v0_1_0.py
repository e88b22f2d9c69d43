"""v0.1.0: the schema gpw 0.1.0 created (its ``create_all``), exactly.

A database that release made has gpw's tables but no ``gpw_alembic_version``:
:func:`workflow.schema.upgrade` stamps it at this revision, then upgrades it.

Revision ID: 0001_v0_1_0
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_v0_1_0"
down_revision = None
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    """An aware datetime (``AwareDateTime``: stored UTC; naive on SQLite)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _json(name: str) -> sa.Column[Any]:
    # v0.1.0 wrote JSON everywhere (PostgreSQL too); 0002 makes it JSONB there
    return sa.Column(name, sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "gpw_project",
        _int("id"),
        _text("title"),
        _text("purchaser"),
        _text("policy"),
        _text("state"),
        _int("contractor_id", nullable=True),
        _int("version"),
        _json("data"),
        _int("audit_seq"),
        _text("audit_head"),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gpw_project_contractor_id", "gpw_project", ["contractor_id"])
    op.create_index("ix_gpw_project_purchaser", "gpw_project", ["purchaser"])
    op.create_index("ix_gpw_project_state", "gpw_project", ["state"])

    op.create_table(
        "gpw_deadline",
        _int("id"),
        _int("project_id"),
        _text("key"),
        _text("kind"),
        _text("owner"),
        _text("rule"),
        sa.Column("due", sa.Date(), nullable=False),
        _at("due_at"),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        _text("status"),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        _int("version"),
        _int("stage_index"),
        _text("next_stage", nullable=True),
        _at("next_fire_at", nullable=True),
        sa.Column("moved_from", sa.Date(), nullable=True),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["project_id"], ["gpw_project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "key", name="uq_gpw_deadline_project_key"),
    )
    op.create_index("ix_gpw_deadline_project_id", "gpw_deadline", ["project_id"])
    op.create_index("ix_gpw_deadline_status_due_at", "gpw_deadline", ["status", "due_at"])
    op.create_index("ix_gpw_deadline_status_next_fire", "gpw_deadline", ["status", "next_fire_at"])

    op.create_table(
        "gpw_audit",
        _int("id"),
        _text("stream"),
        _int("seq"),
        _int("project_id", nullable=True),
        _text("actor_id"),
        _text("role"),
        _text("org"),
        _at("at"),
        _text("event"),
        _text("from_state", nullable=True),
        _text("to_state", nullable=True),
        _json("data"),
        _text("prev_hash"),
        _text("hash"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stream", "seq", name="uq_gpw_audit_stream_seq"),
    )
    op.create_index("ix_gpw_audit_project_id", "gpw_audit", ["project_id"])
    op.create_index("ix_gpw_audit_stream", "gpw_audit", ["stream"])

    op.create_table(
        "gpw_audit_head",
        _text("stream"),
        _int("seq"),
        _text("hash"),
        sa.PrimaryKeyConstraint("stream"),
    )

    op.create_table(
        "gpw_contractor",
        _int("id"),
        _text("name"),
        _text("org_type"),
        sa.Column("sme", sa.Boolean(), nullable=False),
        _json("data"),
        _int("version"),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gpw_contractor_name", "gpw_contractor", ["name"])

    op.create_table(
        "gpw_calendar_year",
        _int("year"),
        _json("data"),
        _text("source"),
        _at("loaded_at"),
        _text("loaded_by"),
        sa.PrimaryKeyConstraint("year"),
    )

    op.create_table(
        "gpw_notice",
        _int("id"),
        _text("key"),
        _int("deadline_id", nullable=True),
        _int("project_id"),
        _text("deadline_kind"),
        _text("deadline_key"),
        _text("stage"),
        _json("recipients"),
        _text("subject"),
        _text("body"),
        _text("html"),
        _text("status"),
        _int("attempts"),
        _at("next_attempt_at"),
        _text("lease_owner", nullable=True),
        _at("lease_until", nullable=True),
        _text("last_error", nullable=True),
        _at("created_at"),
        _at("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_gpw_notice_deadline_id", "gpw_notice", ["deadline_id"])
    op.create_index("ix_gpw_notice_project_id", "gpw_notice", ["project_id"])
    op.create_index(
        "ix_gpw_notice_status_next_attempt", "gpw_notice", ["status", "next_attempt_at"]
    )

    op.create_table(
        "gpw_delivery",
        _int("id"),
        _int("notice_id"),
        _text("channel"),
        _text("address"),
        _text("person"),
        _text("status"),
        _int("attempts"),
        _text("last_error", nullable=True),
        _at("sent_at", nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["gpw_notice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "channel", "address", name="uq_gpw_delivery"),
    )
    op.create_index("ix_gpw_delivery_notice_id", "gpw_delivery", ["notice_id"])

    op.create_table(
        "gpw_inbox",
        _int("id"),
        _int("notice_id"),
        _text("org"),
        _text("role"),
        _at("created_at"),
        _at("read_at", nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["gpw_notice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "org", "role", name="uq_gpw_inbox"),
    )
    op.create_index("ix_gpw_inbox_notice_id", "gpw_inbox", ["notice_id"])
    op.create_index("ix_gpw_inbox_org", "gpw_inbox", ["org"])

    op.create_table(
        "gpw_person",
        _int("id"),
        _text("org"),
        _text("role"),
        _text("name"),
        _text("email", nullable=True),
        _text("webhook", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gpw_person_org", "gpw_person", ["org"])

    op.create_table(
        "gpw_meta",
        _text("key"),
        _text("value"),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    for table in (
        "gpw_meta",
        "gpw_person",
        "gpw_inbox",
        "gpw_delivery",
        "gpw_notice",
        "gpw_calendar_year",
        "gpw_contractor",
        "gpw_audit_head",
        "gpw_audit",
        "gpw_deadline",
        "gpw_project",
    ):
        op.drop_table(table)
