"""Group-chat robots (issue #11): DingTalk and WeCom robots of an organisation (``gpw_robot``)
and their recent sends (``gpw_robot_send``), which the relays share to keep each robot under its
service's 20 messages a minute.

Revision ID: 0007_robots
Revises: 0006_project_facts
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_robots"
down_revision = "0006_project_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gpw_robot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_gpw_robot_org", "gpw_robot", ["org"])
    op.create_table(
        "gpw_robot_send",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("robot_id", sa.Integer(), sa.ForeignKey("gpw_robot.id"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gpw_robot_send_robot_sent", "gpw_robot_send", ["robot_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_gpw_robot_send_robot_sent", table_name="gpw_robot_send")
    op.drop_table("gpw_robot_send")
    op.drop_index("ix_gpw_robot_org", table_name="gpw_robot")
    op.drop_table("gpw_robot")
