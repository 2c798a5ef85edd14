"""A distribution reference as the checks use it: a loaded profile, or why there is none.

Loading one is I/O, done once per run before the scan is planned (the current data's
histograms are taken over the reference's bins and categories): the pipeline loads it
(:func:`airflow_opsguard.baselines.reference_for`) and hands it to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_opsguard.drift.profile import ColumnProfile, Profile

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
