"""Alert noise: a scripted month of daily gate runs, counting incidents and messages per
route against what an on-call engineer wants (one page per failure episode).

    .venv/bin/python benchmarks/alert_noise.py                   # holds of 1 and 2 passes
    .venv/bin/python benchmarks/alert_noise.py --after-passes 2  # one hold only
    .venv/bin/python benchmarks/alert_noise.py --json            # the same, as JSON

Six datasets run one gate a day for 30 days through the real pipeline
(:func:`airflow_opsguard.pipeline.run_gate` with ``alert=True``: the verdict is stored
in a SQLite results store, incidents are tracked, alerts go through the outbox), each as
its own Airflow-like DAG run, on the data of its script:

- ``healthy``: every load is good;
- ``stale``: days 8-10 bring no new data (the newest row stays at day 7);
- ``renamed``: days 15-18 have ``amount`` renamed to ``amount_usd``;
- ``stale_then_renamed``: days 12-13 are stale, days 14-16 fresh but renamed;
- ``null_spikes``: ``amount`` has nulls on days 5-6 and again on day 20;
- ``flapping``: a negative ``amount`` on days 10, 12, 14, 16 and 18 only.

Each contract has a schema, freshness (1 day), volume, ``not_null`` and ``min`` on
``amount``, and a ``row_count_change`` history check, with three routes: a chat
webhook (``fail``, ``escalate``), a pager webhook (``fail``) and the log (``fail``,
``warn``); escalation stays at its default (after 3 failing runs). The month runs once
per hold (``resolution: {after_passes: N}``; 1 is the default: the first passing run
resolves). The webhooks are a local HTTP server that records what it is sent; the log
is read from the logger.

Reported per dataset: failing runs, streaks (runs of consecutive failing verdicts),
*problems* (what an on-call engineer counts as one thing to fix: streaks separated by a
single passing run are one problem, as a check that flaps every other day is one
fault), incidents opened, per route the messages sent against the ideal (for each
problem one "opened" message, one "resolved" once it ends, and (chat only) one
escalation for a problem of 3 failing runs or more), incidents marked flapping, and the
mean time to resolve (days, from the store's incident stats): what a hold costs, as
every real resolution waits for it. "recovered while failing" counts recovery messages
sent by a run whose verdict was fail: never wanted.

Only the public API is used, so the same script measures another version of the
package: put its checkout first on ``PYTHONPATH`` (docs/alerts.md has the figures of
the per-check incidents this replaced).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ first on the path. The repo root goes last,
# so that PYTHONPATH can point the benchmark at another copy of airflow_opsguard.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

import pandas as pd  # noqa: E402

import airflow_opsguard  # noqa: E402
from airflow_opsguard.pipeline import run_gate  # noqa: E402
from airflow_opsguard.store import ResultStore  # noqa: E402
from airflow_opsguard.store.incidents import IncidentStore  # noqa: E402

DAYS = 30
DAY0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
ROWS = 200
ROUTES = ("chat", "pager", "log")
ESCALATE_AFTER = 3  # the contract default: after_failures
PROBLEM_GAP = 1  # passing runs between failing runs of one problem (a flap)
HOLDS = (1, 2)  # resolution.after_passes compared by default

Frame = Callable[[int], pd.DataFrame]


def load(day: int, *, newest_day: int | None = None) -> pd.DataFrame:
    """A good daily load: ROWS rows, the newest an hour before the gate runs."""
    stamp = DAY0 + timedelta(days=day if newest_day is None else newest_day, hours=-1)
    return pd.DataFrame(
        {
            "id": range(day * ROWS, (day + 1) * ROWS),
            "amount": [float(1 + i % 50) for i in range(ROWS)],
            "created_at": pd.to_datetime([stamp.replace(tzinfo=None)] * ROWS),
        }
    )


def stale(day: int) -> pd.DataFrame:
    return load(day, newest_day=7)


def renamed(day: int) -> pd.DataFrame:
    return load(day).rename(columns={"amount": "amount_usd"})


def nulls(day: int) -> pd.DataFrame:
    frame = load(day)
    frame.loc[frame.index[::4], "amount"] = None
    return frame


def negative(day: int) -> pd.DataFrame:
    frame = load(day)
    frame.loc[frame.index[3], "amount"] = -7.5
    return frame


def script(**days: Frame) -> Callable[[int], Frame]:
    """The frame maker of each day: ``d5=nulls`` makes day 5 a null spike."""

    def of(day: int) -> Frame:
        return days.get(f"d{day}", load)

    return of


SCRIPTS: dict[str, Callable[[int], Frame]] = {
    "healthy": script(),
    "stale": script(d8=stale, d9=stale, d10=stale),
    "renamed": script(d15=renamed, d16=renamed, d17=renamed, d18=renamed),
    "stale_then_renamed": script(
        d12=lambda d: load(d, newest_day=11),
        d13=lambda d: load(d, newest_day=11),
        d14=renamed,
        d15=renamed,
        d16=renamed,
    ),
    "null_spikes": script(d5=nulls, d6=nulls, d20=nulls),
    "flapping": script(d10=negative, d12=negative, d14=negative, d16=negative, d18=negative),
}


def contract(dataset: str, hook_url: str, after_passes: int | None = None) -> dict[str, Any]:
    hold = {} if after_passes is None else {"resolution": {"after_passes": after_passes}}
    return {
        **hold,
        "dataset": dataset,
        "owner": "data-platform@example.com",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "unique": True},
                {"name": "amount", "type": "float", "min": 0, "nullable": False},
                {"name": "created_at", "type": "timestamp"},
            ]
        },
        "freshness": {"column": "created_at", "fail_after": "1d"},
        "volume": {"min_rows": 10},
        "checks": [{"type": "row_count_change", "max_drop": 0.5}],
        "alerts": [
            {"on": ["fail", "escalate"], "webhook": f"{hook_url}/chat", "backoff": 0},
            {"on": ["fail"], "webhook": f"{hook_url}/pager", "backoff": 0},
            {"on": ["fail", "warn"], "log": True},
        ],
    }


# -- what the routes received -------------------------------------------------------


@dataclass
class Received:
    """Messages per route, each with its event and the day of the run that sent it."""

    messages: list[tuple[str, str, int]] = field(default_factory=list)  # route, event, day
    lock: threading.Lock = field(default_factory=threading.Lock)
    day: int = -1

    def add(self, route: str, event: str) -> None:
        with self.lock:
            self.messages.append((route, event, self.day))


@contextmanager
def recording_server(received: Received) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            received.add(self.path.rsplit("/", 1)[-1], str(body.get("event")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


class LogRoute(logging.Handler):
    """The log route's messages: alert texts the alerts logger writes."""

    def __init__(self, received: Received) -> None:
        super().__init__(logging.INFO)
        self.received = received

    def emit(self, record: logging.LogRecord) -> None:
        title = record.getMessage().splitlines()[0]
        if title.startswith("[opsguard] "):
            word = title.split()[1]
            self.received.add("log", LOG_EVENTS.get(word, word.lower()))


LOG_EVENTS = {
    "FAIL": "fail",
    "WARN": "warn",
    "ESCALATED": "escalate",
    "RECOVERED": "recover",
    "RESOLVED": "recover",
    "CHANGED": "change",
}


# -- the month ---------------------------------------------------------------------------


@dataclass
class DatasetOutcome:
    dataset: str
    verdicts: list[str]
    incidents: int
    messages: dict[str, Counter[str]]
    recovered_while_failing: int
    flapping: int = 0  # incidents marked flapping
    mttr_days: float | None = None  # mean time to resolve, from the store
    resolved_days: list[int] = field(default_factory=list)  # days the pager heard "resolved"

    @property
    def failing_runs(self) -> int:
        return sum(v != "pass" for v in self.verdicts)

    def episodes(self) -> list[tuple[int, int, bool]]:
        """(first day, failing runs, ended within the month) of each failure streak."""
        found: list[tuple[int, int, bool]] = []
        start = None
        for day, verdict in enumerate([*self.verdicts, "pass"]):
            if verdict != "pass" and start is None:
                start = day
            elif verdict == "pass" and start is not None:
                found.append((start, day - start, day < len(self.verdicts)))
                start = None
        return found

    def problems(self) -> list[tuple[int, int, bool, int]]:
        """(first day, failing runs, ended within the month, first day it passed
        again) of each problem: streaks with at most PROBLEM_GAP passing runs between
        them are one."""
        found: list[tuple[int, int, bool, int]] = []
        for start, length, ended in self.episodes():
            if found and start - found[-1][3] <= PROBLEM_GAP:
                first, runs, _, _ = found[-1]
                found[-1] = (first, runs + length, ended, start + length)
            else:
                found.append((start, length, ended, start + length))
        return found

    def resolution_delay(self) -> float | None:
        """Mean runs from the first passing run after a problem to its "resolved"
        message (0: resolved by the run that passed)."""
        delays = [
            min(day for day in self.resolved_days if day >= end) - end
            for _, _, ended, end in self.problems()
            if ended and any(day >= end for day in self.resolved_days)
        ]
        return sum(delays) / len(delays) if delays else None

    def ideal(self, route: str) -> int:
        """One opened and one resolved message per problem; chat also escalates once."""
        total = 0
        for _, length, ended, _ in self.problems():
            total += 1 + int(ended)
            if route == "chat" and length >= ESCALATE_AFTER:
                total += 1
        return total


def run_month(
    work: Path,
    scripts: dict[str, Callable[[int], Frame]] | None = None,
    after_passes: int | None = None,
) -> list[DatasetOutcome]:
    """The month of every dataset of ``scripts`` (default: all of SCRIPTS), with
    ``resolution: {after_passes: N}`` in each contract (None: the contract default)."""
    received = Received()
    handler = LogRoute(received)
    alerts_log = logging.getLogger("airflow_opsguard.alerts")
    alerts_log.addHandler(handler)
    alerts_log.setLevel(logging.INFO)
    outcomes: list[DatasetOutcome] = []
    try:
        with (
            recording_server(received) as hook,
            ResultStore(f"sqlite:///{work / f'opsguard-{after_passes}.db'}") as store,
        ):
            for dataset, days in (scripts or SCRIPTS).items():
                received.messages.clear()
                verdicts: list[str] = []
                recovered_while_failing = 0
                for day in range(DAYS):
                    received.day = day
                    moment = DAY0 + timedelta(days=day)
                    before = len(received.messages)
                    outcome = run_gate(
                        contract(dataset, hook, after_passes),
                        data=days(day)(day),
                        now=moment,
                        store=store,
                        identity={
                            "dag_id": f"load_{dataset}",
                            "run_id": f"scheduled__{moment.date()}",
                            "task_id": "gate",
                            "map_index": -1,
                            "try_number": 1,
                        },
                        alert=True,
                        incident_time=moment,
                    )
                    assert outcome.result is not None  # a gate run, not a dry run
                    verdicts.append(outcome.result.status)
                    if outcome.result.status != "pass":
                        recovered_while_failing += sum(
                            event == "recover" for _, event, _ in received.messages[before:]
                        )
                per_route: dict[str, Counter[str]] = {r: Counter() for r in ROUTES}
                for route, event, _ in received.messages:
                    per_route[route][event] += 1
                incidents = IncidentStore(store)
                opened = incidents.incidents(dataset=dataset, statuses=(), limit=1000)
                mttr = incidents.stats(dataset=dataset).mean_time_to_resolve
                outcomes.append(
                    DatasetOutcome(
                        dataset,
                        verdicts,
                        len(opened),
                        per_route,
                        recovered_while_failing,
                        flapping=sum(i.flapping for i in opened),
                        mttr_days=None if mttr is None else mttr / 86400,
                        resolved_days=[
                            day
                            for route, event, day in received.messages
                            if route == "pager" and event == "recover"
                        ],
                    )
                )
    finally:
        alerts_log.removeHandler(handler)
    return outcomes


def report(outcomes: list[DatasetOutcome]) -> str:
    head = (
        "| dataset | failing runs | streaks | problems | incidents | "
        + " | ".join(f"{r} sent (ideal)" for r in ROUTES)
        + " | recovered while failing | flapping | resolved (runs late) |"
    )
    lines = [head, "|" + "---|" * (8 + len(ROUTES))]
    totals = Counter[str]()
    delays: list[float] = []
    for o in outcomes:
        cells = []
        for route in ROUTES:
            sent = sum(o.messages[route].values())
            totals[f"{route}_sent"] += sent
            totals[f"{route}_ideal"] += o.ideal(route)
            cells.append(f"{sent} ({o.ideal(route)})")
        totals["failing"] += o.failing_runs
        totals["episodes"] += len(o.episodes())
        totals["problems"] += len(o.problems())
        totals["incidents"] += o.incidents
        totals["rwf"] += o.recovered_while_failing
        totals["flapping"] += o.flapping
        if (delay := o.resolution_delay()) is not None:
            delays += [delay] * sum(ended for _, _, ended, _ in o.problems())
        lines.append(
            f"| {o.dataset} | {o.failing_runs} | {len(o.episodes())} | {len(o.problems())} | "
            f"{o.incidents} | "
            + " | ".join(cells)
            + f" | {o.recovered_while_failing} | {o.flapping} | {_runs(o.resolution_delay())} |"
        )
    mean = sum(delays) / len(delays) if delays else None
    lines.append(
        f"| **all** | {totals['failing']} | {totals['episodes']} | {totals['problems']} | "
        f"{totals['incidents']} | "
        + " | ".join(f"{totals[f'{r}_sent']} ({totals[f'{r}_ideal']})" for r in ROUTES)
        + f" | {totals['rwf']} | {totals['flapping']} | {_runs(mean)} |"
    )
    return "\n".join(lines)


def _runs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def as_json(outcomes: list[DatasetOutcome], after_passes: int | None = None) -> dict[str, Any]:
    return {
        "version": airflow_opsguard.__version__,
        "days": DAYS,
        "after_passes": after_passes,
        "datasets": [
            {
                "dataset": o.dataset,
                "failing_runs": o.failing_runs,
                "episodes": len(o.episodes()),
                "problems": len(o.problems()),
                "incidents": o.incidents,
                "flapping": o.flapping,
                "mttr_days": o.mttr_days,
                "resolution_delay_runs": o.resolution_delay(),
                "messages": {r: dict(o.messages[r]) for r in ROUTES},
                "ideal": {r: o.ideal(r) for r in ROUTES},
                "recovered_while_failing": o.recovered_while_failing,
            }
            for o in outcomes
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--after-passes",
        type=int,
        action="append",
        help="resolution.after_passes of the contracts (repeatable; default: 1 and 2; "
        "0: leave the key out, for versions without it)",
    )
    args = parser.parse_args(argv)
    holds = args.after_passes or list(HOLDS)
    logging.getLogger("airflow_opsguard").propagate = False  # the table, not the logs
    results = []
    with tempfile.TemporaryDirectory(prefix="opsguard-noise-") as folder:
        for hold in holds:
            results.append((hold, run_month(Path(folder), after_passes=hold or None)))
    if args.json:
        print(json.dumps([as_json(outcomes, hold or None) for hold, outcomes in results], indent=2))
        return 0
    where = Path(airflow_opsguard.__file__).parent
    print(f"airflow-opsguard {airflow_opsguard.__version__} ({where}): {DAYS} daily runs each")
    for hold, outcomes in results:
        print(f"\nresolution.after_passes: {hold or 'not set'}")
        print(report(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
