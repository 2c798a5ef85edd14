"""Distribution drift's pure parts: profiles, statistics and what the checks compare.

- :mod:`.profile`: the :class:`Profile` model (versioned JSON);
- :mod:`.reference`: a loaded reference, or why there is none;
- :mod:`.observations`: the current data over the reference's cells;
- :mod:`.statistics`: PSI, Jensen-Shannon, Wasserstein, Cramér's V, sampling noise.

The verdicts are evaluation (:mod:`airflow_opsguard.checks.distribution`); the SQL that
profiles data and counts it over a reference's cells is the engines'
(:mod:`airflow_opsguard.engines.profiler`, :mod:`~airflow_opsguard.engines.drift_sql`,
:mod:`~airflow_opsguard.engines.drift_plan`); loading a reference is the pipeline's
(:func:`airflow_opsguard.baselines.reference_for`). Nothing here imports numpy at
import time.
"""

from __future__ import annotations
