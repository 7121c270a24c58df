"""Starting the worker process, on the standard library alone.

The worker's start is its `import torch` (~1 s). The console script (entry.py) starts it
first thing, before its own imports (typer, libcst, mypy: ~0.5 s), so the two overlap on two
cores; the first `Worker` (worker/client.py) adopts that process instead of starting one.
This module imports nothing heavier than `subprocess` so that start is not delayed
(tsannotate.worker.client pulls in the records, ~25 ms). Every worker, early or not, starts
here; waiting for its "ready" and talking to it is the client's business.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile


class Process:
    """A started worker child: the process, the CLI's ends of its two pipes, and its log."""

    def __init__(self, python: str, log_path: str) -> None:
        self.python = python
        self.log_path = log_path
        try:
            self.offset = os.path.getsize(log_path)  # where this child's output begins in the log
        except OSError:
            self.offset = 0
        req_read, self.req_write = os.pipe()
        self.rep_read, rep_write = os.pipe()
        os.set_blocking(self.req_write, False)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONSAFEPATH="1")
        self.log = open(log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [python, "-m", "tsannotate.worker", str(req_read), str(rep_write)],
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(req_read, rep_write),
                start_new_session=True,  # own process group: a timeout kills user subprocesses too
                env=env,
            )
        except BaseException:
            for fd in (self.req_write, self.rep_read):
                os.close(fd)
            self.log.close()
            raise
        finally:
            os.close(req_read)
            os.close(rep_write)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        self.close_fds()

    def close_fds(self) -> None:
        for fd in (self.req_write, self.rep_read):
            try:
                os.close(fd)
            except OSError:
                pass
        self.req_write = self.rep_read = -1
        self.log.close()


def new_log() -> str:
    """A fresh, empty log file for a worker's stdout and stderr."""
    fd, path = tempfile.mkstemp(prefix="tsannotate-worker-", suffix=".log")
    os.close(fd)
    return path


_early: Process | None = None


def start_early(python: str = sys.executable) -> None:
    """Start a worker now for the next `Worker` to adopt. One that no Worker adopts (the
    command failed before it needed one) is killed at exit, and its log removed."""
    global _early
    if _early is not None:
        return
    log = new_log()
    try:
        _early = Process(python, log)
    except OSError:  # the Worker will try again, and say why it cannot
        _unlink(log)
        return
    atexit.register(_drop_early)


def take_early(python: str) -> Process | None:
    """The worker started early for `python`, now the caller's to wait for and to close."""
    global _early
    early = _early
    if early is None or early.python != python:
        return None
    _early = None
    return early


def _drop_early() -> None:
    global _early
    early, _early = _early, None
    if early is not None:
        early.kill()
        _unlink(early.log_path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
