"""Distribution drift against a reference: profiles, statistics and verdicts.

- :mod:`.profile`: the :class:`Profile` model (versioned JSON);
- :mod:`.profiler`: profiles computed by the engines (DuckDB, SQL pushdown);
- :mod:`.aggregates`: histograms, category counts and quantiles in SQLAlchemy Core;
- :mod:`.reference`: loading a contract's reference (I/O, in the engine step);
- :mod:`.measure`: the current data over the reference's cells, in the plan's scan;
- :mod:`.statistics`: PSI, Jensen-Shannon, Wasserstein, Cramér's V, sampling noise;
- :mod:`.evaluation`: pure verdicts that do not cry wolf.

Nothing here imports numpy, pandas or DuckDB at import time.
"""

from __future__ import annotations
