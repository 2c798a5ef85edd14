"""Load a contract's distribution reference file: a profile, or reference data profiled
now with the engines. Called once per run, before the scan is planned; a baseline kept
in the results store is loaded by :func:`airflow_opsguard.baselines.reference_for`."""

from __future__ import annotations

from airflow_opsguard.contract.models import Contract, Distribution
from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.drift.profile import Profile, looks_like_profile
from airflow_opsguard.drift.reference import Reference
from airflow_opsguard.engines.profiler import open_source, profile_opened
from airflow_opsguard.errors import OpsGuardError


def load_reference(contract: Contract) -> Reference | None:
    """The contract's reference, profiled for its distribution columns (None without a
    ``distribution`` section). Never raises for an unreadable reference: the error is
    kept, and the distribution checks report it."""
    section = contract.distribution
    if section is None:
        return None
    if section.reference is None:
        return Reference(
            f"baseline {section.baseline!r}",
            "",
            error="distribution.baseline: the baseline is read from a results store; "
            "check with validate(..., store=...)",
        )
    path = relative_to_contract(contract, section.reference)
    try:
        profile = Profile.read(path) if looks_like_profile(path) else _profile_data(path, section)
    except OpsGuardError as exc:
        return Reference(section.reference, path, error=f"distribution.reference: {exc}")
    return Reference(section.reference, path, profile=profile)


def _profile_data(path: str, section: Distribution) -> Profile:
    """Profile reference data for the section's columns (those it has: a column it lacks
    is reported by that column's check)."""
    with open_source(path) as opened:
        present = {c.name for c in opened.columns}
        names = [c.name for c in section.columns if c.name in present]
        return profile_opened(opened, names, bins=section.bins, top=section.top)
