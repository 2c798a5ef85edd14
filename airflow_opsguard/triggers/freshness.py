"""The trigger of the deferrable FreshnessSensor: it polls the source in the triggerer,
so no worker slot is held while the data is late."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_opsguard.connections import engine_for_conn_id
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.freshness import (
    SOURCE_KINDS,
    Reading,
    SourceKind,
    WaitState,
    future_tolerance,
    next_poke_in,
    observe,
    sla_missed,
    timed_out,
)

CLASSPATH = "airflow_opsguard.triggers.freshness.FreshnessTrigger"


class FreshnessTrigger(BaseTrigger):
    """Poll a source's newest timestamp until it is fresh, the SLA passes, or time is up.

    It yields one event and stops; the sensor resumes on a worker with it:

    - ``fresh``: the data is fresh; the sensor succeeds.
    - ``sla_missed``: the SLA passed and the data is still stale; the sensor records the
      miss, calls its ``sla_miss_callback`` once, and defers again with ``sla_fired``.
    - ``timeout``: the deadline passed; the sensor fails as sensors do on ``timeout``.
    - ``poke``: for an Asset source. The triggerer cannot read asset events (its API has no
      call for them in Airflow 3), so the trigger only waits out the poke interval, and
      the sensor reads the newest event through the task's execution API when it resumes.

    Every payload carries the wait ``state`` (so nothing depends on method kwargs
    surviving), the ``reading`` and a ``message``. A source that cannot be read is not
    fresh: the trigger logs it and tries again at the next poke.

    :param dataset: the name alerts and logs use.
    :param source: ``column``, ``mtime`` or ``asset``.
    :param limit_seconds: the age the data may have.
    :param poke_interval: seconds between looks.
    :param state: :meth:`WaitState.to_json` of the sensor's wait.
    :param contract: with ``column``: the contract reduced to its freshness check, as
        ``Contract.model_dump(mode="json", by_alias=True)``.
    :param contract_origin: the contract file, for source paths relative to it.
    :param data: a path, glob, fsspec URL or database URL overriding the contract's source.
    :param table: a table in that database.
    """

    def __init__(
        self,
        *,
        dataset: str,
        source: SourceKind,
        limit_seconds: float,
        poke_interval: float,
        state: dict[str, Any],
        contract: dict[str, Any] | None = None,
        contract_origin: str | None = None,
        data: str | None = None,
        table: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if source not in SOURCE_KINDS:
            raise ValueError(f"source must be one of {SOURCE_KINDS}, not {source!r}")
        if source == "column" and contract is None:
            raise ValueError("a column source needs the contract")
        self.dataset = dataset
        self.source: SourceKind = source
        self.limit_seconds = float(limit_seconds)
        self.poke_interval = float(poke_interval)
        self.state = dict(state)
        self.contract = None if contract is None else dict(contract)
        self.contract_origin = contract_origin
        self.data = data
        self.table = table

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "dataset": self.dataset,
                "source": self.source,
                "limit_seconds": self.limit_seconds,
                "poke_interval": self.poke_interval,
                "state": self.state,
                "contract": self.contract,
                "contract_origin": self.contract_origin,
                "data": self.data,
                "table": self.table,
            },
        )

    def load_contract(self) -> Contract | None:
        if self.contract is None:
            return None
        contract = Contract.model_validate(self.contract)
        return contract.with_origin(self.contract_origin) if self.contract_origin else contract

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = WaitState.from_json(self.state)
        contract = self.load_contract()
        limit = timedelta(seconds=self.limit_seconds)
        first = True
        while True:
            reading: Reading | None = None
            if self.source == "asset":
                if not first:
                    yield self._event("poke", state, None)
                    return
            else:
                observation = await asyncio.to_thread(
                    observe,
                    self.source,
                    contract,
                    data=self.data,
                    table=self.table,
                    connections=engine_for_conn_id,
                )
                now = datetime.now(UTC)
                reading = Reading(
                    self.dataset,
                    observation,
                    state.reference_at(now),
                    limit,
                    future_tolerance=future_tolerance(contract),
                )
                if reading.fresh:
                    yield self._event("fresh", state, reading)
                    return
                self.log.info("%s", reading.message)
                if sla_missed(state, reading, now):
                    yield self._event("sla_missed", state, reading)
                    return
            now = datetime.now(UTC)
            if timed_out(state, now):
                yield self._event("timeout", state, reading)
                return
            first = False
            await asyncio.sleep(next_poke_in(state, now, self.poke_interval))

    def _event(self, status: str, state: WaitState, reading: Reading | None) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "state": state.to_json(),
                "reading": None if reading is None else reading.to_json(),
                "message": "" if reading is None else reading.message,
            }
        )
