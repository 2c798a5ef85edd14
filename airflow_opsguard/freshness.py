"""Waiting for fresh data, without Airflow: where "newest" comes from, how old it is, and
when a freshness SLA is missed.

:class:`~airflow_opsguard.sensors.FreshnessSensor` and its trigger are a thin layer over
this module. Observing reads the source (I/O); judging and the SLA arithmetic are pure
functions of their arguments, ``now`` included, so they are tested without clocks.

Semantics (the sensor documents them for users):

- The data is fresh when ``reference - newest <= limit``. ``reference`` is the run's
  fixed instant (its data interval end by default, as the quality gate uses), so a
  backfill of an old interval waits for that interval's data; or the wall clock at each
  poke when the run has no such instant or the user asks for ``"now"``.
- The SLA is due at ``anchor + sla``, where the anchor is that same fixed instant, or the
  sensor's first poke when freshness is judged against the wall clock. Whether it is due
  is always decided by the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow_opsguard.checks.evaluate import as_utc
from airflow_opsguard.checks.keys import FRESHNESS_KEY
from airflow_opsguard.contract.durations import format_duration
from airflow_opsguard.contract.models import Column, Contract, Schema
from airflow_opsguard.contract.sections import FUTURE_TOLERANCE
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from airflow_opsguard.engines.connections import ConnectionResolver
    from airflow_opsguard.engines.sources import FileSource

SourceKind = Literal["column", "mtime", "asset"]
SOURCE_KINDS: tuple[str, ...] = ("column", "mtime", "asset")


# --------------------------------------------------------------------------- observing


@dataclass(frozen=True)
class Observation:
    """The newest timestamp of a source, or why it could not be read.

    ``newest`` is None with ``error`` None when the source holds no timestamp at all
    (no rows, no asset event yet): as stale as data gets.
    """

    newest: datetime | None
    error: str | None = None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "newest": None if self.newest is None else self.newest.isoformat(),
            "error": self.error,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        newest = data.get("newest")
        return cls(
            newest=None if newest is None else as_utc(datetime.fromisoformat(newest)),
            error=data.get("error"),
            source=data.get("source"),
        )


def freshness_limit(contract: Contract | None, max_age: timedelta | None) -> timedelta | None:
    """The age the data may have: ``max_age``, else the contract's ``freshness.fail_after``,
    else its ``warn_after``; None when neither says."""
    if max_age is not None:
        return max_age
    if contract is None or contract.freshness is None:
        return None
    return contract.freshness.fail_after or contract.freshness.warn_after


def future_tolerance(contract: Contract | None) -> timedelta:
    """How far in the future a newest timestamp may be: the contract's
    ``freshness.future_tolerance``, else the default (5m)."""
    if contract is None or contract.freshness is None:
        return FUTURE_TOLERANCE
    return contract.freshness.future_tolerance


def freshness_only(contract: Contract) -> Contract:
    """``contract`` reduced to its source and freshness check (and the declared type of
    the freshness column, which text formats are read as), keeping its origin."""
    if contract.freshness is None:
        raise ValueError(f"contract {contract.dataset!r} has no freshness section")
    name = contract.freshness.column
    declared = next(
        (c.type for c in (contract.schema_.columns if contract.schema_ else ()) if c.name == name),
        None,
    )
    schema = (
        Schema(columns=(Column(name=name, type=declared),), extra_columns="allow")
        if declared is not None
        else None
    )
    return contract.model_copy(
        # Alert routes stay behind: webhook URLs must not travel in a trigger's kwargs.
        update={
            "schema_": schema,
            "volume": None,
            "checks": (),
            "distribution": None,
            "on_fail": "fail",
            "alerts": (),
        }
    )


def storage_only(contract: Contract) -> Contract | None:
    """``contract`` reduced to its source when that source reads object storage through
    an Airflow connection (``source.conn_id`` beside ``source.path``), so that a
    deferred modification-time watch lists with the connection's filesystem; else None."""
    source = contract.source
    if source is None or not (source.path and source.conn_id):
        return None
    return contract.model_copy(
        # Alert routes stay behind: webhook URLs must not travel in a trigger's kwargs.
        update={
            "schema_": None,
            "freshness": None,
            "volume": None,
            "checks": (),
            "distribution": None,
            "on_fail": "fail",
            "alerts": (),
        }
    )


def newest_in_column(contract: Contract, data: str | None = None, table: str | None = None) -> Any:
    """The newest value of the contract's freshness column, measured by our engine (files
    and databases alike). Raises :class:`DataSourceError` when the data cannot be read."""
    from airflow_opsguard.engines.measuring import measure

    assert contract.freshness is not None
    observations = measure(freshness_only(contract), data, table=table)
    measured = observations.for_check(FRESHNESS_KEY)
    if measured.error:
        raise DataSourceError(measured.error)
    if observations.rows == 0:
        return None
    return measured.value


def file_location(contract: Contract | None, data: str | None) -> str:
    """The file, folder, glob or fsspec URL whose modification time is watched."""
    return file_source(contract, data).location


def file_source(contract: Contract | None, data: str | None) -> FileSource:
    """The file source whose modification time is watched (with the storage connection
    of its URL, when the contract names one)."""
    from airflow_opsguard.engines.sources import FileSource, resolve_source

    try:
        source = resolve_source(contract, data or None)
    except DataSourceError:
        source = None
    if not isinstance(source, FileSource):
        raise DataSourceError("a modification time needs a file source (source.path or data=)")
    return source


def newest_mtime(location: str, filesystem: Any = None) -> datetime:
    """The newest modification time among the files at ``location`` (a file, folder or
    glob; local or an fsspec URL, listed with ``filesystem`` when given), listed as the
    engine lists them. Raises :class:`DataSourceError` when there is none, or a folder
    cannot be read."""
    from airflow_opsguard.engines.listing import list_files

    listing = list_files(location, filesystem)
    if not listing.files:
        raise DataSourceError(f"{location}: no file there")
    times = [f.modified for f in listing.files]
    if any(t is None for t in times):
        raise DataSourceError(f"{location}: the file system does not tell modification times")
    return max(t for t in times if t is not None)


def as_timestamp(value: Any, what: str) -> datetime | None:
    """A measured newest value as an aware UTC instant (a date stands for its start)."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return utc_instant(as_utc(value))
    raise DataSourceError(f"{what} holds {type(value).__name__} values, not timestamps")


def observe(
    kind: SourceKind,
    contract: Contract | None,
    *,
    data: str | None = None,
    table: str | None = None,
    connections: ConnectionResolver | None = None,
) -> Observation:
    """Read the newest timestamp of a column or of files. Never raises for a source that
    cannot be read: the observation carries the error, and the caller tries again.
    ``connections`` resolves a ``source.conn_id`` (the sensor hands in Airflow's)."""
    from airflow_opsguard.engines.connections import using_connections
    from airflow_opsguard.engines.sources import source_name

    try:
        if kind == "mtime":
            with using_connections(connections):
                source = file_source(contract, data)
                newest = newest_mtime(source.location, source.filesystem())
            return Observation(newest=newest, source=source.location)
        if kind != "column" or contract is None or contract.freshness is None:
            raise ValueError(f"cannot observe a {kind!r} source here")
        with using_connections(connections):
            value = newest_in_column(contract, data, table)
        column = contract.freshness.column
        where = source_name(contract, data or None, table)
        return Observation(newest=as_timestamp(value, column), source=where)
    except (DataSourceError, OSError) as exc:
        return Observation(newest=None, error=str(exc) or type(exc).__name__)


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Reading:
    """An observation judged at ``reference`` against ``limit``.

    A newest timestamp beyond the later of ``reference`` and ``clock`` (the wall clock
    when the reading was made) by more than ``future_tolerance`` is a bad timestamp,
    never fresh data: the quality gate judges it the same way. Data written after a
    fixed reference (a run's data interval end) is not in the future of the clock.
    """

    dataset: str
    observation: Observation
    reference: datetime
    limit: timedelta
    future_tolerance: timedelta = FUTURE_TOLERANCE
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def age(self) -> timedelta | None:
        newest = self.observation.newest
        return None if newest is None else self.reference - newest

    @property
    def ahead(self) -> timedelta | None:
        """How far the newest timestamp lies beyond the later of the reference and the
        clock (negative when it does not)."""
        newest = self.observation.newest
        if newest is None:
            return None
        return as_utc(newest) - max(as_utc(self.reference), as_utc(self.clock))

    @property
    def bad_timestamp(self) -> bool:
        ahead = self.ahead
        return ahead is not None and ahead > self.future_tolerance

    @property
    def fresh(self) -> bool:
        age = self.age
        return (
            age is not None
            and self.observation.error is None
            and age <= self.limit
            and not self.bad_timestamp
        )

    @property
    def message(self) -> str:
        limit = format_duration(self.limit)
        if self.observation.error:
            return f"{self.dataset}: cannot read the newest timestamp: {self.observation.error}"
        age, ahead = self.age, self.ahead
        if age is None or ahead is None:
            return f"{self.dataset}: no timestamp yet, so the data's age is unknown (limit {limit})"
        if self.bad_timestamp:
            return (
                f"{self.dataset}: the newest timestamp is {format_duration(ahead)} in the future "
                f"(beyond the {format_duration(self.future_tolerance)} clock-skew allowance): "
                "the source holds a bad timestamp (stale)"
            )
        if age < timedelta(0):
            return f"{self.dataset}: the newest timestamp is {format_duration(-age)} ahead (fresh)"
        verdict = "fresh" if self.fresh else "stale"
        old = format_duration(age)
        return f"{self.dataset}: the newest timestamp is {old} old, limit {limit} ({verdict})"

    def to_json(self) -> dict[str, Any]:
        """The small summary the sensor returns (XCom) when the data is fresh."""
        age = self.age
        return {
            "dataset": self.dataset,
            "status": "fresh" if self.fresh else "stale",
            "newest": None
            if self.observation.newest is None
            else self.observation.newest.isoformat(),
            "age_seconds": None if age is None else age.total_seconds(),
            "limit_seconds": self.limit.total_seconds(),
            "reference": self.reference.isoformat(),
            "source": self.observation.source,
            "error": self.observation.error,
            "message": self.message,
        }


# --------------------------------------------------------------------------- waiting


@dataclass(frozen=True)
class WaitState:
    """What a waiting sensor must remember between pokes, reschedules and deferrals.

    ``reference`` is the run's fixed "now" for freshness (None: the wall clock at each
    poke); ``deadline`` is when the sensor times out; ``sla_due_at`` when the SLA passes
    (None: no SLA); ``sla_fired`` whether this run's SLA callback has been dealt with.
    Every field is JSON-ready through :meth:`to_json`, for trigger kwargs and events.
    """

    started_at: datetime
    deadline: datetime
    reference: datetime | None = None
    sla_due_at: datetime | None = None
    sla_fired: bool = False

    def reference_at(self, now: datetime) -> datetime:
        return self.reference or now

    def fired(self) -> WaitState:
        return replace(self, sla_fired=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "reference": None if self.reference is None else self.reference.isoformat(),
            "sla_due_at": None if self.sla_due_at is None else self.sla_due_at.isoformat(),
            "sla_fired": self.sla_fired,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WaitState:
        def instant(key: str) -> datetime | None:
            value = data.get(key)
            return None if value is None else utc_instant(datetime.fromisoformat(value))

        started, deadline = instant("started_at"), instant("deadline")
        if started is None or deadline is None:
            raise ValueError(f"a wait state needs started_at and deadline: {data!r}")
        return cls(
            started_at=started,
            deadline=deadline,
            reference=instant("reference"),
            sla_due_at=instant("sla_due_at"),
            sla_fired=bool(data.get("sla_fired", False)),
        )


def start_waiting(
    *,
    now: datetime,
    started_at: datetime | None,
    reference: datetime | None,
    timeout: timedelta,
    sla: timedelta | None,
) -> WaitState:
    """The state of a sensor that started at ``started_at`` (default ``now``).

    The SLA is measured from the run's fixed reference (its data interval end), or from
    the sensor's start when freshness is judged against the wall clock.
    """
    started = utc_instant(started_at or now)
    fixed = None if reference is None else utc_instant(reference)
    anchor = fixed or started
    return WaitState(
        started_at=started,
        deadline=started + timeout,
        reference=fixed,
        sla_due_at=None if sla is None else anchor + sla,
    )


def utc_instant(value: datetime) -> datetime:
    """``value`` as a plain aware UTC ``datetime``: Airflow hands out pendulum instants,
    and pendulum drops a ``datetime.timezone.utc`` zone in arithmetic."""
    utc = as_utc(value)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


def sla_missed(state: WaitState, reading: Reading, now: datetime) -> bool:
    """Whether the SLA callback is due now: the SLA has passed, the data is still not
    fresh, and this run has not dealt with it yet."""
    return (
        state.sla_due_at is not None
        and not state.sla_fired
        and not reading.fresh
        and now >= state.sla_due_at
    )


def timed_out(state: WaitState, now: datetime) -> bool:
    return now >= state.deadline


def next_poke_in(state: WaitState, now: datetime, poke_interval: float) -> float:
    """Seconds until the next look: the poke interval, cut short by the SLA (when it has
    not fired yet) or the deadline, whichever comes first; never negative."""
    waits = [poke_interval, (state.deadline - now).total_seconds()]
    if state.sla_due_at is not None and not state.sla_fired:
        waits.append((state.sla_due_at - now).total_seconds())
    return max(0.0, min(waits))


def sla_message(reading: Reading, sla: timedelta, due_at: datetime) -> str:
    return (
        f"{reading.dataset}: freshness SLA of {format_duration(sla)} missed "
        f"(due {due_at.isoformat()}); {reading.message}"
    )
