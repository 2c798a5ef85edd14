"""What the engines hand to the distribution checks: the current data of a column over
the reference's cells, beside the reference's profile of it. Plain data."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_opsguard.drift.profile import Category, ColumnProfile


@dataclass(frozen=True)
class CurrentColumn:
    """The current data of a column, over the reference's cells."""

    count: int  # values that are not null
    nulls: int
    cells: tuple[int, ...]  # bins; or the reference's categories, then "other"
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    unseen: tuple[tuple[Category, int], ...] = ()  # the most frequent values not listed

    @property
    def null_fraction(self) -> float:
        rows = self.count + self.nulls
        return self.nulls / rows if rows else 0.0


@dataclass(frozen=True)
class DriftObservation:
    """What the engine hands to evaluation: the reference's profile of the column and
    the current data over the same cells."""

    reference: ColumnProfile
    current: CurrentColumn
    reference_location: str
