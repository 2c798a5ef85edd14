"""``opsguard baseline list | show | promote | save``: drift baselines in the store."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from airflow_opsguard.cli.args import add_output_options, positive

if TYPE_CHECKING:
    from airflow_opsguard.baselines import Baseline


def add_baseline_commands(commands: Any) -> None:
    """Add ``baseline`` to the ``opsguard`` parser's subcommands."""
    baseline = commands.add_parser(
        "baseline", help="list, show, promote and save drift baselines kept in the store"
    )
    actions = baseline.add_subparsers(dest="action", required=True, parser_class=type(baseline))

    listing = actions.add_parser("list", help="every version of every baseline, newest first")
    listing.add_argument("name", nargs="?", help="only this baseline")
    listing.add_argument("--dataset", help="only the baselines of this dataset")
    add_output_options(listing)
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="one version (default: the newest) and its profile")
    show.add_argument("name")
    show.add_argument("--version", type=positive, help="default: the newest")
    show.add_argument("--out", help="also write its profile to this file (JSON)")
    add_output_options(show)
    show.set_defaults(func=_show)

    promote = actions.add_parser(
        "promote", help="make the last passing run's data profile the next version"
    )
    promote.add_argument("name", help="the baseline (the contract's distribution.baseline)")
    promote.add_argument("--dataset", help="whose runs (default: the baseline's dataset)")
    promote.add_argument("--run", help="promote this run instead, whatever its verdict")
    _review(promote)
    promote.set_defaults(func=_promote)

    save = actions.add_parser("save", help="store a profile file as the next version")
    save.add_argument("name")
    save.add_argument("--profile", required=True, help="written by `opsguard profile`")
    save.add_argument("--dataset", required=True, help="the dataset it is the baseline of")
    _review(save)
    save.set_defaults(func=_save)


def _review(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", help="who (default: the user running the command)")
    parser.add_argument("--reason", help="why, kept with the version")
    add_output_options(parser)


def _list(args: argparse.Namespace) -> int:
    from airflow_opsguard.baselines import list_baselines

    found = list_baselines(args.name, dataset=args.dataset, store=args.store)
    if args.format == "json":
        print(json.dumps([b.to_dict() for b in found], indent=2))
        return 0
    if not found:
        print("no baselines")
        return 0
    for item in found:
        print(_line(item))
    return 0


def _show(args: argparse.Namespace) -> int:
    from airflow_opsguard.baselines import BaselineError, get_baseline

    found = get_baseline(args.name, args.version, store=args.store)
    if found is None:
        which = f"version {args.version} of " if args.version else ""
        raise BaselineError(f"no {which}baseline {args.name!r} in the store")
    if args.out:
        found.profile.write(args.out, indent=2)
    if args.format == "json":
        print(json.dumps(found.to_dict(with_profile=True), indent=2))
        return 0
    print(_line(found))
    for column in found.profile.columns:
        print(f"  {column.name}: {column.type}, {column.count:,} values")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from airflow_opsguard.baselines import promote_baseline

    made = promote_baseline(
        args.name,
        dataset=args.dataset,
        run_id=args.run,
        store=args.store,
        by=args.by,
        reason=args.reason,
    )
    return _made(made, args.format)


def _save(args: argparse.Namespace) -> int:
    from airflow_opsguard.baselines import save_baseline
    from airflow_opsguard.drift.profile import Profile

    made = save_baseline(
        args.name,
        Profile.read(args.profile),
        dataset=args.dataset,
        store=args.store,
        by=args.by,
        reason=args.reason,
    )
    return _made(made, args.format)


def _made(made: Baseline, output: str) -> int:
    if output == "json":
        print(json.dumps(made.to_dict(), indent=2))
    else:
        print(f"baseline {made.label} stored: {_line(made)}")
    return 0


def _line(item: Baseline) -> str:
    origin = f"run {item.run_id}" if item.run_id else "a profile file"
    why = f" ({item.reason})" if item.reason else ""
    when = item.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{item.label}  {item.dataset}  {item.profile.rows:,} rows  from {origin}  "
        f"by {item.created_by or 'unknown'} on {when}{why}"
    )
