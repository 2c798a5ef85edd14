"""docs/adoption.md and its GitHub Actions example: the workflow in the page is the
example file, it is valid YAML of a workflow, and its opsguard commands are calls the
command line takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from adoption_data import NOW, example_orders

from airflow_opsguard.cli.main import build_parser
from airflow_opsguard.drafting import draft_contract

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "github-actions.yml"


def _commands(script: str) -> list[list[str]]:
    """The opsguard calls of a shell script, continuation lines joined and variables
    replaced by plain words."""
    joined = re.sub(r"\\\n\s*", " ", script)
    calls = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("opsguard "):
            words = shlex.split(re.sub(r"\$\{?(\w+)\}?", r"\1", line.split(" > ")[0]))
            calls.append(words[1:])
    return calls


def test_the_page_shows_the_example_workflow_as_it_is() -> None:
    page = (ROOT / "docs" / "adoption.md").read_text()
    assert f"```yaml\n{EXAMPLE.read_text()}```" in page


def test_the_example_workflow_lints_and_checks_with_calls_the_command_takes() -> None:
    workflow = yaml.safe_load(EXAMPLE.read_text())
    assert workflow[True] == {"pull_request": {"paths": ["contracts/**", "dags/**"]}}  # on:
    steps = workflow["jobs"]["contracts"]["steps"]
    calls = [call for step in steps for call in _commands(str(step.get("run", "")))]
    assert [call[0] for call in calls] == ["lint", "check"]
    parser = build_parser()
    for call in calls:
        parsed = parser.parse_args(call)
        assert parsed.func is not None
    check = parser.parse_args(calls[1])
    assert check.format == "junit" and check.summary == "opsguard-summary.md"
    assert check.no_store and check.no_alerts


def test_the_pre_commit_example_names_the_hook_the_repository_carries() -> None:
    page = (ROOT / "docs" / "adoption.md").read_text()
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert f"- id: {hooks[0]['id']}" in page


def test_the_draft_shown_in_the_page_is_what_init_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (ROOT / "docs" / "adoption.md").read_text()
    shown = re.search(r"```yaml\n(# Drafted by .+?)```", page, re.DOTALL)
    assert shown is not None
    example_orders(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    drafted = draft_contract("data/orders.parquet", out="contracts/orders.yml", now=NOW)
    assert drafted == shown.group(1)
