"""Public disclosure (issue #9): OCDS releases published by the event's own transaction
(``gpw_release``: one row per public audit entry) and published anchors, the audit chains'
heads (``gpw_anchor``).

Projects that existed before this revision have no releases: ``gpw disclose --backfill``
publishes one release per such project (its current public state, dated at its last public
entry), built by the engine from committed data.

Revision ID: 0005_disclosure
Revises: 0004_project_parties
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_disclosure"
down_revision = "0004_project_parties"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "gpw_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ocid", sa.String(), nullable=False),
        sa.Column("release_id", sa.String(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release", _json(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("release_id"),
        sa.UniqueConstraint("project_id", "seq", name="uq_gpw_release_project_seq"),
    )
    op.create_index("ix_gpw_release_project_id", "gpw_release", ["project_id"])
    op.create_index("ix_gpw_release_published_at", "gpw_release", ["published_at"])
    op.create_index("ix_gpw_release_ocid_id", "gpw_release", ["ocid", "id"])
    op.create_table(
        "gpw_anchor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("anchor", _json(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gpw_anchor_published_at", "gpw_anchor", ["published_at"])


def downgrade() -> None:
    op.drop_index("ix_gpw_anchor_published_at", table_name="gpw_anchor")
    op.drop_table("gpw_anchor")
    op.drop_index("ix_gpw_release_ocid_id", table_name="gpw_release")
    op.drop_index("ix_gpw_release_published_at", table_name="gpw_release")
    op.drop_index("ix_gpw_release_project_id", table_name="gpw_release")
    op.drop_table("gpw_release")
