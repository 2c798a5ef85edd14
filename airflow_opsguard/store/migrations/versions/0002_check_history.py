"""The history of one check of one dataset as a single index range.

0001 found a check's history by joining its rows to the runs of the dataset, which
reads every run of the dataset when the check is rare or renamed. This copies each
run's dataset and checked_at onto its check rows (filling in the rows already stored)
and indexes (dataset, name, checked_at).

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHECKS = "opsguard_check_results"


def _datetime() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table(CHECKS) as batch:
        batch.add_column(sa.Column("dataset", sa.String(255), nullable=True))
        batch.add_column(sa.Column("checked_at", _datetime(), nullable=True))

    runs = sa.table(
        "opsguard_runs", sa.column("run_id"), sa.column("dataset"), sa.column("checked_at")
    )
    checks = sa.table(CHECKS, sa.column("run_id"), sa.column("dataset"), sa.column("checked_at"))
    of_run = runs.c.run_id == checks.c.run_id
    op.execute(
        checks.update().values(
            dataset=sa.select(runs.c.dataset).where(of_run).scalar_subquery(),
            checked_at=sa.select(runs.c.checked_at).where(of_run).scalar_subquery(),
        )
    )

    with op.batch_alter_table(CHECKS) as batch:
        batch.alter_column("dataset", existing_type=sa.String(255), nullable=False)
        batch.alter_column("checked_at", existing_type=_datetime(), nullable=False)
        batch.drop_index("ix_opsguard_check_results_name_run_id")
        batch.create_index(
            "ix_opsguard_check_results_dataset_name_checked_at",
            ["dataset", "name", "checked_at"],
        )


def downgrade() -> None:
    with op.batch_alter_table(CHECKS) as batch:
        batch.drop_index("ix_opsguard_check_results_dataset_name_checked_at")
        batch.create_index("ix_opsguard_check_results_name_run_id", ["name", "run_id"])
        batch.drop_column("checked_at")
        batch.drop_column("dataset")
