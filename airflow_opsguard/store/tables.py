"""The tables of the results store, on their own ``MetaData``.

Never Airflow's metadata: the store may share a database with Airflow, and its tables
must not appear in (or be dropped by) Airflow's migrations. Every name starts with
``opsguard_``. This module describes the newest schema; the migrations under
``migrations/versions`` build it step by step and are the source of truth for DDL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

# Constraint names are spelled out so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
VERSION_TABLE = "opsguard_alembic_version"
# MySQL/MariaDB: 4-byte UTF-8 and exact (case-sensitive) comparison, as on PostgreSQL.
MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A UTC instant with microseconds on every backend; naive values are read as UTC.

    PostgreSQL stores ``timestamptz``; SQLite and MySQL, which have no time zones, store
    the UTC wall time (MySQL with ``DATETIME(6)``, not the default whole seconds).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _long_text() -> sa.types.TypeEngine[str]:
    # MySQL's TEXT stops at 64 KiB; an error message with a long query may not.
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


runs = sa.Table(
    "opsguard_runs",
    metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
    # The UTC offset (seconds) that checked_at was given in, so a result reads back as it was.
    sa.Column("checked_at_utcoffset", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("duration_ms", sa.BigInteger()),
    sa.Column("rows", sa.BigInteger()),
    sa.Column("contract_fingerprint", sa.String(128)),
    sa.Column("data_fingerprint", _json()),
    sa.Column("source", _long_text()),
    sa.Column("error", _long_text()),
    sa.Column("retryable", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("context", _json()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Shadow mode (0006): the verdict had every check been enforced.
    sa.Column("would_be", sa.String(16)),
    # The latest runs of one dataset; the latest runs of all.
    sa.Index(None, "dataset", "checked_at"),
    sa.Index(None, "checked_at"),
    **MYSQL_OPTIONS,
)

check_results = sa.Table(
    "opsguard_check_results",
    metadata,
    sa.Column(
        "run_id",
        sa.String(255),
        sa.ForeignKey(runs.c.run_id, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    # Copied from the run so that the history of one check is one index range (0002).
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("column_name", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("observed", _json()),
    sa.Column("expected", _json()),
    sa.Column("message", _long_text(), nullable=False),
    sa.Column("failing_count", sa.BigInteger()),
    sa.Column("failing_fraction", sa.Double()),
    sa.Column("samples", _json()),
    sa.Column("mostly", sa.Double()),
    sa.Column("metrics", _json()),
    # Shadow mode (0006): the status the check would have had, had it been enforced.
    sa.Column("would_be", sa.String(16)),
    # The history of one check of one dataset, newest first.
    sa.Index(None, "dataset", "name", "checked_at"),
    **MYSQL_OPTIONS,
)

# Freshness SLA misses (0004): one row per sensor task of a DAG run whose SLA passed, so
# the SLA callback fires once per run however often the sensor runs again.
sla_misses = sa.Table(
    "opsguard_sla_misses",
    metadata,
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("task_id", sa.String(250), primary_key=True),
    sa.Column("map_index", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("sla_seconds", sa.Double(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("missed_at", UTCDateTime(), nullable=False),
    sa.Column("limit_seconds", sa.Double(), nullable=False),
    sa.Column("age_seconds", sa.Double()),
    sa.Column("newest", UTCDateTime()),
    sa.Column("message", _long_text(), nullable=False),
    sa.Index(None, "dataset", "missed_at"),
    **MYSQL_OPTIONS,
)

# Run metrics (0005): one row per metric of a run, with the run's verdict, so that the
# history of one metric (for anomaly checks) is one index range.
METRIC_NAME_LENGTH = 500
metrics = sa.Table(
    "opsguard_metrics",
    metadata,
    sa.Column(
        "run_id",
        sa.String(255),
        sa.ForeignKey(runs.c.run_id, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(METRIC_NAME_LENGTH), primary_key=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("value", sa.Double()),
    sa.Index(None, "dataset", "name", "checked_at"),
    **MYSQL_OPTIONS,
)

# Incidents (0006): one per failing (dataset, check), from the first failing run to the
# passing one. open_key (a hash of dataset and check) is set while it is open, NULL once
# resolved: its unique index keeps one incident per check open on every backend.
incidents = sa.Table(
    "opsguard_incidents",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("check_name", sa.String(255), nullable=False),
    sa.Column("check_type", sa.String(64), nullable=False),
    sa.Column("column_name", sa.String(255)),
    sa.Column("open_key", sa.String(64), unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("last_status", sa.String(16), nullable=False),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("last_failed_at", UTCDateTime(), nullable=False),
    sa.Column("escalated_at", UTCDateTime()),
    sa.Column("acknowledged_at", UTCDateTime()),
    sa.Column("acknowledged_by", sa.String(255)),
    sa.Column("resolved_at", UTCDateTime()),
    sa.Column("resolved_by", sa.String(255)),
    sa.Column("data_newest", UTCDateTime()),
    sa.Column("opened_run_id", sa.String(255)),
    sa.Column("last_run_id", sa.String(255)),
    sa.Column("resolved_run_id", sa.String(255)),
    sa.Column("last_run_key", sa.String(64)),
    sa.Column("dag_id", sa.String(250)),
    sa.Column("task_id", sa.String(250)),
    sa.Column("observed", _json()),
    sa.Column("expected", _json()),
    sa.Column("message", _long_text(), nullable=False),
    # Episodes (0009): an incident is a failure episode of a dataset at one severity;
    # its stable key, its member checks (JSON) and, for a per-check incident of before,
    # the episode it was folded into.
    sa.Column("incident_key", sa.String(64)),
    sa.Column("members", _json()),
    sa.Column("merged_into", sa.Integer()),
    # The hold before resolving (0010): passing runs in a row while recovering, when
    # the failure came back within the hold (JSON), and the flapping mark.
    sa.Column("passing_runs", sa.Integer()),
    sa.Column("returns", _json()),
    sa.Column("flapping", sa.Boolean()),
    sa.Index(None, "dataset", "opened_at"),
    sa.Index(None, "status"),
    **MYSQL_OPTIONS,
)

# Alerts (0006): the outbox. Every alert a run decided to send, written with the
# incident changes it reports; pending until a notifier took it.
alerts = sa.Table(
    "opsguard_alerts",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("route_key", sa.String(64), nullable=False),
    sa.Column("route_label", sa.String(500), nullable=False),
    sa.Column("payload", _json(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", _long_text()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_at", UTCDateTime()),
    sa.Column("sent_at", UTCDateTime()),
    sa.Index(None, "status", "route_key"),
    sa.Index(None, "dataset", "created_at"),
    **MYSQL_OPTIONS,
)

# Quarantine (0007): one row per batch (or the bad rows of one) that a gate set aside,
# keyed by the batch id, which stays the same across retries of a gate task.
quarantine = sa.Table(
    "opsguard_quarantine",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("run_id", sa.String(255)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("location", _long_text(), nullable=False),
    sa.Column("source", _long_text()),
    sa.Column("publish_to", sa.String(500)),
    sa.Column("rows", sa.BigInteger()),
    sa.Column("clean_rows", sa.BigInteger()),
    sa.Column("reasons", _json()),
    sa.Column("details", _json()),
    sa.Column("dag_id", sa.String(250)),
    sa.Column("task_id", sa.String(250)),
    sa.Column("dag_run_id", sa.String(250)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("reviewed_at", UTCDateTime()),
    sa.Column("reviewed_by", sa.String(255)),
    sa.Column("review_reason", _long_text()),
    sa.Column("review_run_id", sa.String(255)),
    sa.Column("forced", sa.Boolean()),
    sa.Index(None, "dataset", "created_at"),
    sa.Index(None, "status", "created_at"),
    sa.Index(None, "run_id"),
    **MYSQL_OPTIONS,
)

# Baselines (0008): versions of named drift reference profiles (JSON text), and the
# profile of each run of a contract that uses one, which promotion copies.
baselines = sa.Table(
    "opsguard_baselines",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("profile", _long_text(), nullable=False),
    sa.Column("run_id", sa.String(255)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255)),
    sa.Column("reason", _long_text()),
    **MYSQL_OPTIONS,
)

run_profiles = sa.Table(
    "opsguard_run_profiles",
    metadata,
    sa.Column(
        "run_id",
        sa.String(255),
        sa.ForeignKey(runs.c.run_id, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("profile", _long_text(), nullable=False),
    **MYSQL_OPTIONS,
)
