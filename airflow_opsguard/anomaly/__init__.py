"""History checks' statistics: dataset metrics and robust statistics for ``anomaly`` and
``row_count_change`` checks. Pure: the validate step reads the history from the results
store and hands it over in the observations.

- :mod:`~airflow_opsguard.anomaly.metrics`: which metrics a run measures, and their values.
- :mod:`~airflow_opsguard.anomaly.robust`: median, MAD, robust z-scores, the biweight
  spread and Sen's slope.
- :mod:`~airflow_opsguard.anomaly.history`: the series a contract needs, as plain data.
- :mod:`~airflow_opsguard.anomaly.expected`: what a run is expected to be, from
  comparable earlier runs (scale, weekday, trend, spread, floor).

Judging a run against its history (the rules of the checks) is evaluation:
:mod:`airflow_opsguard.checks.history`.
"""

from __future__ import annotations
