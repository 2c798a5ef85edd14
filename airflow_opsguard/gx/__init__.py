"""The Great Expectations bridge: GX suites run inside our gates, and contracts convert
to and from GX suites.

- :mod:`.suites`: suite files and mappings read and checked (GX imported to build them);
- :mod:`.runner`: a suite run through GX on the gate's data (pandas or SQL);
- :mod:`.results`: GX expectation results as our check results (pure);
- :mod:`.mapping`: expectations and contract checks mapped onto each other (pure, no GX);
- :mod:`.convert`: ``opsguard export-gx`` and ``opsguard import-gx``.

Great Expectations is imported only when a contract names a suite or a suite is
converted, so a gate without one never pays its import time.
"""

from __future__ import annotations
