"""What the user wrote is theirs: a rule may replace an annotation this run added from the
probe, never one the file already had."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from tsannotate.cli import app

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "float_stride_from_power"


def test_a_users_int_annotation_gets_advice_where_the_probes_would_be_widened(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    shutil.copyfile(CASE / "input.py", path)
    path.write_text(path.read_text().replace("    def decode(self, deltas, stride):",
                                             "    def decode(self, deltas, stride: int):"))
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["fix", str(path)])
    assert "def decode(self, deltas, stride: float)" not in result.stdout  # never widened
    assert "`stride` of BoxHead.decode is annotated int but passed a float in TorchScript" in result.stderr  # advice instead
    assert "convert at the call" in result.stderr
    assert path.read_bytes() == before
    # the same file without the user's annotation: the probe's int is ours, and becomes a float
    shutil.copyfile(CASE / "input.py", path)
    ours = CliRunner().invoke(app, ["fix", str(path)])
    assert "+    def decode(self, deltas, stride: float):" in ours.stdout
