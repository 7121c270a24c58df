"""Constants the compiler names one per pass are fixed in one: the whole loop, real worker,
on golden cases (pass counts are what the golden test does not check)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate.loop import Loop, Options
from tsannotate.records import Outcome, Source
from tsannotate.worker import Worker

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def fix(worker: Worker, case: str, tmp_path: Path) -> Outcome:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / "input.py", path)
    return Loop(str(path), worker, Options()).run(path.read_text())


@pytest.mark.parametrize(("case", "constants"), [
    pytest.param("final_class_constant", ["PATCH", "SCALE"], id="two"),
    pytest.param("final_class_constants_one_pass", ["EPS", "CLIP", "PAD"], id="three-and-one-unread"),
])
def test_class_constants_take_one_pass(worker: Worker, case: str, constants: list[str], tmp_path: Path) -> None:
    outcome = fix(worker, case, tmp_path)
    assert outcome.scripts and len(outcome.passes) == 1
    assert [f.edit.attr for f in outcome.fixes] == constants  # type: ignore[union-attr]


@pytest.mark.parametrize(("case", "used"), [
    pytest.param("final_flag_on_in_probe", "self.proj(x)", id="None-when-off"),
    pytest.param("final_flag_on_submodule_only_if_on", "self.gate(x)", id="not-set-when-off"),
])
def test_flag_the_probe_turns_on_is_final_in_one_pass(worker: Worker, case: str, used: str, tmp_path: Path) -> None:
    """The model scripts as probed: nothing but the code says the flag must be a constant."""
    outcome = fix(worker, case, tmp_path)
    [fix_] = outcome.fixes
    assert outcome.scripts and len(outcome.passes) == 1
    lines = (CASES / case / "input.py").read_text().splitlines()
    assert fix_.evidence is Source.SOURCE and fix_.location is not None
    assert used in lines[fix_.location.line - 1]
