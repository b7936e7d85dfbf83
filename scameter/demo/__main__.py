"""``python -m scameter.demo``: rewrite the bundled sample (``scameter/data/sample/``).

Run it after a deliberate change to the generator or its tables, review the diff of
``reports.jsonl``, and commit both; ``tests/unit/demo/test_generator.py`` fails until the committed
files are what this writes.
"""

from scameter.demo.generator import bundled_sample_dir, write_bundled_sample

if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    write_bundled_sample(bundled_sample_dir())
