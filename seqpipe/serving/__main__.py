"""``python -m seqpipe.serving MODEL...``: serve saved models over HTTP."""

import sys

from seqpipe.serving.server import main

if __name__ == "__main__":
    sys.exit(main())
