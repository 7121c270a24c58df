"""Run a saved TorchScript model from C++, with no Python in the process.

The runner (`cpp_runner.cpp`) is compiled once per torch version and runner source,
against the headers and libraries inside the installed torch wheel, with g++ directly
(no CMake), and cached under ~/.cache/tsannotate (or $XDG_CACHE_HOME/tsannotate).
Inputs go in, and outputs come back, as `torch.save` zip archives, which
`torch::jit::pickle_load` / `pickle_save` read and write on the C++ side.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

SOURCE = Path(__file__).with_name("cpp_runner.cpp")
ERROR_PREFIX = "error: "


class CppUnavailable(Exception):
    """The runner cannot be built or run here; the message says why, for people."""


@dataclass
class CppError:
    """forward() threw inside the C++ runner."""

    message: str


def cache_dir(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tsannotate"


def build_runner(directory: str | None = None, timeout: float = 900.0) -> Path:
    """The runner executable, compiled now if this torch version has none cached."""
    compiler = shutil.which(os.environ.get("CXX") or "g++") or shutil.which("c++")
    if compiler is None:
        raise CppUnavailable("no C++ compiler found (g++ or c++ on PATH, or $CXX); install g++ "
                             "to run the saved model from C++")
    source = SOURCE.read_bytes()
    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    key = hashlib.sha256(source + f"{torch.__version__}|{abi}|{compiler}".encode()).hexdigest()[:12]
    target = cache_dir(directory) / f"cpp-runner-torch{torch.__version__}-{key}"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    from torch.utils import cpp_extension

    target.parent.mkdir(parents=True, exist_ok=True)
    libs = cpp_extension.library_paths()
    command = [compiler, "-std=c++17", "-O1", "-w", f"-D_GLIBCXX_USE_CXX11_ABI={abi}", str(SOURCE)]
    command += [f"-I{p}" for p in cpp_extension.include_paths()]
    command += [f"-L{p}" for p in libs] + [f"-Wl,-rpath,{p}" for p in libs]
    fd, partial = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
    os.close(fd)
    command += ["-ltorch", "-ltorch_cpu", "-lc10", "-o", partial]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.unlink(partial)
        raise CppUnavailable(f"building the C++ runner took longer than {timeout:g} s") from None
    if done.returncode != 0:
        os.unlink(partial)
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise CppUnavailable(f"building the C++ runner against torch {torch.__version__} failed "
                             f"({compiler}):\n{tail}")
    os.chmod(partial, 0o755)
    os.replace(partial, target)
    return target


def run(runner: Path, model: bytes, inputs: list[tuple[Any, ...]],
        timeout: float = 300.0) -> list[Any]:
    """forward() of the saved `model` on each input, from C++: outputs, or CppError."""
    with tempfile.TemporaryDirectory(prefix="tsannotate-cpp-") as tmp:
        model_path, in_path, out_path = (os.path.join(tmp, n) for n in ("model.pt", "in.pt", "out.pt"))
        with open(model_path, "wb") as f:
            f.write(model)
        buffer = io.BytesIO()
        try:
            torch.save(list(inputs), buffer, _use_new_zipfile_serialization=True)
        except Exception as exc:
            raise CppUnavailable(f"the probe inputs cannot be passed to C++: {exc}") from None
        with open(in_path, "wb") as f:
            f.write(buffer.getvalue())
        try:
            done = subprocess.run([str(runner), model_path, in_path, out_path],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CppUnavailable(f"the C++ runner did not finish within {timeout:g} s") from None
        if done.returncode != 0:
            why = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
            raise CppUnavailable(f"the C++ runner failed: {why[0]}")
        outputs = torch.load(out_path, weights_only=False)
    return [CppError(_last_line(o[len(ERROR_PREFIX):]))
            if isinstance(o, str) and o.startswith(ERROR_PREFIX) else o for o in outputs]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
