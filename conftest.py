"""Runs the README's examples as tests (Sybil), so the tour never goes stale.

Only ``README.md`` is collected. Three kinds of region are executed, in document order, in one
temporary working directory per document:

* ``<!-- file: NAME -->`` followed by a fenced block: the block's text is written to ``NAME``.
* ```` ```console ```` blocks: each ``$ command`` line runs and its output (stdout and stderr,
  as a terminal would interleave them) must match the lines that follow it. ``scameter ...``
  runs in-process through :func:`scameter.cli.main`; ``cat FILE``, ``echo $?`` and
  ``export NAME=VALUE`` behave as in a shell. In expected output, ``...`` inside a line matches
  any text and a line that is only ``...`` matches any number of lines (for ids and times).
* ```` ```python ```` blocks: doctests (Sybil's own parser), with the environment and working
  directory the console blocks before them left, so they read the snapshots those built.

The first ```` ```sh ```` block (the install commands ``.ci/run`` executes) is never run here.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

_FILE = re.compile(
    r"<!-- file: (?P<name>[\w./-]+) -->\s*\n```[^\n]*\n(?P<body>.*?)^```", re.M | re.S
)
_CONSOLE = re.compile(r"^```console\n(?P<body>.*?)^```", re.M | re.S)


def _expected_regex(lines: list[str]) -> re.Pattern[str]:
    parts = []
    for line in lines:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*".join(re.escape(p) for p in line.rstrip().split("...")) + r"\n")
    return re.compile("".join(parts))


def _run(command: str, ns: dict[str, Any]) -> str:
    from scameter.cli import main

    argv = shlex.split(command)
    if argv[:1] == ["echo"] and argv[1:] == ["$?"]:
        return f"{ns['status']}\n"
    if argv[:1] == ["cat"]:
        return "".join(Path(a).read_text(encoding="utf-8") for a in argv[1:])
    if argv[:1] == ["export"]:
        name, _, value = argv[1].partition("=")
        os.environ[name] = value
        return ""
    if argv[:1] != ["scameter"]:
        raise ValueError(
            f"README console blocks may only run scameter, cat, echo, export: {command}"
        )
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        ns["status"] = main(argv[1:])
    return out.getvalue()


def _evaluate_console(example: Example) -> str | None:
    ns = example.namespace
    body: str = example.parsed
    commands: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    for command, expected in commands:
        actual = "\n".join(x.rstrip() for x in _run(command, ns).splitlines())
        actual = actual + "\n" if actual else ""
        if not _expected_regex(expected).fullmatch(actual):
            return (
                f"$ {command}\n--- expected ---\n"
                + "\n".join(expected)
                + "\n--- got ---\n"
                + actual
            )
    return None


def _evaluate_file(example: Example) -> None:
    name, body = example.parsed
    Path(name).write_text(body, encoding="utf-8")


def _parse(document: Document) -> Iterator[Region]:
    regions = [
        Region(m.start(), m.end(), (m["name"], m["body"]), _evaluate_file)
        for m in _FILE.finditer(document.text)
    ]
    regions += [
        Region(m.start(), m.end(), m["body"], _evaluate_console)
        for m in _CONSOLE.finditer(document.text)
    ]
    yield from sorted(regions, key=lambda r: r.start)


def _setup(ns: dict[str, Any]) -> None:
    ns["saved_env"] = dict(os.environ)
    ns["saved_cwd"] = os.getcwd()
    ns["tmp"] = tempfile.TemporaryDirectory(prefix="scameter-readme-")
    os.chdir(ns["tmp"].name)
    for name in [n for n in os.environ if n.startswith("SCAMETER_")]:
        del os.environ[name]
    os.environ["SCAMETER_DATA_DIR"] = str(Path(ns["tmp"].name) / "data")
    os.environ["NO_COLOR"] = "1"
    ns["status"] = 0


def _teardown(ns: dict[str, Any]) -> None:
    os.chdir(ns["saved_cwd"])
    os.environ.clear()
    os.environ.update(ns["saved_env"])
    ns["tmp"].cleanup()


pytest_collect_file = Sybil(
    parsers=[_parse, PythonCodeBlockParser()],
    patterns=["README.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
