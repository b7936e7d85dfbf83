"""``python -m scameter.rpc``: run the server with the ``scameter serve`` flags."""

import sys

from scameter.rpc.server import main

sys.exit(main())
