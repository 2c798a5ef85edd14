"""Load a contract's distribution reference: a profile file, or data profiled now.

This is I/O and belongs to the engine step: the executor loads the reference once per
run, before it plans the scan (the current data's histograms are taken over the
reference's bins and categories). Evaluation never reads files.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_opsguard.contract.models import Contract, Distribution
from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.drift.profile import ColumnProfile, Profile, looks_like_profile
from airflow_opsguard.errors import OpsGuardError

# How a distribution check's message starts while there is no reference to judge by.
LEARNING = "learning: "


@dataclass(frozen=True)
class Reference:
    """A loaded reference, or why it could not be loaded (then every distribution check
    reports that error, and the other checks still run)."""

    location: str  # as the contract gives it
    path: str  # where it was read: relative paths from the contract file's folder
    profile: Profile | None = None
    error: str | None = None
    # No reference yet, and none expected yet (a baseline with no version): the checks
    # pass and say so, like an anomaly check before its minimum history.
    learning: str | None = None

    def column(self, name: str) -> ColumnProfile | str:
        """The reference's profile of a column, or why there is none."""
        if self.error is not None:
            return self.error
        if self.learning is not None:
            return self.learning
        assert self.profile is not None
        found = self.profile.column(name)
        if found is None:
            return f"the reference {self.location!r} has no column {name!r}"
        return found


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
    from airflow_opsguard.drift.profiler import open_source, profile_opened

    with open_source(path) as opened:
        present = {c.name for c in opened.columns}
        names = [c.name for c in section.columns if c.name in present]
        return profile_opened(opened, names, bins=section.bins, top=section.top)
