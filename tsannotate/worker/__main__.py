"""`python -m tsannotate.worker REQUEST_FD REPLY_FD`: the worker process (see main.py)."""

import sys

from tsannotate.worker.main import main

sys.exit(main(sys.argv[1:]))
