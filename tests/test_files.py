"""The user's file: read exactly, written atomically and only when it is safe to."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tsannotate.files import InputError, check_parses, read_source, write_atomic


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_source(tmp_path / "nope.py")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        read_source(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.py"
    path.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8.*re-encode"):
        read_source(path)


def test_syntax_error_names_line() -> None:
    with pytest.raises(InputError, match=r"m.py:2:\d+: SyntaxError"):
        check_parses(Path("m.py"), "x = 1\ndef f(:\n")


def test_write_keeps_crlf_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\r\ny = 2\r\n")
    os.chmod(path, 0o640)
    source = read_source(path)
    assert source.text == "x = 1\r\ny = 2\r\n"
    write_atomic(source, "x: int = 1\r\ny = 2\r\n")
    assert path.read_bytes() == b"x: int = 1\r\ny = 2\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temp file left behind


def test_refuses_when_changed_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    source = read_source(path)
    path.write_text("x = 2  # someone else\n")
    with pytest.raises(InputError, match="changed on disk"):
        write_atomic(source, "x: int = 1\n")
    assert path.read_text() == "x = 2  # someone else\n"


def test_refuses_unparsable_text(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    source = read_source(path)
    with pytest.raises(InputError, match="SyntaxError"):
        write_atomic(source, "x = = 1\n")
    assert path.read_text() == "x = 1\n"


def test_refuses_read_only(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    os.chmod(path, 0o444)
    source = read_source(path)
    with pytest.raises(InputError, match="read-only"):
        write_atomic(source, "x: int = 1\n")
    assert path.read_text() == "x = 1\n"
