"""Results: plain, frozen, JSON-ready records of what the checks found.

``status`` says what happened (pass, warn, fail, error); ``severity`` says what a
failure of the check means (fail blocks, warn reports). They are kept apart so that a
warning-level check that failed reads as ``status: warn, severity: warn``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "error"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "error")
JsonScalar = str | int | float | bool | None

# A fail is a fact about the data; an error means something could not be measured.
# When both occur, the verdict is fail: no retry will make the failing data pass.
_VERDICT_ORDER: dict[Status, int] = {"pass": 0, "warn": 1, "error": 2, "fail": 3}


def worst(statuses: Iterable[Status]) -> Status:
    """The overall status of several results (``pass`` for none)."""
    return max(statuses, key=_VERDICT_ORDER.__getitem__, default="pass")


def to_json_value(value: Any) -> Any:
    """Turn observed values (dates, decimals, numpy scalars) into JSON-ready ones."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy and pandas scalars
    if callable(item):
        return to_json_value(item())
    return str(value)


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check."""

    name: str
    type: str
    status: Status
    severity: str
    message: str
    column: str | None = None
    observed: JsonScalar = None
    expected: JsonScalar = None
    failing_count: int | None = None
    failing_fraction: float | None = None
    samples: tuple[Any, ...] = ()
    mostly: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    # A check in shadow mode: the status it would have had if enforced (its ``status``
    # is then ``pass``: it never blocks nor alerts). None for an enforced check.
    would_be: Status | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "column": self.column,
            "status": self.status,
            "severity": self.severity,
            "observed": to_json_value(self.observed),
            "expected": to_json_value(self.expected),
            "message": self.message,
        }
        if self.failing_count is not None:
            out["failing_count"] = self.failing_count
            out["failing_fraction"] = self.failing_fraction
            out["samples"] = to_json_value(list(self.samples))
        if self.mostly is not None:
            out["mostly"] = self.mostly
        if self.metrics:
            out["metrics"] = to_json_value(self.metrics)
        if self.would_be is not None:
            out["mode"] = "shadow"
            out["would_be"] = self.would_be
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            name=data["name"],
            type=data["type"],
            status=data["status"],
            severity=data["severity"],
            message=data["message"],
            column=data.get("column"),
            observed=data.get("observed"),
            expected=data.get("expected"),
            failing_count=data.get("failing_count"),
            failing_fraction=data.get("failing_fraction"),
            samples=tuple(data.get("samples") or ()),
            mostly=data.get("mostly"),
            metrics=dict(data.get("metrics") or {}),
            would_be=data.get("would_be"),
        )


@dataclass(frozen=True)
class GateResult:
    """The verdict on one dataset: every check, and the overall status."""

    dataset: str
    status: Status
    checked_at: datetime
    rows: int | None
    checks: tuple[CheckResult, ...]
    contract_fingerprint: str | None = None
    data_fingerprint: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    retryable: bool = False  # with an error: trying again later may help
    run_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    # Dataset metrics of the run, kept in the store's history: rows, null_fraction(col),
    # mean(col), distinct_count(col), freshness_lag_seconds(col) (None: no value).
    metrics: Mapping[str, float | int | None] = field(default_factory=dict)
    # With checks in shadow mode: the verdict had every check been enforced.
    would_be: Status | None = None
    # With a distribution baseline: the profile of this run's data (a Profile as a dict),
    # stored so the run can be promoted to the next baseline version. Too big for XCom
    # and the JSON output: to_dict() leaves it out unless asked.
    profile: Mapping[str, Any] | None = None

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """The checks whose status is fail or error."""
        return tuple(c for c in self.checks if c.status in ("fail", "error"))

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            counts[check.status] += 1
        return counts

    def to_dict(self, *, with_profile: bool = False) -> dict[str, Any]:
        """The JSON object of ``opsguard check --format json`` (it survives ``json.dumps``);
        ``with_profile`` adds the run's profile (for the store's spool)."""
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "status": self.status,
            "checked_at": to_json_value(self.checked_at),
            "rows": self.rows,
            "checks": [c.to_dict() for c in self.checks],
            "contract_fingerprint": self.contract_fingerprint,
            "data_fingerprint": to_json_value(self.data_fingerprint),
            "source": self.source,
            "duration_ms": self.duration_ms,
        }
        if self.error is not None:
            out["error"] = self.error
            out["retryable"] = self.retryable
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.context:
            out["context"] = to_json_value(self.context)
        if self.metrics:
            out["metrics"] = to_json_value(self.metrics)
        if self.would_be is not None:
            out["would_be"] = self.would_be
        if with_profile and self.profile is not None:
            out["profile"] = to_json_value(self.profile)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateResult:
        checked_at = datetime.fromisoformat(data["checked_at"])
        return cls(
            dataset=data["dataset"],
            status=data["status"],
            checked_at=checked_at,
            rows=data.get("rows"),
            checks=tuple(CheckResult.from_dict(c) for c in data.get("checks", ())),
            contract_fingerprint=data.get("contract_fingerprint"),
            data_fingerprint=dict(data.get("data_fingerprint") or {}),
            source=data.get("source"),
            duration_ms=data.get("duration_ms"),
            error=data.get("error"),
            retryable=bool(data.get("retryable", False)),
            run_id=data.get("run_id"),
            context=dict(data.get("context") or {}),
            metrics=dict(data.get("metrics") or {}),
            would_be=data.get("would_be"),
            profile=data.get("profile"),
        )
