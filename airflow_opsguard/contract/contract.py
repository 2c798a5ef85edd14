"""The contract itself: its top-level keys, the rules that span sections, and its
fingerprint. The sections and the checks are in their own modules."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, WithJsonSchema, model_validator

from airflow_opsguard.contract.alerts import AlertRoute, Escalation, Resolution
from airflow_opsguard.contract.base import Mode, OnFail, StrictModel
from airflow_opsguard.contract.checks import Check
from airflow_opsguard.contract.distribution import Distribution, known_drift_columns
from airflow_opsguard.contract.durations import duration_text
from airflow_opsguard.contract.history_checks import AnomalyCheck, metric_type_problem
from airflow_opsguard.contract.relation_checks import ExpressionCheck
from airflow_opsguard.contract.sections import (
    FUTURE_TOLERANCE,
    Freshness,
    Quarantine,
    Schema,
    Source,
    Volume,
)
from airflow_opsguard.contract.text import short_repr

GxSuiteRef = str | dict[str, Any]
_GX_SUITE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
    ]
}


def _gx_suites(value: Any) -> Any:
    """``gx_suite``: one suite or a list; a suite is a file path, a suite mapping, or a
    Great Expectations ``ExpectationSuite`` (kept as its JSON mapping, so that the
    contract stays plain data and never imports GX)."""
    if value is None:
        return ()
    items = list(value) if isinstance(value, list | tuple) else [value]
    out: list[Any] = []
    for item in items:
        to_json = getattr(item, "to_json_dict", None)
        if callable(to_json) and not isinstance(item, str | dict):
            item = to_json()
        if isinstance(item, str) and not item.strip():
            raise ValueError("a suite path is empty")
        if not isinstance(item, str | dict):
            raise ValueError(f"give a suite file path or a suite mapping, not {short_repr(item)}")
        out.append(item)
    return tuple(out)


class Contract(StrictModel):
    """What a dataset must look like, and what a gate does when it does not."""

    version: Literal[1] = Field(1, description="The contract format version.")
    dataset: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^\S(.*\S)?$",
        description="The name used by results, alerts and the UI.",
    )
    description: str | None = None
    source: Source | None = None
    schema_: Schema | None = Field(None, alias="schema")
    freshness: Freshness | None = None
    volume: Volume | None = None
    checks: tuple[Check, ...] = Field(
        default=(), fail_fast=True, description="More checks, one per entry."
    )
    distribution: Distribution | None = Field(
        None, description="Compare columns' distributions with a reference (drift)."
    )
    on_fail: OnFail = Field("fail", description="What a gate does when the verdict is fail.")
    quarantine: Quarantine | None = Field(
        None,
        description="How on_fail: quarantine sets bad data aside: {level: batch|rows, "
        "location: ..., publish_to: <target table>}.",
    )
    mode: Mode = Field(
        "enforce",
        description="shadow: every check is measured, stored and shown, and never blocks "
        "or alerts; the result says what it would have done.",
    )
    samples: bool = Field(
        True,
        description="false: no failing value of any column is sampled, quoted or kept "
        "(results, alerts, XCom, logs, the UI); counts still are. A column's sensitive: "
        "true does the same for one column, and more (see docs/contracts.md, PII).",
    )
    owner: str | None = Field(None, description="Who answers for the data (shown in alerts).")
    runbook: str | None = Field(None, description="What to do when it fails (a URL or text).")
    alerts: tuple[AlertRoute, ...] = Field(
        default=(),
        fail_fast=True,
        description="Where alerts go: [{on: [fail, escalate], webhook: URL}, ...].",
    )
    escalation: Escalation = Field(
        default_factory=Escalation, description="When an open incident escalates."
    )
    resolution: Resolution = Field(
        default_factory=Resolution,
        description="When an incident resolves (after_passes) and is marked flapping.",
    )
    gx_suite: Annotated[
        tuple[GxSuiteRef, ...], BeforeValidator(_gx_suites), WithJsonSchema(_GX_SUITE_SCHEMA)
    ] = Field(
        default=(),
        description="Great Expectations suites run on the same data: a suite JSON file (read "
        "from the contract file's folder when relative) or a list of them; in Python also "
        "a suite mapping or an ExpectationSuite.",
    )

    # The file the contract was loaded from: relative source paths are read from there.
    _origin: str | None = PrivateAttr(None)

    @property
    def origin(self) -> str | None:
        """The contract file's path, when it was loaded from one."""
        return self._origin

    def with_origin(self, origin: str) -> Contract:
        copy = self.model_copy()
        copy._origin = origin
        return copy

    @model_validator(mode="after")
    def _quarantine_fits_source(self) -> Contract:
        section, source = self.quarantine, self.source
        if section is None or source is None or not source.path:
            return self
        if section.publish_to is not None:
            raise ValueError(
                "quarantine.publish_to: publishing goes with a database source "
                "(source.url or source.conn_id with source.table), not with source.path"
            )
        return self

    @model_validator(mode="after")
    def _drift_anomalies(self) -> Contract:
        compared = {c.name for c in self.distribution.columns} if self.distribution else set()
        for index, check in enumerate(self.checks):
            drift = isinstance(check, AnomalyCheck) and check.metric == "drift"
            if drift and check.columns[0] not in compared:
                raise ValueError(
                    f"checks[{index}]: the drift of {short_repr(check.columns[0])} is measured "
                    "only for a column listed in distribution.columns"
                )
        return self

    @model_validator(mode="after")
    def _known_columns(self) -> Contract:
        if self.schema_ is None or not self.schema_.columns:
            return self
        declared = {c.name: c for c in self.schema_.columns}
        for index, check in enumerate(self.checks):
            for column in check.columns:
                if column not in declared:
                    raise ValueError(
                        f"checks[{index}]: column {short_repr(column)} is not in schema.columns"
                    )
            if isinstance(check, AnomalyCheck) and check.column is not None:
                problem = metric_type_problem(check.metric, declared[check.column].type)
                if problem:
                    raise ValueError(f"checks[{index}].metric: {problem}")
        if self.freshness is not None:
            target = declared.get(self.freshness.column)
            if target is None:
                raise ValueError(
                    f"freshness.column: {short_repr(self.freshness.column)} is not in "
                    "schema.columns"
                )
            if target.type not in (None, "date", "timestamp"):
                raise ValueError(
                    f"freshness.column: {short_repr(target.name)} is {target.type}, not a date "
                    "or timestamp"
                )
        if self.distribution is not None:
            known_drift_columns(self.distribution, declared)
            for index, drift in enumerate(self.distribution.columns):
                if declared[drift.name].sensitive:
                    raise ValueError(
                        f"distribution.columns[{index}]: {short_repr(drift.name)} is sensitive; "
                        "a distribution profile keeps values (categories, histogram edges), "
                        "so a sensitive column cannot be compared"
                    )
        return self

    @property
    def sensitive_columns(self) -> frozenset[str]:
        """The columns marked ``sensitive: true``."""
        if self.schema_ is None:
            return frozenset()
        return frozenset(c.name for c in self.schema_.columns if c.sensitive)

    def reads_sensitive(self, check: Check) -> bool:
        """Whether ``check`` reads a sensitive column: one of its columns, or (an
        expression) a sensitive column's name anywhere in its SQL, in any case."""
        sensitive = self.sensitive_columns
        if not sensitive:
            return False
        if any(c in sensitive for c in check.columns):
            return True
        if isinstance(check, ExpressionCheck):
            return any(mentions(check.expression, name) for name in sensitive)
        return False

    def withholds_values(self, check: Check) -> bool:
        """Whether the values ``check`` finds are withheld: no samples, no failing value
        in its message, observed or metrics (``samples: false``, or a sensitive column)."""
        return not self.samples or self.reads_sensitive(check)

    @property
    def all_checks(self) -> tuple[Check, ...]:
        """The column shorthand expanded, then the explicit checks, in a stable order."""
        implied: list[Check] = []
        if self.schema_ is not None:
            for column in self.schema_.columns:
                implied.extend(column.implied_checks())
        return (*implied, *self.checks)

    @property
    def columns_used(self) -> tuple[str, ...]:
        """Every column some check reads, in first-use order."""
        names: dict[str, None] = {}
        for check in self.all_checks:
            names.update(dict.fromkeys(check.columns))
        if self.freshness is not None:
            names[self.freshness.column] = None
        if self.distribution is not None:
            names.update(dict.fromkeys(c.name for c in self.distribution.columns))
        return tuple(names)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised contract: the same rules give the same fingerprint,
        whatever the formatting, comments or key order of the file."""
        # A section left out is left out of the fingerprint, so that adding a kind of
        # section to the format leaves the fingerprints of existing contracts alone.
        absent = {"distribution"} if self.distribution is None else set()
        absent |= set() if self.gx_suite else {"gx_suite"}
        # Who is told (owner, runbook, routes, escalation, resolution) is not a rule about
        # the data; the enforcement mode is, but only when it is not the default.
        absent |= {"owner", "runbook", "alerts", "escalation", "resolution", "quarantine"}
        normal = self.model_dump(mode="json", by_alias=True, exclude={"description", *absent})
        _drop_default_modes(normal)
        text = json.dumps(normal, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def mentions(expression: str, name: str) -> bool:
    """Whether SQL ``expression`` names column ``name``: as a word in any case, quoted or
    not, inside a string literal too (a false alarm only withholds samples)."""
    pattern = r"(?<![A-Za-z0-9_$])" + re.escape(name.lower()) + r"(?![A-Za-z0-9_$])"
    return re.search(pattern, expression.lower()) is not None


def _drop_default_modes(normal: dict[str, Any]) -> None:
    """Leave ``mode: enforce`` (and other keys at a default that arrived later) out of a
    dumped contract, so that the key's arrival leaves the fingerprints of existing
    contracts alone."""
    for item in (normal, *normal.get("checks", ())):
        if item.get("mode") == "enforce":
            del item["mode"]
    if normal.get("samples") is True:
        del normal["samples"]
    for column in (normal.get("schema") or {}).get("columns", ()):
        if column.get("sensitive") is False:
            del column["sensitive"]
    # The same for the distribution's baseline (and reference, optional since baselines).
    section = normal.get("distribution") or {}
    for key in ("reference", "baseline"):
        if key in section and section[key] is None:
            del section[key]
    # And the freshness section's default clock-skew allowance.
    freshness = normal.get("freshness") or {}
    if freshness.get("future_tolerance") == duration_text(FUTURE_TOLERANCE):
        del freshness["future_tolerance"]
