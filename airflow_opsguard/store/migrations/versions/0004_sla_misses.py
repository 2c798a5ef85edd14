"""Freshness SLA misses: one row per sensor task of a DAG run whose SLA passed.

The FreshnessSensor records a miss here before it calls its ``sla_miss_callback``; the
primary key (dag, run, task, map index) makes the callback fire once per run, even when
the sensor runs again in a new process (reschedule mode, a retry). A new table only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SLA_MISSES = "opsguard_sla_misses"
# Frozen copies of this revision's types (never import tables.py in a revision).
MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _datetime() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    # Airflow's id length (250): the three ids and the map index fit MySQL's 3072-byte key.
    op.create_table(
        SLA_MISSES,
        sa.Column("dag_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("task_id", sa.String(250), nullable=False),
        sa.Column("map_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("sla_seconds", sa.Double(), nullable=False),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("missed_at", _datetime(), nullable=False),
        sa.Column("limit_seconds", sa.Double(), nullable=False),
        sa.Column("age_seconds", sa.Double(), nullable=True),
        sa.Column("newest", _datetime(), nullable=True),
        sa.Column("message", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dag_id", "run_id", "task_id", "map_index", name="pk_opsguard_sla_misses"
        ),
        **MYSQL_OPTIONS,
    )
    # The misses of one dataset, newest first.
    op.create_index(
        "ix_opsguard_sla_misses_dataset_missed_at", SLA_MISSES, ["dataset", "missed_at"]
    )


def downgrade() -> None:
    op.drop_table(SLA_MISSES)
