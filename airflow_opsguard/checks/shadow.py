"""Shadow mode: checks that are measured, stored and shown, and never block or alert.

A team tunes a new check on production data this way before enforcing it. A shadow
check's result keeps its numbers and message; its ``status`` is ``pass`` and
``would_be`` says what it would have been. With ``mode: shadow`` on the whole contract
every check is a shadow check, and a gate that could not measure at all passes too,
saying it would have been an error. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from airflow_opsguard.checks.results import CheckResult, GateResult, Status, worst
from airflow_opsguard.contract.models import Contract

SHADOW_PREFIX = "shadow mode"


def shadow_names(contract: Contract) -> list[tuple[str, bool]]:
    """``(display name, in shadow)`` of the contract's checks, in the order evaluation
    reports them (names may repeat: the n-th result of a name is the n-th check)."""
    return [(c.display_name, c.mode == "shadow") for c in contract.all_checks]


def apply_shadow(contract: Contract, result: GateResult) -> GateResult:
    """``result`` with the contract's shadow checks (or all, for a shadow contract) made
    harmless: ``status`` pass, ``would_be`` their own status; the verdict recomputed."""
    whole = contract.mode == "shadow"
    modes: dict[str, list[bool]] = {}
    for name, shadow in shadow_names(contract):
        modes.setdefault(name, []).append(shadow)
    if not whole and not any(any(v) for v in modes.values()):
        return result
    seen: dict[str, int] = {}
    checks: list[CheckResult] = []
    for check in result.checks:
        index = seen.get(check.name, 0)
        seen[check.name] = index + 1
        listed = modes.get(check.name, [])
        shadow = whole or (index < len(listed) and listed[index])
        checks.append(shadow_check(check) if shadow else check)
    enforced: Status = worst(c.status for c in checks)
    would_be: Status = worst(c.would_be or c.status for c in checks)
    if result.error is not None:
        # Nothing was measured: a shadow contract passes, saying it would have been an error.
        enforced = "pass" if whole else result.status
        would_be = result.status
    return replace(result, checks=tuple(checks), status=enforced, would_be=would_be)


def shadow_check(check: CheckResult) -> CheckResult:
    """One check made a shadow check."""
    if check.would_be is not None:
        return check
    if check.status == "pass":
        message = check.message
    else:
        message = f"{SHADOW_PREFIX}, would {_verb(check.status)}: {check.message}"
    return replace(check, status="pass", would_be=check.status, message=message)


def _verb(status: Status) -> str:
    return {"fail": "fail", "warn": "warn", "error": "be an error"}.get(status, status)
