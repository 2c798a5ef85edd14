"""The sections of a contract: source, schema (and its columns), freshness, volume and
quarantine. Distribution has its own module, alert routes theirs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from airflow_opsguard.contract.base import (
    ORDERED_TYPES,
    Bound,
    Bounded,
    ColumnType,
    Count,
    Duration,
    Severity,
    StrictModel,
    Values,
    check_regex,
    named_once,
)
from airflow_opsguard.contract.checks import ROW_CHECK_TYPES, Check
from airflow_opsguard.contract.column_checks import (
    AllowedCheck,
    LengthCheck,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    UniqueCheck,
)
from airflow_opsguard.contract.durations import format_duration

# How far in the future the newest timestamp may lie, by default: clocks of the
# machines that write and check data disagree by a little, never by days.
FUTURE_TOLERANCE = timedelta(minutes=5)

ExtraColumns = Literal["fail", "warn", "allow"]


class Source(StrictModel):
    """Where the data is. An operator or the CLI may override it."""

    engine: Literal["spark"] | None = Field(
        None,
        description="spark: the checks run on a Spark session (source.master, source.remote "
        "or an Airflow Spark connection in conn_id), on its path, table or query. "
        "Omitted: files in DuckDB, url and conn_id sources in their database.",
    )
    path: str | None = Field(
        None, description="A file, directory or glob (.parquet, .csv, .jsonl), or an fsspec URL."
    )
    format: Literal["parquet", "csv", "jsonl", "json", "orc", "delta"] | None = Field(
        None,
        description="The file format when the path's ending does not tell it "
        "(orc and delta with engine: spark only).",
    )
    url: str | None = Field(None, description="A SQLAlchemy database URL.")
    conn_id: str | None = Field(
        None,
        description="An Airflow connection id (read wherever Airflow is installed): the "
        "database, with table or query; the object storage (s3://..., gs://...) of path; "
        "the Spark session.",
    )
    table: str | None = Field(None, description="A table, optionally schema-qualified.")
    query: str | None = Field(None, description="A SELECT whose rows are checked.")
    master: str | None = Field(
        None, description="engine: spark: the Spark master (local[4], spark://host:7077, yarn)."
    )
    remote: str | None = Field(
        None, description="engine: spark: a Spark Connect URL (sc://host:15002)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if self.engine == "spark":
            return self._spark()
        spark_only = [k for k in ("master", "remote") if getattr(self, k)]
        if self.format in ("orc", "delta"):
            spark_only.append(f"format: {self.format}")
        if spark_only:
            raise ValueError(f"{spark_only[0]} goes with engine: spark")
        if self.path and self.conn_id and "://" not in self.path:
            raise ValueError(
                f"conn_id beside path names the object storage of a URL (s3://bucket/...); "
                f"path {self.path!r} is a local path"
            )
        # Beside path, conn_id names its storage connection: path and url stay apart.
        kinds = [k for k in ("path", "url", "conn_id") if getattr(self, k)]
        if self.path and self.conn_id:
            kinds.remove("conn_id")
        if len(kinds) > 1:
            raise ValueError(f"give one of path, url or conn_id, not {' and '.join(kinds)}")
        if self.table and self.query:
            raise ValueError("give 'table' or 'query', not both")
        if self.path and (self.table or self.query):
            raise ValueError("'table' and 'query' go with 'url' or 'conn_id', not with 'path'")
        return self

    def _spark(self) -> Source:
        """A Spark source: one session (master, remote or conn_id, or none: the active
        one) and one of path, table or query."""
        if self.url:
            raise ValueError(
                "url is a SQLAlchemy database URL; a Spark source names its session with "
                "master, remote (sc://host:15002) or conn_id"
            )
        sessions = [k for k in ("master", "remote", "conn_id") if getattr(self, k)]
        if len(sessions) > 1:
            raise ValueError(f"give one of master, remote or conn_id, not {' and '.join(sessions)}")
        if self.remote and not self.remote.startswith("sc://"):
            raise ValueError(f"remote {self.remote!r}: a Spark Connect URL starts with sc://")
        data = [k for k in ("path", "table", "query") if getattr(self, k)]
        if len(data) != 1:
            shown = " and ".join(data) if data else "none"
            raise ValueError(f"a Spark source gives one of path, table or query (here: {shown})")
        if self.format and not self.path:
            raise ValueError("format goes with path")
        return self


class Column(Bounded):
    """One column of the schema, with shorthand for the checks on it."""

    bound_pairs = (("min", "max"), ("min_length", "max_length"))
    bounds_required = False

    name: str = Field(min_length=1)
    type: ColumnType | None = Field(None, description="Expected type; omit to accept any.")
    nullable: bool = Field(True, description="false: a not_null check on the column.")
    unique: bool = Field(False, description="true: a unique check on the column.")
    min: Bound | None = Field(None, description="Smallest allowed value (a range check).")
    max: Bound | None = Field(None, description="Largest allowed value (a range check).")
    strict_min: bool = False
    strict_max: bool = False
    allowed: Values | None = None
    not_allowed: Values | None = None
    pattern: str | None = Field(None, description="A regular expression values must contain.")
    min_length: Count | None = None
    max_length: Count | None = None
    severity: Severity = Field("fail", description="Severity of the checks this column implies.")
    mostly: float | None = Field(None, gt=0, le=1)
    sensitive: bool = Field(
        False,
        description="true: the column holds personal or secret data: its values are never "
        "sampled, quoted or kept (results, alerts, XCom, logs, the UI); counts still are.",
    )

    _valid = field_validator("pattern")(lambda v: v if v is None else check_regex(v))

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        ordered = self.type is None or self.type in ORDERED_TYPES
        if (self.min is not None or self.max is not None) and not ordered:
            raise ValueError(f"min/max need a number, date or timestamp column, not {self.type}")
        text = self.type in (None, "string")
        if (
            self.pattern or self.min_length is not None or self.max_length is not None
        ) and not text:
            raise ValueError(f"pattern and lengths need a string column, not {self.type}")
        return self

    def implied_checks(self) -> list[Check]:
        """The checks this column's shorthand stands for, in a stable order."""
        common: dict[str, Any] = {"column": self.name, "severity": self.severity}
        mostly = {"mostly": self.mostly} if self.mostly is not None else {}
        checks: list[Check] = []
        if not self.nullable:
            checks.append(NotNullCheck(**common, **mostly))
        if self.unique:
            checks.append(UniqueCheck(**common, **mostly))
        if self.min is not None or self.max is not None:
            checks.append(
                RangeCheck(
                    **common,
                    **mostly,
                    min=self.min,
                    max=self.max,
                    strict_min=self.strict_min,
                    strict_max=self.strict_max,
                )
            )
        if self.allowed is not None:
            checks.append(AllowedCheck(**common, **mostly, values=self.allowed))
        if self.not_allowed is not None:
            checks.append(NotAllowedCheck(**common, **mostly, values=self.not_allowed))
        if self.pattern is not None:
            checks.append(PatternCheck(**common, **mostly, pattern=self.pattern))
        if self.min_length is not None or self.max_length is not None:
            checks.append(
                LengthCheck(
                    **common, **mostly, min_length=self.min_length, max_length=self.max_length
                )
            )
        return checks


class Schema(StrictModel):
    """The columns the data must have."""

    columns: tuple[Column, ...] = Field(
        default=(), fail_fast=True, description="The expected columns."
    )
    extra_columns: ExtraColumns = Field(
        "fail", description="What a column the contract does not list means."
    )
    ordered: bool = Field(False, description="true: the columns must appear in this order.")
    severity: Severity = "fail"

    @field_validator("columns")
    @classmethod
    def _unique_names(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        named: tuple[Column, ...] = named_once(columns)
        return named


class Freshness(StrictModel):
    """The newest value of a timestamp column must be recent enough."""

    column: str = Field(description="A date or timestamp column; naive timestamps are UTC.")
    warn_after: Duration | None = Field(None, description="Older than this: warn.")
    fail_after: Duration | None = Field(None, description="Older than this: fail.")
    future_tolerance: Duration = Field(
        FUTURE_TOLERANCE,
        description="How far in the future (beyond the clock of the check) the newest "
        "timestamp may lie, for clocks that disagree a little; further, the column holds a "
        "bad timestamp and the check fails. Default 5m.",
    )
    severity: Severity = "fail"

    @model_validator(mode="after")
    def _limits(self) -> Freshness:
        if self.warn_after is None and self.fail_after is None:
            raise ValueError("give 'warn_after', 'fail_after' or both")
        if self.future_tolerance > timedelta(days=1):
            raise ValueError(
                f"future_tolerance: {format_duration(self.future_tolerance)} is more clock "
                "skew than machines have; at most 1d"
            )
        if self.warn_after and self.fail_after and self.warn_after > self.fail_after:
            raise ValueError(
                f"warn_after ({format_duration(self.warn_after)}) is longer than "
                f"fail_after ({format_duration(self.fail_after)})"
            )
        return self


class Volume(Bounded):
    """How many rows the data may have."""

    bound_pairs = (("min_rows", "max_rows"),)

    min_rows: Count | None = None
    max_rows: Count | None = None
    severity: Severity = "fail"


QuarantineLevel = Literal["batch", "rows"]


class Quarantine(StrictModel):
    """Where bad data goes, and (for databases) where good data is published: see
    docs/quarantine.md."""

    level: QuarantineLevel = Field(
        "batch",
        description="batch: a failing batch is set aside whole; rows: only the rows that "
        f"fail row checks ({', '.join(ROW_CHECK_TYPES)}) are set "
        "aside, and the aggregate checks are judged again on the rows that remain.",
    )
    location: str | None = Field(
        None,
        min_length=1,
        description="Files: the quarantine folder (a path or fsspec URL; default "
        "<dir>/_quarantine). Databases: the quarantine table (default <target>_quarantine).",
    )
    publish_to: str | None = Field(
        None,
        min_length=1,
        description="Databases (write-audit-publish): the target table. source.table is "
        "the staging table; a passing batch moves from it into this table in one "
        "transaction.",
    )
