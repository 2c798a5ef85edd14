"""Incidents and alerts; shadow-mode verdicts on runs and check results.

``opsguard_incidents``: one row per incident of a (dataset, check): opened by a failing
run, updated by the next ones, escalated, acknowledged, resolved. ``open_key`` (a hash
of dataset and check) is set while the incident is open and NULL once it is resolved;
its unique index lets one incident per check be open at a time on every backend (NULLs
never collide), so two gates racing on the same failure open it once.

``opsguard_alerts``: every alert a run decided to send (an outbox), written in the same
transaction as the incidents it reports; ``pending`` until a notifier took it, so an
alert that could not be sent is sent again by the next run. ``dedup_key`` is unique.

``would_be`` on runs and check results: what a shadow-mode check (or contract) would
have been, had it been enforced. New tables and nullable columns only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INCIDENTS = "opsguard_incidents"
ALERTS = "opsguard_alerts"
RUNS = "opsguard_runs"
CHECK_RESULTS = "opsguard_check_results"
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
    op.create_table(
        INCIDENTS,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("check_name", sa.String(255), nullable=False),
        sa.Column("check_type", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(255), nullable=True),
        sa.Column("open_key", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("last_status", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", _datetime(), nullable=False),
        sa.Column("last_failed_at", _datetime(), nullable=False),
        sa.Column("escalated_at", _datetime(), nullable=True),
        sa.Column("acknowledged_at", _datetime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(255), nullable=True),
        sa.Column("resolved_at", _datetime(), nullable=True),
        sa.Column("resolved_by", sa.String(255), nullable=True),
        sa.Column("data_newest", _datetime(), nullable=True),
        sa.Column("opened_run_id", sa.String(255), nullable=True),
        sa.Column("last_run_id", sa.String(255), nullable=True),
        sa.Column("resolved_run_id", sa.String(255), nullable=True),
        sa.Column("last_run_key", sa.String(64), nullable=True),
        sa.Column("dag_id", sa.String(250), nullable=True),
        sa.Column("task_id", sa.String(250), nullable=True),
        sa.Column("observed", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("expected", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("message", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opsguard_incidents"),
        sa.UniqueConstraint("open_key", name="uq_opsguard_incidents_open_key"),
        **MYSQL_OPTIONS,
    )
    # The incidents of one dataset, newest first; the open ones of all datasets.
    op.create_index("ix_opsguard_incidents_dataset_opened_at", INCIDENTS, ["dataset", "opened_at"])
    op.create_index("ix_opsguard_incidents_status", INCIDENTS, ["status"])

    op.create_table(
        ALERTS,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("route_key", sa.String(64), nullable=False),
        sa.Column("route_label", sa.String(500), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", _long_text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("claimed_at", _datetime(), nullable=True),
        sa.Column("sent_at", _datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_opsguard_alerts"),
        sa.UniqueConstraint("dedup_key", name="uq_opsguard_alerts_dedup_key"),
        **MYSQL_OPTIONS,
    )
    # Pending alerts of a route; the alerts of one dataset, newest first.
    op.create_index("ix_opsguard_alerts_status_route_key", ALERTS, ["status", "route_key"])
    op.create_index("ix_opsguard_alerts_dataset_created_at", ALERTS, ["dataset", "created_at"])

    # Plain ADD COLUMNs: a batch (copy-and-rename) of the runs table would cascade
    # deletes into the check results on SQLite.
    op.add_column(RUNS, sa.Column("would_be", sa.String(16), nullable=True))
    op.add_column(CHECK_RESULTS, sa.Column("would_be", sa.String(16), nullable=True))


def downgrade() -> None:
    for table in (CHECK_RESULTS, RUNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN would_be")  # SQLite 3.35+
        else:
            op.drop_column(table, "would_be")
    op.drop_table(ALERTS)
    op.drop_table(INCIDENTS)
