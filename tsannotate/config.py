"""`[tool.tsannotate]` in pyproject.toml: defaults for flags, found from the model file up.

Keys: probe = "path.py:callable" (relative to the pyproject's directory), max-passes,
timeout. A key tsannotate does not know is an error naming it; CLI flags override.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from tsannotate.files import InputError

KNOWN = {"probe", "max-passes", "timeout"}


@dataclass(frozen=True)
class Config:
    probe: str | None = None
    max_passes: int | None = None
    timeout: float | None = None
    source: Path | None = None  # the pyproject.toml it came from


def find_pyproject(start: Path) -> Path | None:
    for directory in [start.resolve().parent, *start.resolve().parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(model: Path) -> Config:
    path = find_pyproject(model)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc}); fix the file or remove [tool.tsannotate]") from None
    table = data.get("tool", {}).get("tsannotate", {})
    if not isinstance(table, dict):
        raise InputError(f"{path}: [tool.tsannotate] must be a table")
    unknown = sorted(set(table) - KNOWN)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} in [tool.tsannotate]; "
                         f"known keys: {', '.join(sorted(KNOWN))}")
    probe = table.get("probe")
    if probe is not None:
        if not isinstance(probe, str) or ":" not in probe:
            raise InputError(f"{path}: [tool.tsannotate] probe must be \"path.py:callable\", got {probe!r}")
        file, _, name = probe.rpartition(":")
        probe = f"{(path.parent / file).resolve()}:{name}"
    passes = _number(path, table, "max-passes")
    timeout = _number(path, table, "timeout")
    return Config(probe=probe, max_passes=int(passes) if passes is not None else None,
                  timeout=timeout, source=path)


def _number(path: Path, table: dict[str, object], key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InputError(f"{path}: [tool.tsannotate] {key} must be a positive number, got {value!r}")
    return float(value)
