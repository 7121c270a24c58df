"""The user's project: which files tsannotate may load afresh and edit.

A model's project root is the nearest directory above it holding `pyproject.toml`,
`setup.py`, `setup.cfg` or `.git`; without one, the directory its import name starts
from (the top of its package chain). A file is the project's own when it lies under
that root and not in a hidden directory (`.venv`, `.git`), a `site-packages` or
`dist-packages` directory, the running Python's installation, or tsannotate itself.
Only the project's own files are ever edited; an error elsewhere (torch, the standard
library, an installed package) is reported, never fixed.

Used by both sides: the CLI (what may be edited) and the worker (what is executed from
the pass's text rather than from disk). Stdlib only.
"""

from __future__ import annotations

import os
import sys
import sysconfig

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_EXCLUDED_PARTS = {"site-packages", "dist-packages", "__pycache__", "node_modules"}


def project_root(model_path: str) -> str:
    """The absolute project root of a model file (see the module docstring)."""
    model = os.path.abspath(model_path)
    directory = os.path.dirname(model)
    probe = directory
    while True:
        if any(os.path.exists(os.path.join(probe, m)) for m in MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    while os.path.isfile(os.path.join(directory, "__init__.py")):  # the top of its package chain
        directory = os.path.dirname(directory)
    return directory


def _installations() -> tuple[str, ...]:
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            places.add(path)
    return tuple(sorted(os.path.abspath(p) for p in places))


_INSTALLED = _installations()
_OWN_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def is_project_file(path: str, root: str) -> bool:
    """True when `path` is a Python file of the project under `root` (see the module docstring)."""
    path, root = os.path.abspath(path), os.path.abspath(root)
    if not path.endswith(".py") or os.path.commonpath([path, root]) != root:
        return False
    if os.path.commonpath([path, _OWN_PACKAGE]) == _OWN_PACKAGE:
        return False
    if any(_under(path, place) and not _under(root, place) for place in _INSTALLED):
        return False  # an installed package (a project inside a venv may still be edited)
    parts = os.path.relpath(path, root).split(os.sep)[:-1]
    return not any(p.startswith(".") or p in _EXCLUDED_PARTS for p in parts)


def _under(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives
        return False
