"""The whole loop on every golden case: input.py → expected.py, and expected.py → itself.

Real worker, real torch.jit.script; nothing about TorchScript is mocked. Set
TSANNOTATE_UPDATE_GOLDEN=1 to rewrite expected.py files for review in `git diff`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate.loop import Loop, Options
from tsannotate.records import Outcome
from tsannotate.worker import Worker

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "input.py").exists())


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def _fix(worker: Worker, case: Path, name: str, tmp_path: Path) -> Outcome:
    path = tmp_path / "model.py"
    shutil.copyfile(case / name, path)
    text = path.read_bytes().decode("utf-8")
    # A case whose `flags` file says --no-probe is fixed without running its probe: from
    # compiler errors and mypy's inferences (static evidence) alone.
    flags = (case / "flags").read_text().split() if (case / "flags").exists() else []
    return Loop(str(path), worker, Options(max_passes=10, no_probe="--no-probe" in flags)).run(text)


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_input_becomes_expected(worker: Worker, case: Path, tmp_path: Path) -> None:
    outcome = _fix(worker, case, "input.py", tmp_path)
    expected = (case / "expected.py").read_bytes().decode("utf-8")
    if os.environ.get("TSANNOTATE_UPDATE_GOLDEN") and outcome.scripts:
        (case / "expected.py").write_bytes(outcome.final.encode("utf-8"))
        expected = outcome.final
    assert outcome.load_error is None, outcome.load_error
    assert outcome.scripts, [d.message for d in outcome.remaining]
    assert outcome.final == expected


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_expected_is_left_alone(worker: Worker, case: Path, tmp_path: Path) -> None:
    """Run twice: the fixed file scripts, and a second run proposes nothing."""
    outcome = _fix(worker, case, "expected.py", tmp_path)
    assert outcome.scripts, [d.message for d in outcome.remaining]
    assert not outcome.changed
    assert outcome.passes == ()
