"""Length-prefixed pickled frames over a pair of pipes (stdlib only: both sides use it).

The worker's stdout and stderr belong to user code (prints, torch warnings), so the
two processes talk over dedicated pipe file descriptors instead. A frame is an
8-byte big-endian length followed by that many bytes of pickle.
"""

from __future__ import annotations

import io
import os
import pickle
import select
import struct
import time

_HEADER = struct.Struct(">Q")
_CHUNK = 1 << 16


class ChannelClosed(Exception):
    """The other end closed its pipe (or died) before a whole frame arrived."""


class ChannelTimeout(Exception):
    """No whole frame arrived (or could be written) before the deadline."""


class ForbiddenGlobal(pickle.UnpicklingError):
    """A frame named a class outside the allowed modules (it would import them)."""


class _Restricted(pickle.Unpickler):
    def __init__(self, data: bytes, modules: frozenset[str]) -> None:
        super().__init__(io.BytesIO(data))
        self.modules = modules

    def find_class(self, module: str, name: str) -> object:
        if module not in self.modules:
            raise ForbiddenGlobal(f"{module}.{name}")
        return super().find_class(module, name)


def _wait(fd: int, deadline: float | None, *, write: bool) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ChannelTimeout()
    ready = select.select([], [fd], [], remaining) if write else select.select([fd], [], [], remaining)
    if not (ready[1] if write else ready[0]):
        raise ChannelTimeout()


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    parts: list[bytes] = []
    missing = size
    while missing:
        _wait(fd, deadline, write=False)
        chunk = os.read(fd, min(missing, _CHUNK))
        if not chunk:
            raise ChannelClosed()
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        _wait(fd, deadline, write=True)
        try:
            written = os.write(fd, view[:_CHUNK])
        except BlockingIOError:
            continue
        except BrokenPipeError as exc:
            raise ChannelClosed() from exc
        view = view[written:]


def send(fd: int, obj: object, deadline: float | None = None) -> None:
    """Write one frame holding `obj`; `deadline` is a `time.monotonic()` value."""
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _HEADER.pack(len(body)) + body, deadline)


def receive(fd: int, deadline: float | None = None, modules: frozenset[str] | None = None) -> object:
    """Read one frame and unpickle it; raises ChannelClosed on EOF, ChannelTimeout.

    With `modules`, only classes from those modules may appear in the frame (the CLI
    side uses this so that a stray torch object can never import torch there).
    """
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    data = _read_exactly(fd, size, deadline)
    if modules is None:
        return pickle.loads(data)
    return _Restricted(data, modules).load()
