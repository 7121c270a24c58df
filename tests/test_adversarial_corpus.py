"""The adversarial corpus (fixtures/adversarial/): models in the style of popular code that nobody
tuned the rules on. Real CLI, real worker, real torch.jit.script: `fix --apply` exits as
expected.json says (0: scripts and verifies; 1: still fails, with the fixes found written), never
with an internal error, and a second run changes nothing."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "adversarial"
EXPECTED: dict[str, bool] = json.loads((CORPUS / "expected.json").read_text())["scripts_after_fix"]


def test_every_model_has_an_expectation() -> None:
    models = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*.py")}
    assert models == set(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_fix_apply_on_the_corpus(model: str, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    shutil.copyfile(CORPUS / model, path)
    runner = CliRunner()
    first = runner.invoke(app, ["fix", str(path), "--apply"])
    assert "internal error" not in first.stderr and "Traceback" not in first.stderr, first.stderr
    assert first.exit_code == (0 if EXPECTED[model] else 1), first.stderr[-2000:]
    after = path.read_text()
    ast.parse(after)
    second = runner.invoke(app, ["fix", str(path), "--apply"])
    assert second.exit_code == first.exit_code and path.read_text() == after, second.stderr[-2000:]
