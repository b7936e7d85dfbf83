"""``python -m scameter``: the same as the ``scameter`` command."""

import sys

from scameter.cli import main

if __name__ == "__main__":
    sys.exit(main())
