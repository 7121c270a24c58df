"""docs/json.md is the contract for `--format json`: real output of fix, check and verify is checked
against its tables both ways (every field documented with its type; every documented field seen)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tsannotate import report, verify_report
from tsannotate.cli import app
from tsannotate.records import (
    Diagnostic,
    DiagnosticKind,
    Fix,
    LoadError,
    LoadFailure,
    Location,
    Outcome,
    PassRecord,
    PythonCall,
    Safety,
    VerifyReport,
)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "json.md"
Tables = dict[str, dict[str, str]]  # "$.fixes[]" -> field -> type


def documented() -> dict[str, Tables]:
    """The doc's tables per section ("fix and check", "verify"), keyed by the paths in their headings."""
    sections: dict[str, Tables] = {}
    section: Tables = {}
    paths: list[str] = []
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = sections.setdefault(line[3:].strip(), {})
        elif line.startswith("### "):
            paths = re.findall(r"`(\$[^`]*)`", line)
            for path in paths:
                section[path] = {}
        elif line.startswith("| `") and paths:
            cells = [c.strip() for c in line.strip("|").split("|")]
            for path in paths:
                section[path][cells[0].strip("`")] = cells[1]
    return sections


def _type_ok(value: Any, spec: str) -> bool:
    for alt in spec.replace("(optional)", "").strip().split(" or "):
        alt = alt.strip()
        if alt.startswith("array of "):
            if isinstance(value, list) and all(_type_ok(v, alt[len("array of "):]) for v in value):
                return True
        elif {"string": isinstance(value, str), "boolean": isinstance(value, bool),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, (int, float)) and not isinstance(value, bool),
              "null": value is None, "object": isinstance(value, dict)}[alt]:
            return True
    return False


def validate(value: Any, tables: Tables, path: str = "$", seen: set[tuple[str, str]] | None = None) -> None:
    """Every key of every object is documented under its path, with a matching type;
    every field not marked optional is there. Records (path, field) pairs seen."""
    seen = set() if seen is None else seen
    assert path in tables, f"{path}: an object docs/json.md does not describe"
    table = tables[path]
    assert set(value) <= set(table), f"{path}: undocumented fields {sorted(set(value) - set(table))}"
    missing = {k for k, spec in table.items() if "(optional)" not in spec} - set(value)
    assert not missing, f"{path}: documented fields missing from the output: {sorted(missing)}"
    for key, item in value.items():
        assert _type_ok(item, table[key]), f"{path}.{key} = {item!r} is not {table[key]}"
        seen.add((path, key))
        if isinstance(item, dict):
            validate(item, tables, f"{path}.{key}", seen)
        elif isinstance(item, list):
            for element in item:
                if isinstance(element, dict):
                    validate(element, tables, f"{path}.{key}[]", seen)


BACKED_OUT = """\
import torch
from torch import nn


def scale(x, f):
    return x * f


class A(nn.Module):
    def forward(self, x):
        return scale(x, 2.0)


class B(nn.Module):
    def forward(self, x):
        return scale(x, torch.ones(3, 3))


def probe():
    x = torch.ones(3, 3)
    return [(A(), [(x,)]), (B(), [(x,)])]
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Real `--format json` output: fix (fixes, advice, decorated methods, passes; a backed-out
    fix), check over a directory (diagnostics; an array), verify --trace (checks, a hazard)."""
    tmp = tmp_path_factory.mktemp("json")
    runner = CliRunner()
    flags = tmp / "flags.py"
    shutil.copyfile(ROOT / "examples" / "config_flags.py", flags)
    backed = tmp / "backed.py"
    backed.write_text(BACKED_OUT)
    models = tmp / "models"
    models.mkdir()
    shutil.copyfile(ROOT / "fixtures" / "cases" / "param_int_range" / "input.py", models / "broken.py")
    shutil.copyfile(ROOT / "fixtures" / "cases" / "already_scriptable" / "input.py", models / "fine.py")
    runs = {"fix": [["fix", str(flags), "--format", "json"], ["fix", str(backed), "--format", "json"]],
            "check": [["check", str(models), "--format", "json"]],
            "verify": [["verify", str(ROOT / "examples" / "traced_length.py"), "--trace", "--format", "json"]]}
    out: dict[str, list[Any]] = {}
    for kind, commands in runs.items():
        for args in commands:
            result = runner.invoke(app, args)
            assert result.exit_code in (0, 1), result.stderr
            data = json.loads(result.stdout)
            out.setdefault(kind, []).extend(data if isinstance(data, list) else [data])
    return out


def _rendered() -> tuple[list[Any], list[Any]]:
    """What no cheap real run shows: an error object, held-back advice, a call back into Python."""
    loc = Location("/abs/m.py", 3, 4)
    fix = Fix("TS008", "decorate Net.noise with @torch.jit.ignore", "random", None, Safety.NEEDS_DECISION, loc)
    outcome = Outcome("/abs/m.py", "x", "x", False, passes=(PassRecord(1, (), (), (fix,), 0.1),),
                      remaining=(Diagnostic(DiagnosticKind.UNKNOWN, "boom"),), advice=(fix,),
                      load_error=LoadError(LoadFailure.IMPORT, "m.py: ImportError"))
    verify = VerifyReport(python_calls=(PythonCall("Net.noise", loc), PythonCall("Net.other")))
    return [json.loads(report.to_json(outcome, written=False))], [json.loads(verify_report.to_json(verify, "m.py"))]


def test_fix_and_check_output_matches_the_doc(outputs: dict[str, list[Any]]) -> None:
    tables = documented()["fix and check"]
    seen: set[tuple[str, str]] = set()
    fix_check, _ = _rendered()
    for data in outputs["fix"] + outputs["check"] + fix_check:
        assert data["schema"] == 1
        validate(data, tables, seen=seen)
    assert any(d["backed_out"] for d in outputs["fix"]) and len(outputs["check"]) == 2
    unseen = {(p, f) for p, fields in tables.items() for f in fields} - seen
    assert not unseen, f"documented but never produced: {sorted(unseen)}"


def test_verify_output_matches_the_doc(outputs: dict[str, list[Any]]) -> None:
    tables = documented()["verify"]
    seen: set[tuple[str, str]] = set()
    _, verify = _rendered()
    for data in outputs["verify"] + verify:
        assert data["schema"] == 1
        validate(data, tables, seen=seen)
    unseen = {(p, f) for p, fields in tables.items() for f in fields} - seen
    assert not unseen, f"documented but never produced: {sorted(unseen)}"


def test_validator_catches_drift() -> None:
    tables = documented()["fix and check"]
    [data], _ = _rendered()
    with pytest.raises(AssertionError, match="undocumented fields"):
        validate({**data, "surprise": 1}, tables)
    with pytest.raises(AssertionError, match="missing from the output"):
        validate({k: v for k, v in data.items() if k != "scripts"}, tables)
    with pytest.raises(AssertionError, match="is not integer"):
        validate({**data, "schema": "1"}, tables)
