"""`python -m rootwatch` is the same as the `rootwatch` console script."""

import sys

from rootwatch.cli import main

sys.exit(main())
