"""Since v0.1.0: audit entries record ``recorded_at``, a project's ``version`` and ``digest``,
and the formula that hashed them (``hash_format``); JSON columns are JSONB on PostgreSQL.

Entries v0.1.0 wrote keep their hashes: they are marked ``hash_format`` 1 (v0.1.0's formula),
their ``recorded_at`` is their ``at`` (the release recorded no other time), ``version`` and
``digest`` stay NULL. New entries are format 2. A database made between v0.1.0 and this release
(it already has ``recorded_at``, hashed with today's formula) gains ``hash_format``, 2 for every
entry, unless its tables were created with the column already.

Revision ID: 0002_audit_hash_format
Revises: 0001_v0_1_0
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_audit_hash_format"
down_revision = "0001_v0_1_0"
branch_labels = None
depends_on = None

#: every column holding JSON: JSONB on PostgreSQL (indexable, compared by value)
JSON_COLUMNS = (
    ("gpw_project", "data"),
    ("gpw_audit", "data"),
    ("gpw_contractor", "data"),
    ("gpw_calendar_year", "data"),
    ("gpw_notice", "recipients"),
)

audit = sa.table(
    "gpw_audit",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("hash_format", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    present = {c["name"] for c in sa.inspect(bind).get_columns("gpw_audit")}
    made_since_v010 = "recorded_at" in present
    if "hash_format" not in present:
        with op.batch_alter_table("gpw_audit") as batch:
            if not made_since_v010:
                batch.add_column(
                    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True)
                )
                batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
                batch.add_column(sa.Column("digest", sa.String(), nullable=True))
            batch.add_column(sa.Column("hash_format", sa.Integer(), nullable=True))
        if made_since_v010:
            op.execute(audit.update().values(hash_format=2))
        else:
            op.execute(audit.update().values(hash_format=1, recorded_at=audit.c.at))
    with op.batch_alter_table("gpw_audit") as batch:
        batch.alter_column("recorded_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column(
            "hash_format", existing_type=sa.Integer(), nullable=False, server_default="2"
        )
    if bind.dialect.name == "postgresql":
        for table, column in JSON_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=postgresql.JSONB(),
                existing_type=sa.JSON(),
                existing_nullable=False,
                postgresql_using=f"{column}::jsonb",
            )


def downgrade() -> None:
    """Back to v0.1.0's schema, only while every entry is still format 1: v0.1.0 could not
    verify an entry hashed with today's formula."""
    bind = op.get_bind()
    newer = bind.execute(
        sa.select(sa.func.count()).select_from(audit).where(audit.c.hash_format != 1)
    ).scalar_one()
    if newer:
        raise RuntimeError(
            f"{newer} audit entries use the current hash format: v0.1.0 could not verify them"
        )
    if bind.dialect.name == "postgresql":
        for table, column in JSON_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=sa.JSON(),
                existing_type=postgresql.JSONB(),
                existing_nullable=False,
                postgresql_using=f"{column}::json",
            )
    with op.batch_alter_table("gpw_audit") as batch:
        batch.drop_column("hash_format")
        batch.drop_column("digest")
        batch.drop_column("version")
        batch.drop_column("recorded_at")
