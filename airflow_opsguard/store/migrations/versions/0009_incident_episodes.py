"""Incidents become failure episodes: one per dataset and severity, with member checks.

Until 0008 an incident was one failing (dataset, check), and ``open_key`` hashed the
dataset and the check. From 0009 an incident is a failure episode of a dataset at one
severity: ``open_key`` hashes the dataset and the severity, ``members`` (JSON) lists
its checks, ``incident_key`` is its stable id in alerts, and ``merged_into`` names the
episode that a per-check incident of before was folded into.

Existing rows stay readable as they are (an incident without ``members`` is read as an
episode of its one check). The open (or acknowledged) incidents of a dataset and
severity are folded into the oldest of them: it keeps its number, takes the others'
checks as members, their largest count of failing runs and their first escalation;
the others are closed (``resolved_by: merged``, ``merged_into`` its number), so the
next run continues that one episode instead of opening a new one. The downgrade gives
the open episodes their per-check key back (their headline check).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INCIDENTS = "opsguard_incidents"
MERGED = "merged"
# Frozen copy of this revision's view of the table (never import tables.py here).
_incidents = sa.table(
    INCIDENTS,
    sa.column("id", sa.Integer()),
    sa.column("dataset", sa.String()),
    sa.column("check_name", sa.String()),
    sa.column("check_type", sa.String()),
    sa.column("column_name", sa.String()),
    sa.column("open_key", sa.String()),
    sa.column("status", sa.String()),
    sa.column("severity", sa.String()),
    sa.column("last_status", sa.String()),
    sa.column("failures", sa.Integer()),
    sa.column("opened_at", sa.DateTime(timezone=True)),
    sa.column("last_failed_at", sa.DateTime(timezone=True)),
    sa.column("escalated_at", sa.DateTime(timezone=True)),
    sa.column("resolved_at", sa.DateTime(timezone=True)),
    sa.column("resolved_by", sa.String()),
    sa.column("observed", sa.JSON(none_as_null=True)),
    sa.column("expected", sa.JSON(none_as_null=True)),
    sa.column("message", sa.Text()),
    sa.column("members", sa.JSON(none_as_null=True)),
    sa.column("merged_into", sa.Integer()),
)


def upgrade() -> None:
    op.add_column(INCIDENTS, sa.Column("incident_key", sa.String(64), nullable=True))
    op.add_column(INCIDENTS, sa.Column("members", sa.JSON(none_as_null=True), nullable=True))
    op.add_column(INCIDENTS, sa.Column("merged_into", sa.Integer(), nullable=True))
    _fold_open_incidents(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    t = _incidents
    for row in bind.execute(sa.select(t).where(t.c.open_key.is_not(None))).all():
        key = _digest(f"{row.dataset}\x1f{row.check_name}")
        bind.execute(t.update().where(t.c.id == row.id).values(open_key=key))
    for column in ("merged_into", "members", "incident_key"):
        if bind.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {INCIDENTS} DROP COLUMN {column}")  # SQLite 3.35+
        else:
            op.drop_column(INCIDENTS, column)


def _fold_open_incidents(bind: sa.Connection) -> None:
    t = _incidents
    rows = bind.execute(
        sa.select(t).where(t.c.open_key.is_not(None)).order_by(t.c.opened_at, t.c.id)
    ).all()
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.dataset, row.severity)].append(row)
    for (dataset, severity), group in groups.items():
        kept, *others = group
        for other in others:  # their keys go first: the kept one takes a new key
            bind.execute(
                t.update()
                .where(t.c.id == other.id)
                .values(
                    open_key=None,
                    status="resolved",
                    resolved_at=other.last_failed_at,
                    resolved_by=MERGED,
                    merged_into=kept.id,
                )
            )
        escalations = [r.escalated_at for r in group if r.escalated_at is not None]
        bind.execute(
            t.update()
            .where(t.c.id == kept.id)
            .values(
                open_key=_digest(f"{dataset}\x1fepisode\x1f{severity}"),
                status="open" if any(r.status == "open" for r in group) else "acknowledged",
                failures=max(r.failures for r in group),
                last_failed_at=max(group, key=lambda r: _utc(r.last_failed_at)).last_failed_at,
                escalated_at=min(escalations, key=_utc) if escalations else None,
                members=[_member(r) for r in group],
            )
        )


def _member(row: Any) -> dict[str, Any]:
    return {
        "name": row.check_name,
        "type": row.check_type,
        "column": row.column_name,
        "status": row.last_status,
        "message": row.message,
        "first_failed_at": _utc(row.opened_at).isoformat(),
        "last_failed_at": _utc(row.last_failed_at).isoformat(),
        "failures": row.failures,
        "observed": row.observed,
        "expected": row.expected,
        "recovered_at": None,
        "consequence_of": None,
    }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
