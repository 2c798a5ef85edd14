"""The ``opsguard`` command line.

Exit codes of ``check``: 0 for pass or warn, 1 for fail, 2 when the contract is
invalid, the data cannot be read, or the call is wrong; then one line on stderr names
the file or key at fault, and no traceback is shown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import IO, Any, NoReturn

from airflow_opsguard import __version__
from airflow_opsguard.cli.args import parse_now, positive
from airflow_opsguard.cli.baselines import add_baseline_commands
from airflow_opsguard.cli.convert import add_convert_commands
from airflow_opsguard.cli.dbt import add_dbt_commands
from airflow_opsguard.cli.incidents import add_incident_commands
from airflow_opsguard.cli.init import add_init_command
from airflow_opsguard.cli.lint import add_lint_command
from airflow_opsguard.cli.quarantine import add_quarantine_commands
from airflow_opsguard.cli.store import add_db_commands, add_store_commands
from airflow_opsguard.errors import OpsGuardError

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a wrong call is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="opsguard", description="Data quality gates: check data against a contract."
    )
    parser.add_argument("--version", action="version", version=f"opsguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="check data against a contract")
    check.add_argument("contract", help="the contract file (YAML)")
    check.add_argument("--data", help="the data to check instead of the contract's source")
    check.add_argument("--table", help="with a database URL: the table to check")
    check.add_argument("--now", help="fix the clock for freshness (ISO 8601; naive is UTC)")
    check.add_argument(
        "--format",
        choices=("text", "json", "junit", "markdown"),
        default="text",
        help="text (default), json, junit (XML for CI test reports) or markdown",
    )
    check.add_argument(
        "--summary",
        metavar="FILE",
        help="also append the verdict as Markdown to FILE (e.g. $GITHUB_STEP_SUMMARY)",
    )
    check.add_argument(
        "--store",
        help="results store URL (default: $OPSGUARD_STORE_URL or a SQLite file in $OPSGUARD_HOME)",
    )
    check.add_argument("--no-store", action="store_true", help="do not record the result")
    check.add_argument(
        "--no-alerts", action="store_true", help="do not alert the contract's routes"
    )
    check.set_defaults(func=_check)

    profile = commands.add_parser(
        "profile", help="write a reference profile of data (for distribution.reference)"
    )
    profile.add_argument("--data", required=True, help="a file, glob, URL or database URL")
    profile.add_argument("--table", help="with a database URL: the table to profile")
    profile.add_argument("--out", required=True, help="the profile file to write (JSON)")
    profile.add_argument("--columns", help="only these columns, comma-separated")
    profile.add_argument("--bins", type=positive, default=20, help="number bins (default 20)")
    profile.add_argument(
        "--top", type=positive, default=50, help="categories kept per column (default 50)"
    )
    profile.set_defaults(func=_profile)

    results = commands.add_parser("results", help="list stored verdicts, newest first")
    results.add_argument("--dataset", help="only this dataset")
    results.add_argument("--status", choices=("pass", "warn", "fail", "error"))
    results.add_argument("--limit", type=positive, default=20)
    results.add_argument("--format", choices=("text", "json"), default="text")
    results.add_argument("--store", help="results store URL")
    results.set_defaults(func=_results)

    for add in (
        add_incident_commands,
        add_baseline_commands,
        add_quarantine_commands,
        add_convert_commands,
        add_dbt_commands,
        add_db_commands,
        add_store_commands,
        add_init_command,
        add_lint_command,
    ):
        add(commands)

    schema = commands.add_parser("schema", help="print the JSON Schema of contract files")
    schema.set_defaults(func=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="opsguard: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    sys.stdout = _ClosablePipe(stdout)
    try:
        code: int = args.func(args)
    except OpsGuardError as exc:
        _say(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        sys.stdout = stdout
    return code


class _ClosablePipe:
    """Standard output that a reader may close early (``opsguard check ... | head``).

    The command goes on as if it had been read to the end: the verdict is still stored
    and alerted, and the exit code is still the verdict's. What is left to print goes
    nowhere, quietly, instead of ending in a BrokenPipeError traceback.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard_the_rest()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard_the_rest()

    def _discard_the_rest(self) -> None:
        # Point the file descriptor at /dev/null, so that the interpreter's own flush at
        # exit finds an open file too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _say(message: str) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "error"
    print(f"opsguard: {first}", file=sys.stderr)


# ------------------------------------------------------------------------------- check


def _check(args: argparse.Namespace) -> int:
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.pipeline import run_gate

    contract = load_contract(args.contract)
    now = parse_now(args.now)
    progress = _Progress(sys.stderr) if sys.stderr.isatty() and args.format == "text" else None
    # stdout is the verdict alone: what the gate's work prints (Airflow's logging once a
    # connection is resolved, Spark's start-up) goes to stderr.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            run = run_gate(
                contract,
                data=args.data,
                table=args.table,
                now=now,
                store=None if args.no_store else _store(args.store),
                alert=not args.no_alerts,
                incident_time=now,  # --now fixes the incidents' clock too
                progress=progress,
                connections=engine_for_conn_id,
            )
    finally:
        if progress is not None:
            progress.clear()
    result = run.result
    assert result is not None  # a verdict is always judged here (no quarantine resumed)
    _print_verdict(result, args.format)
    if args.summary:
        _append_summary(args.summary, result)
    for attempt in run.alerts.deliveries if run.alerts is not None else ():
        if not attempt.ok:
            _say(
                f"alert {attempt.event} to {attempt.route} not sent ({attempt.error}); "
                "kept to send again on the next run"
            )
    if result.status == "error":
        _say(result.error or _first_error(result.to_dict()))
        return EXIT_ERROR
    return EXIT_FAIL if result.status == "fail" else EXIT_OK


def _print_verdict(result: Any, fmt: str) -> None:
    from airflow_opsguard import report

    if fmt == "json":
        print(json.dumps(result.to_dict()))
    elif fmt == "junit":
        sys.stdout.write(report.render_junit(result))
    elif fmt == "markdown":
        sys.stdout.write(report.render_markdown(result))
    else:
        print(report.render_text(result, colour=_colour(sys.stdout)))


def _append_summary(path: str, result: Any) -> None:
    from airflow_opsguard.report import render_markdown

    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(render_markdown(result) + "\n")
    except OSError as exc:
        _say(f"--summary {path}: cannot append the summary: {exc.strerror or exc}")


def _first_error(result: dict[str, Any]) -> str:
    for check in result["checks"]:
        if check["status"] == "error":
            return f"{check['name']}: {check['message']}"
    return "the data could not be checked"


def _store(url: str | None) -> Any:
    from airflow_opsguard.store import ResultStore

    return ResultStore(url)


class _Progress:
    """A one-line progress indicator on a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, percent: float) -> None:
        self.stream.write(f"\rscanning... {percent:5.1f}%")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


# ------------------------------------------------------------------------------- profile


def _profile(args: argparse.Namespace) -> int:
    from airflow_opsguard.engines.profiler import profile

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    if args.columns is not None and not columns:
        raise OpsGuardError("--columns: give column names, comma-separated")
    found = profile(args.data, table=args.table, columns=columns, bins=args.bins, top=args.top)
    try:
        found.write(args.out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OpsGuardError(f"{args.out}: cannot write the profile: {reason}") from None
    print(f"{args.out}: {len(found.columns)} columns, {found.rows:,} rows of {found.source}")
    return EXIT_OK


# ------------------------------------------------------------------------------- results


def _results(args: argparse.Namespace) -> int:
    from airflow_opsguard.report import render_history

    store = _store(args.store)
    found = store.results(dataset=args.dataset, limit=args.limit, status=args.status)
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in found]))
    else:
        print(render_history(found, colour=_colour(sys.stdout)))
    return EXIT_OK


# ------------------------------------------------------------------------------- schema


def _schema(args: argparse.Namespace) -> int:
    from airflow_opsguard.contract.models import Contract

    schema = Contract.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "airflow-opsguard contract"
    print(json.dumps(schema, indent=2))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
