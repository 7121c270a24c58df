"""Reading and writing the user's model file — carefully.

The file is read once as bytes (so the newline style and encoding are known exactly),
and written at most once, atomically: a temp file in the same directory, fsynced, with
the original mode, then `os.replace`. Never if the file changed on disk meanwhile, never
text that fails to parse.
"""

from __future__ import annotations

import ast
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class InputError(Exception):
    """Bad input: one line for people, saying what is wrong and what to do (exit code 2)."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str
    digest: str  # sha256 of the bytes read


def _digest(data: bytes) -> str:
    import hashlib  # here, not at the top: the CLI imports this module for `--help` too

    return hashlib.sha256(data).hexdigest()


def read_source(path: Path) -> SourceFile:
    if not path.exists():
        raise InputError(f"{path}: no such file; pass the path of a Python model file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; pass a model file (e.g. {path}/model.py)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path and permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
            "re-encode the file as UTF-8") from None
    return SourceFile(path, text, _digest(data))


def check_parses(path: Path, text: str) -> None:
    """Raise InputError when `text` is not valid Python."""
    try:
        ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise InputError(
            f"{path}:{exc.lineno}:{exc.offset or 0}: SyntaxError: {exc.msg}; "
            "fix the syntax error first") from None


def write_atomic(original: SourceFile, new_text: str) -> None:
    """Replace the file with `new_text`, only if it still holds what was read."""
    path = original.path
    check_parses(path, new_text)
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it back before writing ({exc.strerror}); nothing written") from None
    if _digest(current) != original.digest:
        raise InputError(f"{path}: changed on disk while tsannotate ran; nothing written — run it again")
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):  # root ignores access bits
        raise InputError(f"{path}: file is read-only; make it writable (chmod u+w) or run without --apply")
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tsannotate", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sweep_orphans(path)


_ORPHAN_AGE = 60.0  # seconds: a write takes milliseconds, so an older temp file's writer is gone


def _sweep_orphans(path: Path) -> None:
    """Remove the temp files a killed earlier write of `path` left beside it (SIGKILL, power
    loss): `.NAME.<random>.tsannotate`, older than a minute, so a concurrent run's is spared."""
    import glob
    import time

    now = time.time()
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tsannotate"):
        try:
            if now - stale.lstat().st_mtime > _ORPHAN_AGE and stale.is_file() and not stale.is_symlink():
                stale.unlink()
        except OSError:  # gone already, or not ours to remove: leave it
            pass
