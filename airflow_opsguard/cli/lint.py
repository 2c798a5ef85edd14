"""``opsguard lint``: check contract files without reading data, for editors,
pre-commit and CI.

A contract is read as ``opsguard check`` reads it (every problem of its keys, not only
the first), and what it refers to is looked at: its GX suite files parse, its drift
reference exists (and reads, when it is a profile), an ODCS document maps (a rule that
does not is a warning), and the files its reference and reconcile checks name exist (a
warning: data may live only where the gate runs). One line per problem,
``file:line: message``. Exit code 0 when no contract has an error (warnings allowed),
2 when one has, as ``check`` exits for an invalid contract.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

EXIT_OK, EXIT_INVALID = 0, 2


@dataclass(frozen=True)
class Problem:
    """One problem of one contract file."""

    file: str
    line: int | None
    level: str  # "error": check would refuse the contract; "warning": it would not
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {'warning: ' if self.level == 'warning' else ''}{self.message}"


def add_lint_command(commands: Any) -> None:
    """Add ``lint`` to the ``opsguard`` command line."""
    lint = commands.add_parser(
        "lint", help="check contract files without data (keys, referenced files, ODCS, GX)"
    )
    lint.add_argument(
        "contracts",
        nargs="+",
        metavar="CONTRACT",
        help="contract files (YAML), or folders: every .yml and .yaml file below them",
    )
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.set_defaults(func=_lint)


def _lint(args: argparse.Namespace) -> int:
    files = [path for given in args.contracts for path in _contract_files(given)]
    problems = [p for path in files for p in lint_contract(path)]
    errors = sum(p.level == "error" for p in problems)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "status": "error" if errors else "ok",
                    "files": len(files),
                    "errors": errors,
                    "warnings": len(problems) - errors,
                    "problems": [asdict(p) for p in problems],
                }
            )
        )
    else:
        for problem in problems:
            print(problem)
        print(
            f"{len(files)} contract{'s' if len(files) != 1 else ''}: {errors} error"
            f"{'s' if errors != 1 else ''}, {len(problems) - errors} warning"
            f"{'s' if len(problems) - errors != 1 else ''}",
            file=sys.stderr,
        )
    return EXIT_INVALID if errors else EXIT_OK


def _contract_files(given: str) -> list[str]:
    """A file as given; a folder as the YAML files below it (hidden names skipped)."""
    if not os.path.isdir(given):
        return [given]
    found = []
    for folder, subfolders, names in os.walk(given):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found += [
            os.path.join(folder, name)
            for name in sorted(names)
            if name.endswith((".yml", ".yaml")) and not name.startswith(".")
        ]
    return found


def lint_contract(path: str) -> list[Problem]:
    """Every problem of one contract file (see the module's docstring)."""
    from pydantic import ValidationError

    from airflow_opsguard.contract.contract import Contract
    from airflow_opsguard.contract.loader import each_problem
    from airflow_opsguard.contract.safe_load import load_yaml_file
    from airflow_opsguard.errors import ContractError

    try:
        data, node = load_yaml_file(path, what="contract")
    except ContractError as exc:
        return [_parsed(path, str(exc))]
    if not isinstance(data, dict):
        return [Problem(path, None, "error", "a contract is a mapping with a 'dataset' key")]
    data, node, problems = _from_odcs(path, data, node)
    if any(p.level == "error" for p in problems):
        return problems
    try:
        contract = Contract.model_validate(data).with_origin(path)
    except ValidationError as exc:
        return problems + [_parsed(path, line) for line in each_problem(exc, path, node)]
    return problems + _referenced_files(path, contract, node)


def _from_odcs(path: str, data: dict[str, Any], node: Any) -> tuple[Any, Any, list[Problem]]:
    """An ODCS document as our contract's mapping, and what does not map (warnings)."""
    from airflow_opsguard.errors import ContractError
    from airflow_opsguard.odcs import is_odcs

    if not is_odcs(data):
        return data, node, []
    from airflow_opsguard.odcs.reading import odcs_to_contract

    try:
        mapped, unmapped = odcs_to_contract(data, origin=path)
    except ContractError as exc:
        return data, None, [_parsed(path, str(exc))]
    warnings = [Problem(path, None, "warning", f"not checked: ODCS {item}") for item in unmapped]
    return mapped, None, warnings  # the ODCS document's lines are not the contract's


def _referenced_files(path: str, contract: Any, node: Any) -> list[Problem]:
    from airflow_opsguard.contract.loader import line_of
    from airflow_opsguard.contract.paths import relative_to_contract
    from airflow_opsguard.errors import ContractError

    problems: list[Problem] = []
    for index, suite in enumerate(contract.gx_suite):
        if not isinstance(suite, str):
            continue
        from airflow_opsguard.gx.suites import read_suite_file

        try:
            read_suite_file(relative_to_contract(contract, suite))
        except ContractError as exc:
            loc = ("gx_suite", index) if _is_list(node, "gx_suite") else ("gx_suite",)
            problems.append(Problem(path, line_of(node, loc), "error", f"gx_suite: {exc}"))
    distribution = contract.distribution
    if distribution is not None and distribution.reference:
        found = _reference_problem(
            distribution.reference, relative_to_contract(contract, distribution.reference)
        )
        if found:
            line = line_of(node, ("distribution", "reference"))
            level, message = found
            problems.append(Problem(path, line, level, f"distribution.reference: {message}"))
    for index, check in enumerate(contract.checks):
        target = getattr(getattr(check, "to", None), "path", None)
        if target and not _exists(relative_to_contract(contract, target)):
            line = line_of(node, ("checks", index, "to", "path"))
            problems.append(
                Problem(
                    path,
                    line,
                    "warning",
                    f"checks[{index}].to.path: {target!r} names no file here "
                    "(fine if the data lives only where the gate runs)",
                )
            )
    return problems


def _reference_problem(written: str, location: str) -> tuple[str, str] | None:
    """Why a drift reference cannot be read (level and message), or None. A missing
    profile (``.json``) is an error: it belongs with the contract. Missing reference
    data is a warning: a pipeline may write it where the gate runs."""
    from airflow_opsguard.drift.profile import Profile, ProfileError, looks_like_profile

    if not _exists(location):
        if location.lower().endswith(".json"):
            return "error", f"{written!r}: no such profile (opsguard profile or init writes one)"
        return "warning", f"{written!r}: no such data here (fine if it exists where the gate runs)"
    if looks_like_profile(location):
        try:
            Profile.read(location)
        except ProfileError as exc:
            return "error", str(exc)
    return None


def _exists(location: str) -> bool:
    """Whether a local path, folder or glob names something; URLs are not fetched."""
    if "://" in location:
        return True
    if glob.has_magic(location):
        return bool(glob.glob(location, recursive=True))
    return os.path.exists(location)


def _is_list(node: Any, key: str) -> bool:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return False
    return any(k.value == key and isinstance(v, yaml.SequenceNode) for k, v in node.value)


def _parsed(path: str, text: str) -> Problem:
    """A loader's message (``file:line: message``) as a Problem."""
    rest = text.removeprefix(path)
    line = None
    if rest.startswith(":") and rest[1:].split(":", 1)[0].isdigit():
        number, rest = rest[1:].split(":", 1)
        line = int(number)
        rest = ":" + rest
    message = rest.removeprefix(":").strip() if rest != text else text
    return Problem(path, line, "error", message)
