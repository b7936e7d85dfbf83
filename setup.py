"""The optional compiled hit path (issue 20); everything else is in pyproject.toml.

``scameter.index._speedups`` (``scameter/index/_speedups.c``, CPython C API, no dependency
beyond the Python headers) is built when a C compiler is found and skipped otherwise:
``optional=True`` turns a failed compile into a warning, so ``pip install .`` works on a
machine with nothing but Python, and the package then answers through its pure-Python path
(docs/architecture.md, "The compiled hit path").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scameter.index._speedups",
            sources=["scameter/index/_speedups.c"],
            optional=True,
        )
    ]
)
