"""Which files a command works on: the files given, and the Python files under directories."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path

from tsannotate.config import load_config
from tsannotate.files import InputError

# Never descended into: environments, caches, VCS data, build output.
_SKIPPED_DIRS = {"__pycache__", "site-packages", "node_modules", "build", "dist"}


def _skipped(directory: Path) -> bool:
    name = directory.name
    return (name.startswith(".") or name in _SKIPPED_DIRS or name.endswith(".egg-info")
            or (directory / "pyvenv.cfg").exists())


def _excluded(path: Path, walked: Path, patterns: tuple[str, ...], root: Path) -> bool:
    """`exclude` globs: against the path relative to the pyproject's directory, or against any
    file or directory name below the directory walked (naming a directory still walks it)."""
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    names = path.relative_to(walked).parts
    return any(fnmatch(rel, g) or any(fnmatch(name, g) for name in names) for g in patterns)


def model_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given (checked later, one by one), and every `*.py` under each directory,
    sorted, skipping hidden directories, virtual environments, caches and what
    `exclude` in [tool.tsannotate] names (for a walk only: a file given by name is kept)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        config = load_config(path)
        root = config.source.parent if config.source else path.resolve()
        walked = [p for p in sorted(path.rglob("*.py"))
                  if not any(_skipped(path / d) for d in list(p.relative_to(path).parents)[:-1])]
        under = [p for p in walked if not _excluded(p, path, config.exclude, root)]
        if walked and not under:
            raise InputError(f"{path}: every Python file under it is excluded by `exclude` in {config.source}")
        if not under:
            raise InputError(f"{path}: no Python files under it; pass a model file or a directory of them")
        found.extend(under)
    return list(dict.fromkeys(found))
