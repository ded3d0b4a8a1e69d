"""``python -m seqpipe``: the command line."""

import sys

from seqpipe.cli import main

if __name__ == "__main__":
    sys.exit(main())
