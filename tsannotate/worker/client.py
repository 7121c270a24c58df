"""The CLI side of the worker: start `python -m tsannotate.worker`, send requests, survive crashes.

This module must never import torch, not even indirectly: it imports only the
standard library, `tsannotate.records`, `tsannotate.spawn` and `tsannotate.worker.protocol`.

One child process lives across requests, so a run pays for `import torch` once. The
child's stdout/stderr (user prints, torch warnings, faulthandler dumps) go to a
temporary log file; requests and replies travel over two dedicated pipes. When the
child dies or runs past the timeout, `script` returns a report with a CRASH or
TIMEOUT load error and the next request starts a fresh child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import TracebackType

from tsannotate import spawn
from tsannotate.records import (
    LoadError,
    LoadFailure,
    ScriptReport,
    ScriptRequest,
    VerifyReport,
    VerifyRequest,
)
from tsannotate.worker import protocol

_TAIL_LINES = 40
_TAIL_CHARS = 6000
# What a reply may be made of: records, and the builtins and copyreg helpers pickle uses.
# Anything else (a stray torch object) is refused rather than imported here.
REPLY_MODULES = frozenset({"tsannotate.records", "builtins", "copyreg"})


class _Child:
    """One running worker process and its pipes, once it has said it is ready."""

    def __init__(self, python: str, log_path: str, startup_timeout: float,
                 started: spawn.Process | None = None) -> None:
        self.process = started if started is not None else spawn.Process(python, log_path)
        self.proc = self.process.proc
        self.req_write, self.rep_read = self.process.req_write, self.process.rep_read
        try:
            hello = protocol.receive(self.rep_read, time.monotonic() + startup_timeout, REPLY_MODULES)
            if not (isinstance(hello, tuple) and hello[:1] == ("ready",)):
                raise protocol.ChannelClosed()
        except BaseException:
            self.kill()
            raise

    def kill(self) -> None:
        self.process.kill()

    def stop(self, grace: float = 2.0) -> None:
        """Close the request pipe (the child exits on EOF); kill it if it lingers."""
        self.process.close_fds()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def exit_status(self, wait: float = 2.0) -> int | None:
        try:
            return self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            return None


class Worker:
    """Scripts requests in a long-lived child process; never raises for user-model trouble."""

    def __init__(self, timeout: float = 120.0, python: str = sys.executable) -> None:
        self.timeout = timeout
        self.python = python
        self.startup_timeout = max(timeout, 120.0)  # `import torch` can be slow on a cold disk
        # the process the console script started before its imports (spawn.py), if any
        self._early = spawn.take_early(python)
        self.log_path = self._early.log_path if self._early is not None else spawn.new_log()
        self._child: _Child | None = None
        self.starts = 0  # how many child processes this Worker has started

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def ready(self) -> bool:
        """Whether a child that said it is ready is running: the next request pays no start."""
        return self._child is not None and self._child.proc.poll() is None

    def start(self) -> LoadError | None:
        """Start the child now (it starts lazily otherwise); the error, if it could not."""
        if self._child is not None and self._child.proc.poll() is None:
            return None
        self._discard()
        early, self._early = self._early, None
        offset = early.offset if early is not None else self._log_size()
        try:
            self._child = _Child(self.python, self.log_path, self.startup_timeout, early)
        except protocol.ChannelTimeout:
            self._discard()
            return LoadError(
                LoadFailure.TIMEOUT,
                f"the tsannotate worker ({self.python}) did not start within "
                f"{self.startup_timeout:g} s; check that `import torch` works in that interpreter",
                self._tail(offset),
            )
        except (protocol.ChannelClosed, protocol.ForbiddenGlobal, OSError) as exc:
            self._discard()
            why = f"could not be started: {exc}" if isinstance(exc, OSError) else "exited while starting"
            return LoadError(
                LoadFailure.CRASH,
                f"the tsannotate worker ({self.python}) {why}; check that "
                f"`{self.python} -c 'import torch, tsannotate'` works",
                self._tail(offset),
            )
        self.starts += 1
        return None

    def close(self) -> None:
        if self._early is not None:  # adopted, never needed
            self._early.kill()
            self._early = None
        if self._child is not None:
            self._child.stop()
            self._child = None
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    def _discard(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None

    # ------------------------------------------------------------------ requests

    def script(self, request: ScriptRequest) -> ScriptReport:
        began = time.monotonic()
        reply = self._exchange(request, self.timeout, "loading or scripting")
        if isinstance(reply, LoadError):
            return ScriptReport(load_error=reply, seconds=time.monotonic() - began)
        if not isinstance(reply, ScriptReport):
            self._discard()
            return ScriptReport(load_error=_unexpected(reply), seconds=time.monotonic() - began)
        return reply

    def verify(self, request: VerifyRequest) -> VerifyReport:
        """Compare scripted, saved-and-loaded (and traced, C++) with eager; see worker/verify.py."""
        began = time.monotonic()
        timeout = self.timeout * (3 if request.trace else 2) + (900.0 if request.cpp else 0.0)
        reply = self._exchange(request, timeout, "verifying")
        if isinstance(reply, ScriptReport) and reply.load_error is not None:
            reply = reply.load_error  # the worker's own last-resort error reply
        if isinstance(reply, LoadError):
            return VerifyReport(load_error=reply, seconds=time.monotonic() - began)
        if not isinstance(reply, VerifyReport):
            self._discard()
            return VerifyReport(load_error=_unexpected(reply), seconds=time.monotonic() - began)
        return reply

    def _exchange(self, request: ScriptRequest | VerifyRequest, timeout: float,
                  doing: str) -> object:
        """The worker's reply to `request`, or a LoadError saying why there is none."""
        error = self.start()
        if error is not None:
            return error
        child = self._child
        assert child is not None
        offset = self._log_size()
        try:
            deadline = time.monotonic() + timeout
            protocol.send(child.req_write, request, deadline)
            return protocol.receive(child.rep_read, deadline, REPLY_MODULES)
        except protocol.ForbiddenGlobal as exc:
            self._discard()
            return LoadError(
                LoadFailure.CRASH,
                f"the worker's reply names {exc}, which the CLI side will not import; "
                "this is a tsannotate bug",
            )
        except protocol.ChannelTimeout:
            self._discard()
            return LoadError(
                LoadFailure.TIMEOUT,
                f"{doing.rpartition(' ')[2]} {request.model_path} did not finish within {timeout:g} s; "
                "pass --timeout or check the probe for an infinite loop",
                self._tail(offset),
            )
        except protocol.ChannelClosed:
            status = child.exit_status()
            self._discard()
            return LoadError(
                LoadFailure.CRASH,
                f"the worker {_describe_exit(status)} while {doing} "
                f"{request.model_path}; the model, the probe or torch crashed the process "
                "(see the details for its last output), so run the probe directly to debug it",
                self._tail(offset),
            )
        except BaseException:
            self._discard()  # KeyboardInterrupt mid-request: don't leave a busy child behind
            raise

    # ------------------------------------------------------------------ log

    def _log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def _tail(self, offset: int) -> str:
        """The child's output since `offset`, last lines only."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(offset, os.path.getsize(self.log_path) - 8 * _TAIL_CHARS))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = text.rstrip("\n").splitlines()[-_TAIL_LINES:]
        return "\n".join(lines)[-_TAIL_CHARS:]


def _unexpected(reply: object) -> LoadError:
    return LoadError(
        LoadFailure.CRASH,
        f"the worker sent an unexpected reply ({type(reply).__name__}); this is a tsannotate bug",
    )


def _describe_exit(status: int | None) -> str:
    if status is None:
        return "stopped answering"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"exited with code {status} (does the model or probe call os._exit?)"
