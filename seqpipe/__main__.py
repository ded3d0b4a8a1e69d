"""``python -m seqpipe``: the command line."""

import sys

from seqpipe.cli import main

sys.exit(main())
