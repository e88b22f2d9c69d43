"""Import of running projects (issue #11): which row of which workbook (SHA-256) made which
project, so a second import creates nothing.

``gpw_import_row``: one row per imported workbook row, keyed by the file's SHA-256 and the row's
number on its first sheet, naming the project the row made; written by the import's transaction
together with the projects. No existing data changes.

Revision ID: 0009_imports
Revises: 0008_subscriptions
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_imports"
down_revision = "0008_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gpw_import_row",
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("sheet_row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "sheet_row"),
    )
    op.create_index("ix_gpw_import_row_project_id", "gpw_import_row", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_gpw_import_row_project_id", table_name="gpw_import_row")
    op.drop_table("gpw_import_row")
