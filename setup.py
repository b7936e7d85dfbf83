"""The optional compiled hit path (issue 20); everything else is in pyproject.toml.

``scameter._speedups`` (``scameter/_speedups.c``, CPython C API, no dependency beyond the
Python headers) is built when a C compiler is found and skipped otherwise: ``optional=True``
turns a failed compile into a warning, so ``pip install .`` works on a machine with nothing
but Python and the package answers through its pure-Python path (docs/architecture.md,
"Dependencies").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scameter._speedups",
            sources=["scameter/_speedups.c"],
            optional=True,
        )
    ]
)
