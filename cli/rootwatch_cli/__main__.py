"""`python -m rootwatch_cli` is the same as the `rootwatch` console script."""

import sys

from rootwatch_cli import main

sys.exit(main())
