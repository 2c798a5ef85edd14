"""Detection power and false alarms of the distribution drift checks.

    .venv/bin/python benchmarks/drift_power.py [--out benchmarks/DRIFT_POWER.md] [--quick]

Prints, and writes to ``--out``, tables of verdicts by shift size x current rows (1k to
10M) for numeric mean and spread shifts and category share shifts, with the default
methods and thresholds, and the false-alarm rate over many healthy resamples.

Everything runs on numpy-generated data, through the same functions a gate uses: the
reference profile (`tests/drift/drift_arrays.py`, the engines' exact bins and
quantiles), the current data over the reference's cells, and the pure verdict
(:func:`airflow_opsguard.checks.distribution.evaluate_distribution`). Power cells draw
real samples (a 10M-row cell generates 10M values). The false-alarm runs draw the
current histogram directly as multinomial counts over the reference's cells with the
true cell probabilities, which has exactly the distribution of binning n fresh values
and lets each size take a thousand draws. Seeded: the same command prints the same
tables.
"""

from __future__ import annotations

import argparse
import math
import statistics as stats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airflow_opsguard.checks.distribution import DEFAULT_METHODS, THRESHOLDS, evaluate_distribution
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.contract.models import Distribution
from airflow_opsguard.drift.observations import CurrentColumn, DriftObservation
from airflow_opsguard.drift.profile import ColumnProfile

# The engines' exact bins and categories computed from numpy arrays: a test oracle kept
# with the tests (it is no part of the package).
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests" / "drift"))
from drift_arrays import categorical_profile, current_column, numeric_profile

SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
REFERENCE_ROWS = 1_000_000
SECTION = Distribution(reference="benchmark", columns=("x",))
CATEGORIES = ("US", "DE", "FR", "UK")
SHARES = (0.50, 0.30, 0.15, 0.05)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"


def judge(reference: ColumnProfile, current: CurrentColumn) -> CheckResult:
    observation = CheckObservation(value=DriftObservation(reference, current, "benchmark"))
    return evaluate_distribution(SECTION, SECTION.columns[0], observation)


def repeats(n: int, quick: bool) -> int:
    if quick:
        return 3 if n <= 100_000 else 1
    return 20 if n <= 100_000 else (5 if n <= 1_000_000 else 3)


def cell(results: Sequence[CheckResult]) -> str:
    """``fail 0.47`` (every run the same), or ``warn 3/5, fail 2/5 0.29``: the verdicts
    and the median statistic."""
    order = ("pass", "warn", "fail", "error")
    counts = {s: sum(r.status == s for r in results) for s in order}
    median = stats.median(float(r.observed or 0.0) for r in results)
    present = [s for s in order if counts[s]]
    if len(present) == 1:
        return f"{present[0]} {median:.3f}"
    shown = ", ".join(f"{s} {counts[s]}/{len(results)}" for s in present)
    return f"{shown} {median:.3f}"


# ------------------------------------------------------------------------------ numbers


@dataclass(frozen=True)
class NumericShift:
    name: str
    draw: Callable[[np.random.Generator, int], Any]


NUMERIC_SHIFTS = (
    NumericShift("none (healthy)", lambda rng, n: rng.standard_normal(n)),
    NumericShift("mean +0.05 sd", lambda rng, n: rng.standard_normal(n) + 0.05),
    NumericShift("mean +0.1 sd", lambda rng, n: rng.standard_normal(n) + 0.1),
    NumericShift("mean +0.2 sd", lambda rng, n: rng.standard_normal(n) + 0.2),
    NumericShift("mean +0.3 sd", lambda rng, n: rng.standard_normal(n) + 0.3),
    NumericShift("mean +0.5 sd", lambda rng, n: rng.standard_normal(n) + 0.5),
    NumericShift("mean +1 sd", lambda rng, n: rng.standard_normal(n) + 1.0),
    NumericShift("sd x 1.1", lambda rng, n: rng.standard_normal(n) * 1.1),
    NumericShift("sd x 1.25", lambda rng, n: rng.standard_normal(n) * 1.25),
    NumericShift("sd x 1.5", lambda rng, n: rng.standard_normal(n) * 1.5),
)


def numeric_power(rng: np.random.Generator, quick: bool) -> list[str]:
    reference = numeric_profile("x", rng.standard_normal(REFERENCE_ROWS))
    rows = []
    for shift in NUMERIC_SHIFTS:
        cells = []
        for n in SIZES:
            results = [
                judge(reference, current_column(reference, shift.draw(rng, n)))
                for _ in range(repeats(n, quick))
            ]
            cells.append(cell(results))
        rows.append(f"| {shift.name} | " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr)
    return rows


# ------------------------------------------------------------------------------ categories


@dataclass(frozen=True)
class CategoryShift:
    name: str
    shares: dict[str, float]


def _moved(us: float) -> dict[str, float]:
    rest = (1 - us) / (1 - SHARES[0])
    return {"US": us, **{c: s * rest for c, s in zip(CATEGORIES[1:], SHARES[1:], strict=True)}}


def _new(share: float) -> dict[str, float]:
    return {**{c: s * (1 - share) for c, s in zip(CATEGORIES, SHARES, strict=True)}, "XX": share}


def _vanished(gone: str) -> dict[str, float]:
    kept = {c: s for c, s in zip(CATEGORIES, SHARES, strict=True) if c != gone}
    total = sum(kept.values())
    return {c: s / total for c, s in kept.items()}


CATEGORY_SHIFTS = (
    CategoryShift("none (healthy)", dict(zip(CATEGORIES, SHARES, strict=True))),
    CategoryShift("'US' 50% -> 48%", _moved(0.48)),
    CategoryShift("'US' 50% -> 45%", _moved(0.45)),
    CategoryShift("'US' 50% -> 40%", _moved(0.40)),
    CategoryShift("'US' 50% -> 35%", _moved(0.35)),
    CategoryShift("'US' 50% -> 30%", _moved(0.30)),
    CategoryShift("new 'XX' at 1%", _new(0.01)),
    CategoryShift("new 'XX' at 5%", _new(0.05)),
    CategoryShift("new 'XX' at 10%", _new(0.10)),
    CategoryShift("'UK' (5%) vanished", _vanished("UK")),
    CategoryShift("'FR' (15%) vanished", _vanished("FR")),
)


def category_sample(
    rng: np.random.Generator, shares: dict[str, float], n: int, reference: ColumnProfile
) -> CurrentColumn:
    """n generated values (as integer codes, counted with bincount) over the reference's
    categories, the rest named."""
    names = list(shares)
    codes = rng.choice(len(names), size=n, p=np.array(list(shares.values())))
    counts = dict(zip(names, np.bincount(codes, minlength=len(names)).tolist(), strict=True))
    assert reference.categorical is not None
    listed = [counts.pop(str(v), 0) for v in reference.categorical.values]
    unseen = tuple(sorted(((v, c) for v, c in counts.items() if c), key=lambda x: -x[1]))
    return CurrentColumn(count=n, nulls=0, cells=(*listed, sum(counts.values())), unseen=unseen)


def category_reference(rng: np.random.Generator, rows: int) -> ColumnProfile:
    codes = rng.choice(len(CATEGORIES), size=rows, p=np.array(SHARES))
    return categorical_profile("x", np.array(CATEGORIES, dtype=object)[codes])


def category_power(rng: np.random.Generator, quick: bool) -> list[str]:
    reference = category_reference(rng, REFERENCE_ROWS)
    rows = []
    for shift in CATEGORY_SHIFTS:
        cells = []
        for n in SIZES:
            results = [
                judge(reference, category_sample(rng, shift.shares, n, reference))
                for _ in range(repeats(n, quick))
            ]
            cells.append(cell(results))
        rows.append(f"| {shift.name} | " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr)
    return rows


# ------------------------------------------------------------------------------ false alarms


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _lognormal_cdf(x: float) -> float:
    return 0.0 if x <= 0 else _normal_cdf(math.log(x))


def true_cell_probabilities(reference: ColumnProfile, cdf: Callable[[float], float]) -> Any:
    assert reference.numeric is not None
    cuts = [0.0, *(cdf(e) for e in reference.numeric.edges), 1.0]
    return np.diff(np.array(cuts))


@dataclass(frozen=True)
class Scenario:
    name: str
    reference_rows: int
    make_reference: Callable[[np.random.Generator, int], ColumnProfile]
    truth: Callable[[ColumnProfile], Any]  # true probabilities of the reference's cells
    fresh_reference: bool  # draw a new reference for each trial


ZIPF = np.array([1 / k for k in range(1, 61)])
ZIPF = ZIPF / ZIPF.sum()
ZIPF_NAMES = np.array([f"c{k:02d}" for k in range(1, 61)], dtype=object)


def _zipf_reference(rng: np.random.Generator, rows: int) -> ColumnProfile:
    return categorical_profile("x", ZIPF_NAMES[rng.choice(60, size=rows, p=ZIPF)])


def _category_truth(reference: ColumnProfile, names: Sequence[str], shares: Any) -> Any:
    assert reference.categorical is not None
    by_name = dict(zip(names, shares, strict=True))
    listed = [by_name.pop(str(v), 0.0) for v in reference.categorical.values]
    return np.array([*listed, sum(by_name.values())])


SCENARIOS = (
    Scenario(
        "numbers, normal, 1M-row reference",
        REFERENCE_ROWS,
        lambda rng, m: numeric_profile("x", rng.standard_normal(m)),
        lambda ref: true_cell_probabilities(ref, _normal_cdf),
        False,
    ),
    Scenario(
        "numbers, log-normal (heavy tail), 1M-row reference",
        REFERENCE_ROWS,
        lambda rng, m: numeric_profile("x", rng.lognormal(size=m)),
        lambda ref: true_cell_probabilities(ref, _lognormal_cdf),
        False,
    ),
    Scenario(
        "numbers, normal, 10k-row reference (a new one per draw)",
        10_000,
        lambda rng, m: numeric_profile("x", rng.standard_normal(m)),
        lambda ref: true_cell_probabilities(ref, _normal_cdf),
        True,
    ),
    Scenario(
        "categories, 4 values, 1M-row reference",
        REFERENCE_ROWS,
        category_reference,
        lambda ref: _category_truth(ref, CATEGORIES, SHARES),
        False,
    ),
    Scenario(
        "categories, 60 Zipf values (top 50 + other), 1M-row reference",
        REFERENCE_ROWS,
        _zipf_reference,
        lambda ref: _category_truth(ref, list(ZIPF_NAMES), ZIPF),
        False,
    ),
    Scenario(
        "categories, 4 values, 10k-row reference (a new one per draw)",
        10_000,
        category_reference,
        lambda ref: _category_truth(ref, CATEGORIES, SHARES),
        True,
    ),
)


def false_alarms(rng: np.random.Generator, quick: bool) -> tuple[list[str], int]:
    trials = 100 if quick else 1000
    rows = []
    for scenario in SCENARIOS:
        reference = scenario.make_reference(rng, scenario.reference_rows)
        cells = []
        for n in SIZES:
            warns = fails = 0
            largest = 0.0
            runs = trials if not scenario.fresh_reference else trials // 5
            for _ in range(runs):
                if scenario.fresh_reference:
                    reference = scenario.make_reference(rng, scenario.reference_rows)
                p = scenario.truth(reference)
                counts = rng.multinomial(n, p / p.sum())
                current = CurrentColumn(count=n, nulls=0, cells=tuple(int(c) for c in counts))
                result = judge(reference, current)
                warns += result.status == "warn"
                fails += result.status == "fail"
                largest = max(largest, float(result.metrics["beyond_noise"]))
            cells.append(f"{warns} / {fails} of {runs} ({largest:.3f})")
        rows.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr)
    return rows, trials


# ------------------------------------------------------------------------------ report


def report(quick: bool, seed: int) -> str:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    header = "| shift | " + " | ".join(label(n) for n in SIZES) + " |"
    rule = "|---|" + "---|" * len(SIZES)
    numeric_method = DEFAULT_METHODS["numeric"]
    category_method = DEFAULT_METHODS["categorical"]
    nw, nf = THRESHOLDS[numeric_method]
    cw, cf = THRESHOLDS[category_method]
    numbers = numeric_power(rng, quick)
    categories = category_power(rng, quick)
    alarms, trials = false_alarms(rng, quick)
    seconds = time.perf_counter() - started
    reps = ", ".join(f"{label(n)}: {repeats(n, quick)}" for n in SIZES)
    lines = [
        "# Drift detection power",
        "",
        "Produced by `.venv/bin/python benchmarks/drift_power.py"
        + (" --quick" if quick else "")
        + f"` (seed {seed}, {seconds:.0f} s).",
        "Default methods and thresholds. Each cell: the verdicts over repeated draws",
        f"(per size: {reps}) and the median statistic.",
        "",
        f"## Numbers: {numeric_method} (warn {nw:g}, fail {nf:g}), reference 1M rows of N(0, 1)",
        "",
        header,
        rule,
        *numbers,
        "",
        f"## Categories: {category_method} (warn {cw:g}, fail {cf:g}), reference 1M rows",
        "",
        "Shares US 50%, DE 30%, FR 15%, UK 5%; the other categories keep their proportions",
        "when one moves or a new one appears.",
        "",
        header,
        rule,
        *categories,
        "",
        "## False alarms over healthy resamples",
        "",
        "Warns / fails out of the draws, and the largest statistic beyond sampling noise",
        f"seen (warn thresholds: {numeric_method} {nw:g}, {category_method} {cw:g}). Each draw",
        "is a multinomial histogram of n fresh values from the true distribution over the",
        "reference's cells; references are samples of the truth, so their noise counts too",
        f"({trials} draws per size; {trials // 5} with a new reference per draw).",
        "",
        "| healthy data | " + " | ".join(label(n) for n in SIZES) + " |",
        rule,
        *alarms,
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("DRIFT_POWER.md"))
    parser.add_argument("--quick", action="store_true", help="fewer draws (a smoke run)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    text = report(args.quick, args.seed)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
