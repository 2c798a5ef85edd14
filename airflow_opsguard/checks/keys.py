"""Stable keys for the checks of a contract, shared by engines and evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_opsguard.contract.models import Check, Contract, DistributionColumn

FRESHNESS_KEY = "freshness"


@dataclass(frozen=True)
class CheckKey:
    """One measurable check: its key, its declaration (None for freshness and
    distribution), its columns, and for a distribution check the column's declaration."""

    key: str
    check: Check | None
    columns: tuple[str, ...]
    distribution: DistributionColumn | None = None


def check_keys(contract: Contract) -> list[CheckKey]:
    """The contract's measurable checks in a stable order, each with a unique key."""
    keys: list[CheckKey] = []
    seen: dict[str, int] = {}
    for check in contract.all_checks:
        name = check.display_name
        seen[name] = seen.get(name, 0) + 1
        key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        keys.append(CheckKey(key, check, check.columns))
    if contract.freshness is not None:
        keys.append(CheckKey(FRESHNESS_KEY, None, (contract.freshness.column,)))
    if contract.distribution is not None:
        for column in contract.distribution.columns:
            name = f"distribution({column.name})"
            seen[name] = seen.get(name, 0) + 1
            key = name if seen[name] == 1 else f"{name}#{seen[name]}"
            keys.append(CheckKey(key, None, (column.name,), distribution=column))
    return keys
