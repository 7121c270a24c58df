"""`fix` on code that cannot compile: needs-decision fixes with their consequence, refactor advice,
the summary of methods left to Python, --annotations-only, and the same in JSON (CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
MIXED = '''\
import random

import torch
from torch import nn


class Head(nn.Module):
    def __init__(self, use_norm=False):
        super().__init__()
        self.use_norm = use_norm
        self.norm = nn.LayerNorm(4) if use_norm else None
        self.proj = nn.Linear(4, 4)

    def scale(self):
        return 1.0 + 0.0 * random.random()

    def forward(self, x):
        if self.use_norm:
            x = self.norm(x)
        return self.proj(x) * self.scale()


def probe():
    torch.manual_seed(0)
    return Head().eval(), [(torch.ones(2, 4),)]
'''


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _case(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / "input.py", path)
    return path


def test_review_shows_the_consequence_and_the_python_summary(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "ignore_random_helper")
    before = path.read_bytes()
    result = runner.invoke(app, ["fix", str(path)])
    assert result.exit_code == 1
    assert "+    @torch.jit.ignore\n+    def noise_scale(self) -> float:\n" in result.stdout
    assert "TS008 decorate JitteredEncoder.noise_scale with @torch.jit.ignore [needs-decision]" in result.stderr
    assert "the scripted model needs Python" in result.stderr and "cannot run from C++" in result.stderr
    lines = result.stderr.splitlines()
    assert "methods left out of compilation: the scripted model needs Python (1 ignored method)" in lines
    assert any(line.strip().startswith("JitteredEncoder.noise_scale  @torch.jit.ignore: stays Python") for line in lines)
    assert "would script after 1 fix in 1 pass" in lines[-1]
    assert path.read_bytes() == before


def test_apply_writes_and_lists_the_methods(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "unused_training_only")
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == (CASES / "unused_training_only" / "expected.py").read_bytes()
    assert "methods left out of compilation: the scripted model runs without Python" in result.stderr
    assert "AugmentedEncoder.augment  @torch.jit.unused: compiled as a stub that raises if reached" in result.stderr
    assert "now scripts: 1 fix in 1 pass; wrote" in result.stderr.splitlines()[-1]


def test_apply_with_an_ignored_method_writes_although_it_cannot_be_saved(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "ignore_random_helper")
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == (CASES / "ignore_random_helper" / "expected.py").read_bytes()
    assert "the scripted model needs Python (1 ignored method)" in result.stderr


def test_advice_names_the_line_and_the_refactor(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "unused_training_only")
    result = runner.invoke(app, ["fix", str(path)])
    lines = result.stderr.splitlines()
    at = lines.index("TS020 refactor: try/except [advice]")
    assert lines[at + 1].startswith("    at ") and "model.py:13:9: move the try/except out of compiled code" in lines[at + 1]


def test_annotations_only_holds_back_decisions(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(MIXED)
    result = runner.invoke(app, ["fix", str(path), "--apply", "--annotations-only"])
    assert result.exit_code == 1
    written = path.read_text()
    assert "    use_norm: Final[bool]\n" in written
    assert "@torch.jit.ignore" not in written
    assert "TS008 decorate Head.scale with @torch.jit.ignore [held back: --annotations-only]" in result.stderr
    assert "methods left out of compilation" not in result.stderr
    assert "still fails to script" in result.stderr.splitlines()[-1]


def test_without_the_flag_both_are_applied(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(MIXED)
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    written = path.read_text()
    assert "    use_norm: Final[bool]\n" in written and "    @torch.jit.ignore\n    def scale(self) -> float:" in written


def test_json_lists_decorated_methods_and_advice(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "ignore_random_helper")
    result = runner.invoke(app, ["fix", str(path), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["needs_python"] is True
    assert data["decorated"] == [{"function": "JitteredEncoder.noise_scale", "decorator": "torch.jit.ignore",
                                  "needs_python": True, "added": True}]
    assert [(a["code"], a["title"], a["line"]) for a in data["advice"]] == [
        ("TS020", "refactor: a Python library call", 17)]
    assert [f["safety"] for f in data["fixes"]] == ["needs-decision"]


def test_methods_the_file_already_leaves_out_are_listed(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "ignore_random_helper")
    path.write_text(path.read_text().replace("    def forward(self, x):", "    @torch.jit.unused\n    def debug_view(self, x):\n"
                                             "        return x\n\n    def forward(self, x):"))
    result = runner.invoke(app, ["fix", str(path)])
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert "JitteredEncoder.debug_view  @torch.jit.unused (already in the file): compiled as a stub that raises " \
           "if reached; no Python needed" in lines
    assert "methods left out of compilation: the scripted model needs Python (1 ignored method)" in lines



def test_annotations_only_finds_annotations_behind_held_back_fixes(runner: CliRunner, tmp_path: Path) -> None:
    """The compiler stops at the try/except in augment(); with the @torch.jit.unused held back
    from the written text but kept in the scripted one, the flag's error behind it is found
    and `Final` is written."""
    path = tmp_path / "model.py"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "examples" / "config_flags.py", path)
    result = runner.invoke(app, ["fix", str(path), "--apply", "--annotations-only"])
    assert result.exit_code == 1, result.stderr
    written = path.read_text()
    assert "    use_norm: Final[bool]\n" in written
    assert "@torch.jit.unused" not in written and "@torch.jit.ignore" not in written
    assert "TS009 decorate Tagger.augment with @torch.jit.unused [held back: --annotations-only]" in result.stderr
    assert "still fails to script" in result.stderr.splitlines()[-1]
