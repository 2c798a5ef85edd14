"""Drift statistics between a reference and a current distribution. Pure and numpy-based.

Every statistic takes two vectors of **counts** over the same cells (the reference's
bins for numbers, its categories plus "other" for categories) and works on their
shares, so it does not depend on the sample sizes. The vectorised ``*_shares``
functions take shares with any leading axes (``(draws, cells)``), which the sampling
noise simulation uses.

- **PSI**, the population stability index, ``sum((q - p) * ln(q / p))``, with shares
  below ``EPSILON`` raised to it, so that an empty cell counts as rare, not impossible.
  Symmetric; 0 for identical shares; unbounded.
- **Jensen-Shannon distance**, the square root of the Jensen-Shannon divergence in bits:
  symmetric, in [0, 1], 0 for identical shares and 1 for disjoint ones; needs no
  epsilon.
- **Normalised Wasserstein** (numbers): the earth mover's distance between the two
  binned distributions, each bin's mass sitting at one point for both (the reference's
  mean of the values in the bin: about the midpoint for continuous data, the value
  itself for integers, and a finite point for the open-ended outer bins), divided by
  the reference's robust standard deviation (IQR / 1.349, else its standard
  deviation). It reads in standard deviations: a mean shift of half a standard
  deviation gives about 0.5.
- **Cramér's V** (categories): the effect size of the 2 x K table of reference against
  current, with both rows weighted equally, so that it does not shrink when one sample
  is much larger than the other: ``sqrt(sum((p - q)^2 / (p + q)) / 2)``, in [0, 1].

numpy is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

EPSILON = 1e-4  # the smallest share PSI uses: an empty cell counts as rare, not impossible
NOISE_DRAWS = 2000  # simulated healthy samples per judgement
NOISE_QUANTILE = 0.999  # the noise level: what 1 healthy sample in 1,000 exceeds
NOISE_SEED = 20260511  # fixed: the same data always gets the same verdict

Method = Literal["psi", "js", "wasserstein", "cramers_v"]
NUMERIC_METHODS: tuple[Method, ...] = ("psi", "js", "wasserstein")
CATEGORICAL_METHODS: tuple[Method, ...] = ("psi", "js", "cramers_v")
# Divergences grow like the square of a distance: sampling noise adds to them linearly.
DIVERGENCES = frozenset({"psi"})


def _np() -> Any:
    import numpy

    return numpy


def _as_counts(values: Sequence[float] | Array) -> Array:
    np = _np()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim < 1:
        raise ValueError("counts must be a vector")
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError("counts must be finite and not negative")
    return array  # type: ignore[no-any-return]


def shares(counts: Sequence[float] | Array) -> Array:
    """Counts as shares along the last axis (all zeros stay zeros)."""
    np = _np()
    array = _as_counts(counts)
    total = array.sum(axis=-1, keepdims=True)
    return np.divide(array, total, out=np.zeros_like(array), where=total > 0)  # type: ignore[no-any-return]


def _pair(
    reference: Sequence[float] | Array, current: Sequence[float] | Array
) -> tuple[Array, Array]:
    p, q = shares(reference), shares(current)
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"{p.shape[-1]} reference cells but {q.shape[-1]} current cells")
    return p, q


# ------------------------------------------------------------------------------ PSI


def psi_shares(p: Array, q: Array, epsilon: float = EPSILON) -> Array:
    np = _np()
    pe, qe = np.maximum(p, epsilon), np.maximum(q, epsilon)
    return np.sum((qe - pe) * np.log(qe / pe), axis=-1)  # type: ignore[no-any-return]


def psi(
    reference: Sequence[float] | Array, current: Sequence[float] | Array, epsilon: float = EPSILON
) -> float:
    """The population stability index of two count vectors over the same cells."""
    p, q = _pair(reference, current)
    return float(psi_shares(p, q, epsilon))


# ------------------------------------------------------------------------------ Jensen-Shannon


def _plogp(x: Array) -> Array:
    np = _np()
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, x * np.log2(safe), 0.0)  # type: ignore[no-any-return]


def js_shares(p: Array, q: Array) -> Array:
    np = _np()
    m = (p + q) / 2
    divergence = np.sum(_plogp(p) + _plogp(q) - 2 * _plogp(m), axis=-1) / 2
    return np.sqrt(np.clip(divergence, 0.0, 1.0))  # type: ignore[no-any-return]


def js_distance(reference: Sequence[float] | Array, current: Sequence[float] | Array) -> float:
    """The Jensen-Shannon distance (base 2) of two count vectors: in [0, 1]."""
    p, q = _pair(reference, current)
    return float(js_shares(p, q))


# ------------------------------------------------------------------------------ Cramér's V


def cramers_v_shares(p: Array, q: Array) -> Array:
    np = _np()
    total = p + q
    cells = np.divide((p - q) ** 2, total, out=np.zeros_like(total), where=total > 0)
    return np.sqrt(np.clip(np.sum(cells, axis=-1) / 2, 0.0, 1.0))  # type: ignore[no-any-return]


def cramers_v(reference: Sequence[float] | Array, current: Sequence[float] | Array) -> float:
    """Cramér's V of the 2 x K table of reference against current, both rows weighted
    equally (so that the sample sizes and their ratio do not matter): in [0, 1]."""
    p, q = _pair(reference, current)
    return float(cramers_v_shares(p, q))


def cramers_v_table(reference: Sequence[float] | Array, current: Sequence[float] | Array) -> float:
    """The textbook Cramér's V of the 2 x K table of raw counts (it shrinks when one
    sample is much larger than the other; reported for reference, not judged on)."""
    np = _np()
    table = np.vstack([_as_counts(reference), _as_counts(current)])
    table = table[:, table.sum(axis=0) > 0]
    total = table.sum()
    if total == 0 or table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    return math.sqrt(chi2 / total)


# ------------------------------------------------------------------------------ Wasserstein


def bin_positions(
    edges: Sequence[float], means: Sequence[float | None], scale: float
) -> list[float]:
    """Where the mass of each bin sits, for both distributions: the reference's mean of
    the bin; for a bin the reference left empty, its midpoint, or for an empty outer bin
    one ``scale`` beyond the edge. Always ascending."""
    if not edges:
        return [0.0]
    wanted = list(means) if len(means) == len(edges) + 1 else [None] * (len(edges) + 1)
    positions: list[float] = []
    for index, mean in enumerate(wanted):
        if mean is not None and math.isfinite(mean):
            positions.append(mean)
        elif index == 0:
            positions.append(edges[0] - scale)
        elif index == len(edges):
            positions.append(edges[-1] + scale)
        else:
            positions.append((edges[index - 1] + edges[index]) / 2)
    for index in range(1, len(positions)):  # guard against rounding at the edges
        positions[index] = max(positions[index], positions[index - 1])
    return positions


def wasserstein_shares(p: Array, q: Array, positions: Array, scale: float) -> Array:
    np = _np()
    gaps = np.diff(positions)
    cdf_gap = np.abs(np.cumsum(p - q, axis=-1)[..., :-1])
    return np.sum(cdf_gap * gaps, axis=-1) / scale  # type: ignore[no-any-return]


def wasserstein(
    reference: Sequence[float] | Array,
    current: Sequence[float] | Array,
    positions: Sequence[float],
    scale: float = 1.0,
) -> float:
    """The earth mover's distance between two binned distributions whose bins sit at
    ``positions`` (ascending, one per bin), divided by ``scale``."""
    np = _np()
    p, q = _pair(reference, current)
    where = np.asarray(positions, dtype=np.float64)
    if where.shape[-1] != p.shape[-1]:
        raise ValueError(f"{where.shape[-1]} positions for {p.shape[-1]} bins")
    if scale <= 0 or not math.isfinite(scale):
        raise ValueError("scale must be positive")
    return float(wasserstein_shares(p, q, where, scale))


def robust_scale(
    p25: float | None, p75: float | None, std: float | None
) -> tuple[float, Literal["iqr", "std", "units"]]:
    """The reference's spread that normalises Wasserstein: IQR / 1.349 (a standard
    deviation for normal data, robust to outliers), else the standard deviation, else 1
    (the column's own units: the reference was constant)."""
    if p25 is not None and p75 is not None and p75 > p25:
        return (p75 - p25) / 1.349, "iqr"
    if std is not None and std > 0 and math.isfinite(std):
        return std, "std"
    return 1.0, "units"


# ------------------------------------------------------------------------------ all of them


@dataclass(frozen=True)
class Cells:
    """A comparison: reference and current counts over the same cells, and for numbers
    where each bin sits and the scale that normalises Wasserstein."""

    reference: tuple[float, ...]
    current: tuple[float, ...]
    positions: tuple[float, ...] | None = None  # numbers only
    scale: float = 1.0

    @property
    def methods(self) -> tuple[Method, ...]:
        return NUMERIC_METHODS if self.positions is not None else CATEGORICAL_METHODS


def _statistic(method: Method, cells: Cells) -> Callable[[Array, Array], Array]:
    np = _np()
    if method == "psi":
        return psi_shares
    if method == "js":
        return js_shares
    if method == "cramers_v":
        return cramers_v_shares
    if cells.positions is None:
        raise ValueError("wasserstein needs bin positions (numbers)")
    where = np.asarray(cells.positions, dtype=np.float64)
    return lambda p, q: wasserstein_shares(p, q, where, cells.scale)


def statistics(cells: Cells) -> dict[str, float]:
    """Every statistic that applies to the cells (numbers or categories)."""
    p, q = _pair(cells.reference, cells.current)
    return {m: float(_statistic(m, cells)(p, q)) for m in cells.methods}


def sampling_noise(
    cells: Cells,
    *,
    draws: int = NOISE_DRAWS,
    quantile: float = NOISE_QUANTILE,
    seed: int = NOISE_SEED,
) -> dict[str, float]:
    """The value each statistic reaches by chance alone, for these sample sizes.

    Draws ``draws`` pairs of healthy samples, a reference of the reference's size and a
    current one of the current size, both from the reference's shares, and returns the
    ``quantile`` of each statistic over them: what 1 healthy comparison in 1,000 exceeds.
    Seeded, so the same counts always give the same noise (and it is cached: it depends
    on the reference and the current size only).
    """
    current_size = round(sum(cells.current))
    key = Cells(cells.reference, (float(current_size),), cells.positions, cells.scale)
    return dict(_noise(key, draws, quantile, seed))


@functools.lru_cache(maxsize=256)
def _noise(cells: Cells, draws: int, quantile: float, seed: int) -> tuple[tuple[str, float], ...]:
    np = _np()
    m = round(sum(cells.reference))
    n = round(sum(cells.current))
    if m <= 0 or n <= 0:
        return tuple((method, math.inf) for method in cells.methods)
    p = shares(cells.reference)
    p = p / p.sum()  # shares that sum to a hair above 1 upset multinomial
    rng = np.random.default_rng(seed)
    ref = shares(rng.multinomial(m, p, size=draws))
    cur = shares(rng.multinomial(n, p, size=draws))
    return tuple(
        (method, float(np.quantile(_statistic(method, cells)(ref, cur), quantile)))
        for method in cells.methods
    )


def beyond_noise(method: str, value: float, noise: float) -> float:
    """The part of a statistic that sampling noise does not explain.

    Noise adds to a divergence (PSI) linearly and to a distance (Jensen-Shannon,
    Wasserstein, Cramér's V, whose squares are divergence-like) in quadrature, so the
    noise level is taken off where it adds up.
    """
    if not math.isfinite(noise):
        return 0.0
    if method in DIVERGENCES:
        return max(0.0, value - noise)
    return math.sqrt(max(0.0, value * value - noise * noise))
