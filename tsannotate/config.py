"""`[tool.tsannotate]` in pyproject.toml: defaults for flags, found from the model file up.

Keys: probe = "path.py:callable" (relative to the pyproject's directory), max-passes,
timeout; select / ignore = fix codes or prefixes ("TS004", "TS00"), ruff's way (ignore wins);
exclude = globs skipped when walking a directory (matched against the path relative to the
pyproject's directory, and against each file and directory name). A key tsannotate does not
know is an error naming it; CLI flags override.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from tsannotate.files import InputError

KNOWN = {"probe", "max-passes", "timeout", "select", "ignore", "exclude"}


@dataclass(frozen=True)
class Config:
    probe: str | None = None
    max_passes: int | None = None
    timeout: float | None = None
    select: tuple[str, ...] = ()  # fix codes or prefixes to propose (empty: all)
    ignore: tuple[str, ...] = ()  # fix codes or prefixes never to propose
    exclude: tuple[str, ...] = ()  # globs a directory walk skips
    source: Path | None = None  # the pyproject.toml it came from


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start`'s directory (or `start` itself, a directory) and up."""
    here = start.resolve()
    for directory in ([here] if here.is_dir() else []) + [here.parent, *here.parents]:
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
                  timeout=timeout, select=_codes(path, table, "select"), ignore=_codes(path, table, "ignore"),
                  exclude=_strings(path, table, "exclude"), source=path)


def _strings(path: Path, table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: [tool.tsannotate] {key} must be a list of strings, got {value!r}")
    return tuple(value)


def _codes(path: Path, table: dict[str, object], key: str) -> tuple[str, ...]:
    return check_codes(f"{path}: [tool.tsannotate] {key}", _strings(path, table, key))


def codes_flag(flag: str, values: list[str]) -> tuple[str, ...]:
    """`--select TS001,TS004 --select TS005`: commas or repeats."""
    return check_codes(flag, tuple(c.strip() for v in values for c in v.split(",") if c.strip()))


def check_codes(where: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    """Codes or prefixes of the fix codes; an unknown one is an error that names it."""
    from tsannotate.rules import CODES

    for code in codes:
        if not any(known.startswith(code.upper()) for known in CODES) or not code.upper().startswith("TS"):
            raise InputError(f"{where}: unknown fix code {code!r}; known codes: {', '.join(sorted(CODES))}")
    return tuple(c.upper() for c in codes)


def _number(path: Path, table: dict[str, object], key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InputError(f"{path}: [tool.tsannotate] {key} must be a positive number, got {value!r}")
    return float(value)
