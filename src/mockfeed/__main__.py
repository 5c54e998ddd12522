"""``python -m mockfeed``: see :mod:`mockfeed.cli`."""

import sys

from mockfeed.cli import main

sys.exit(main())
