"""Properties of the drift statistics: zero on identical inputs, symmetric, bounded where
they are, growing with the shift; and the sampling noise that the verdicts subtract."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_opsguard.drift import statistics as S

counts = st.lists(st.integers(0, 10_000), min_size=2, max_size=30).filter(lambda c: sum(c) > 0)


@st.composite
def count_pairs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    first = draw(counts)
    second = draw(
        st.lists(st.integers(0, 10_000), min_size=len(first), max_size=len(first)).filter(
            lambda c: sum(c) > 0
        )
    )
    return first, second


def positions(cells: int) -> list[float]:
    return [float(i) for i in range(cells)]


@given(counts)
def test_every_statistic_is_zero_on_identical_inputs(cells: list[int]) -> None:
    assert S.psi(cells, cells) == pytest.approx(0.0, abs=1e-12)
    assert S.js_distance(cells, cells) == pytest.approx(0.0, abs=1e-6)
    assert S.cramers_v(cells, cells) == pytest.approx(0.0, abs=1e-12)
    assert S.wasserstein(cells, cells, positions(len(cells))) == pytest.approx(0.0, abs=1e-12)


@given(counts, st.integers(2, 50))
def test_statistics_depend_on_shares_not_on_sizes(cells: list[int], factor: int) -> None:
    scaled = [c * factor for c in cells]
    assert S.js_distance(cells, scaled) == pytest.approx(0.0, abs=1e-6)
    assert S.psi(cells, scaled) == pytest.approx(0.0, abs=1e-12)


@given(count_pairs())
def test_js_psi_cramers_v_and_wasserstein_are_symmetric(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    assert S.js_distance(a, b) == pytest.approx(S.js_distance(b, a), abs=1e-12)
    assert S.psi(a, b) == pytest.approx(S.psi(b, a), rel=1e-9, abs=1e-12)
    assert S.cramers_v(a, b) == pytest.approx(S.cramers_v(b, a), abs=1e-12)
    where = positions(len(a))
    assert S.wasserstein(a, b, where) == pytest.approx(S.wasserstein(b, a, where), abs=1e-9)


@given(count_pairs())
def test_bounded_statistics_stay_in_their_bounds(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    assert 0.0 <= S.js_distance(a, b) <= 1.0
    assert 0.0 <= S.cramers_v(a, b) <= 1.0
    assert S.psi(a, b) >= 0.0
    assert S.wasserstein(a, b, positions(len(a))) <= len(a) - 1 + 1e-9


def test_disjoint_distributions_reach_the_maximum() -> None:
    assert S.js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert S.cramers_v([5, 0], [0, 7]) == pytest.approx(1.0)
    assert S.wasserstein([1, 0, 0], [0, 0, 1], [0.0, 1.0, 2.0]) == pytest.approx(2.0)


@given(count_pairs(), st.floats(0, 1), st.floats(0, 1))
def test_each_statistic_grows_as_the_current_moves_away(
    pair: tuple[list[int], list[int]], t1: float, t2: float
) -> None:
    """Mixing in more of another distribution never brings the current closer."""
    low, high = sorted((t1, t2))
    p, q = S.shares(pair[0]), S.shares(pair[1])
    near, far = (1 - low) * p + low * q, (1 - high) * p + high * q
    where = np.arange(len(p), dtype=float)
    for name, stat in [
        ("psi", lambda a, b: S.psi_shares(a, b)),
        ("js", lambda a, b: S.js_shares(a, b)),
        ("cramers_v", lambda a, b: S.cramers_v_shares(a, b)),
        ("wasserstein", lambda a, b: S.wasserstein_shares(a, b, where, 1.0)),
    ]:
        assert float(stat(p, near)) <= float(stat(p, far)) + 1e-9, name


@settings(deadline=None, max_examples=25)
@given(st.floats(0.0, 1.5), st.floats(0.0, 1.5))
def test_a_larger_mean_shift_gives_larger_statistics(a: float, b: float) -> None:
    small, large = sorted((a, b))
    edges = np.linspace(-2.5, 2.5, 19)
    centres = [-2.75, *((edges[:-1] + edges[1:]) / 2), 2.75]

    def binned(shift: float) -> list[float]:
        cuts = [0.0, *(0.5 * (1 + math.erf((e - shift) / math.sqrt(2))) for e in edges), 1.0]
        return list(np.diff(cuts) * 1e6)

    ref = binned(0.0)
    for stat in (
        lambda c: S.psi(ref, c),
        lambda c: S.js_distance(ref, c),
        lambda c: S.wasserstein(ref, c, centres),
    ):
        assert stat(binned(small)) <= stat(binned(large)) + 1e-9


def test_normalised_wasserstein_reads_in_standard_deviations() -> None:
    """A mean shift of d standard deviations gives about d (binned on 20 quantile bins)."""
    from drift_arrays import current_column, numeric_profile

    rng = np.random.default_rng(1)
    reference = numeric_profile("x", rng.normal(50, 10, 400_000))
    assert reference.numeric is not None
    n = reference.numeric
    scale, basis = S.robust_scale(n.p25, n.p75, n.std)
    assert basis == "iqr"
    assert scale == pytest.approx(10, rel=0.02)
    where = S.bin_positions(n.edges, n.means, scale)
    for shift in (0.25, 0.5, 1.0):
        current = current_column(reference, rng.normal(50 + 10 * shift, 10, 400_000))
        measured = S.wasserstein(n.counts, current.cells, where, scale)
        assert measured == pytest.approx(shift, rel=0.1)


def test_robust_scale_falls_back_to_the_std_then_to_units() -> None:
    assert S.robust_scale(1.0, 3.0, 9.0) == (pytest.approx(2 / 1.349), "iqr")
    assert S.robust_scale(2.0, 2.0, 4.0) == (4.0, "std")
    assert S.robust_scale(2.0, 2.0, 0.0) == (1.0, "units")


def test_bin_positions_use_the_reference_bin_means_and_stay_ascending() -> None:
    assert S.bin_positions([1.0, 2.0], [0.5, 1.2, 7.0], 1.0) == [0.5, 1.2, 7.0]
    # An empty outer bin sits one scale beyond its edge; an empty inner bin at its middle.
    assert S.bin_positions([1.0, 2.0, 4.0], [None, None, 2.5, None], 0.5) == [0.5, 1.5, 2.5, 4.5]


def test_the_textbook_cramers_v_shrinks_with_unbalanced_sizes_ours_does_not() -> None:
    ref, cur = [500, 500], [30, 70]
    big_ref = [c * 1000 for c in ref]
    assert S.cramers_v(ref, cur) == pytest.approx(S.cramers_v(big_ref, cur))
    assert S.cramers_v_table(big_ref, cur) < S.cramers_v_table(ref, cur) / 3


def test_sampling_noise_falls_with_the_sample_size_and_is_deterministic() -> None:
    ref = tuple(float(c) for c in [5000] * 20)
    levels = []
    for n in (1_000, 10_000, 100_000):
        cells = S.Cells(ref, (float(n),), positions=tuple(positions(20)), scale=1.0)
        first = S.sampling_noise(cells)
        assert S.sampling_noise(cells) == first
        levels.append(first)
    for method in ("psi", "js", "wasserstein"):
        assert levels[0][method] > levels[1][method] > levels[2][method] > 0
    # PSI noise scales like 1/n for a fixed reference much larger than the sample.
    assert levels[0]["psi"] / levels[1]["psi"] == pytest.approx(10, rel=0.35)


@given(st.sampled_from(["psi", "js", "wasserstein", "cramers_v"]), st.floats(0, 5), st.floats(0, 5))
def test_beyond_noise_never_exceeds_the_statistic(method: str, value: float, noise: float) -> None:
    judged = S.beyond_noise(method, value, noise)
    assert 0.0 <= judged <= value + 1e-12
    if value <= noise:
        assert judged == 0.0


def test_counts_must_be_counts() -> None:
    with pytest.raises(ValueError, match="not negative"):
        S.psi([1, -1], [1, 1])
    with pytest.raises(ValueError, match="cells"):
        S.js_distance([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        S.wasserstein([1, 2], [2, 1], [0.0, 1.0], scale=0.0)
