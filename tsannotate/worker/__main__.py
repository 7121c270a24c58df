"""`python -m tsannotate.worker REQUEST_FD REPLY_FD`: the worker process (see main.py)."""

import os
import sys

from tsannotate.worker.main import main

status = main(sys.argv[1:])
# Skip the interpreter's teardown. With torch imported (and models scripted) it takes 0.5-1 s,
# which the client waits for at the end of every command, and all it would add is running the
# atexit hooks the user's code registered while being probed.
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
