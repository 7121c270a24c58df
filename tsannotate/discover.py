"""Which files a command works on: the files given, and the Python files under directories."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tsannotate.files import InputError

# Never descended into: environments, caches, VCS data, build output.
_SKIPPED_DIRS = {"__pycache__", "site-packages", "node_modules", "build", "dist"}


def _skipped(directory: Path) -> bool:
    name = directory.name
    return (name.startswith(".") or name in _SKIPPED_DIRS or name.endswith(".egg-info")
            or (directory / "pyvenv.cfg").exists())


def model_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given (checked later, one by one), and every `*.py` under each directory,
    sorted, skipping hidden directories, virtual environments and caches."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        under = [p for p in sorted(path.rglob("*.py"))
                 if not any(_skipped(path / d) for d in list(p.relative_to(path).parents)[:-1])]
        if not under:
            raise InputError(f"{path}: no Python files under it; pass a model file or a directory of them")
        found.extend(under)
    return list(dict.fromkeys(found))
