"""``python -m retrieval.ml``: see :mod:`retrieval.ml.cli`."""

import sys

from retrieval.ml.cli import main

if __name__ == "__main__":
    sys.exit(main())
