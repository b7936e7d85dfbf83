"""Write docs/openapi.json from the proto descriptors (``--check``: exit 1 when it is stale).

    .venv/bin/python scripts/gen_openapi.py           rewrite docs/openapi.json
    .venv/bin/python scripts/gen_openapi.py --check   compare only

The document is :func:`scameter.rpc.openapi.openapi_document`, the one the server serves at
``/openapi.json``; ``tests/integration/test_http.py`` fails when the committed file differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scameter.rpc.openapi import dumps, openapi_document

TARGET = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def main(argv: list[str]) -> int:
    text = dumps(openapi_document())
    if "--check" in argv:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale: run python scripts/gen_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
