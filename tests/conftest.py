"""Test-suite configuration shared by every test directory.

Hypothesis profiles: ``ci`` is derandomised (the same examples on every run, so a red CI run
is reproducible and a green one is not luck) and is chosen when ``CI`` is set, as ``.ci/run``
runs; ``dev`` (the default elsewhere) explores new examples each run and keeps its database.
``HYPOTHESIS_PROFILE`` overrides either. Neither has a deadline: a per-example time limit is
a timed assertion, and these machines are shared (a 5 ms example took 276 ms under load and
failed the suite). The variables are read here, when pytest collects
tests, never by the package.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
