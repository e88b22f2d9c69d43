"""The dashboard's lists (issue #8): who each project concerns, one row per relation
(``gpw_project_party``: purchaser, awarded contractor, supervising bodies), indexes on the
project list's sort keys, each with the id that breaks its ties (keyset pages), an index the
counts of open deadlines per project are read from alone, and the id added to the index of
deadlines by due time (the deadline lists' order).

Existing projects get their rows here: the purchaser from the row; the contractor's registered
name from the project's data (``contractor_name``) or, for projects an older release awarded,
from the register by ``contractor_id``; the supervising bodies recorded at 立项 (projects gpw
0.1.0 made have none recorded, so none is added). From then on the rows are written with the
project, in the same transaction.

Revision ID: 0004_project_parties
Revises: 0003_users_and_inbox_ack
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_project_parties"
down_revision = "0003_users_and_inbox_ack"
branch_labels = None
depends_on = None

#: the project list's sort keys: (index, columns)
SORT_INDEXES = (
    ("ix_gpw_project_updated_at_id", ["updated_at", "id"]),
    ("ix_gpw_project_created_at_id", ["created_at", "id"]),
    ("ix_gpw_project_title_id", ["title", "id"]),
    ("ix_gpw_project_state_id", ["state", "id"]),
)
#: the dashboard's counts of open deadlines per project, read from this index alone
DEADLINE_COUNTS = ["status", "project_id", "due_at", "provisional", "kind", "stage_index"]
#: the supervising bodies a project records at 立项 (``Supervisors``' fields)
SUPERVISING = ("government", "finance", "audit", "leader")

project = sa.table(
    "gpw_project",
    sa.column("id", sa.Integer()),
    sa.column("purchaser", sa.String()),
    sa.column("contractor_id", sa.Integer()),
    sa.column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)
contractor = sa.table(
    "gpw_contractor", sa.column("id", sa.Integer()), sa.column("name", sa.String())
)
party = sa.table(
    "gpw_project_party",
    sa.column("project_id", sa.Integer()),
    sa.column("relation", sa.String()),
    sa.column("org", sa.String()),
)


def _fill() -> None:
    """One INSERT … SELECT per relation, in the database (no row goes through Python)."""
    columns = ["project_id", "relation", "org"]
    op.execute(
        party.insert().from_select(
            columns, sa.select(project.c.id, sa.literal("purchaser"), project.c.purchaser)
        )
    )
    name = sa.func.coalesce(project.c.data["contractor_name"].as_string(), contractor.c.name)
    op.execute(
        party.insert().from_select(
            columns,
            sa.select(project.c.id, sa.literal("contractor"), name)
            .select_from(project.outerjoin(contractor, contractor.c.id == project.c.contractor_id))
            .where(project.c.contractor_id.is_not(None), name.is_not(None), name != ""),
        )
    )
    for relation in SUPERVISING:
        body = project.c.data[("supervisors", relation)].as_string()
        op.execute(
            party.insert().from_select(
                columns,
                sa.select(project.c.id, sa.literal(relation), body).where(
                    body.is_not(None), body != ""
                ),
            )
        )


def upgrade() -> None:
    op.create_table(
        "gpw_project_party",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("gpw_project.id"), nullable=False),
        sa.Column("relation", sa.String(), nullable=False),
        sa.Column("org", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "relation"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_gpw_project_party_org", "gpw_project_party", ["org", "relation", "project_id"]
    )
    for name, columns in SORT_INDEXES:
        op.create_index(name, "gpw_project", columns)
    op.create_index("ix_gpw_deadline_status_project", "gpw_deadline", DEADLINE_COUNTS)
    # the deadline lists' order: by due time, ties by id (PostgreSQL's index did not hold the id)
    op.drop_index("ix_gpw_deadline_status_due_at", table_name="gpw_deadline")
    op.create_index("ix_gpw_deadline_status_due_at", "gpw_deadline", ["status", "due_at", "id"])
    _fill()


def downgrade() -> None:
    op.drop_index("ix_gpw_deadline_status_due_at", table_name="gpw_deadline")
    op.create_index("ix_gpw_deadline_status_due_at", "gpw_deadline", ["status", "due_at"])
    op.drop_index("ix_gpw_deadline_status_project", table_name="gpw_deadline")
    for name, _ in SORT_INDEXES:
        op.drop_index(name, table_name="gpw_project")
    op.drop_index("ix_gpw_project_party_org", table_name="gpw_project_party")
    op.drop_table("gpw_project_party")
