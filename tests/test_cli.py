"""The command line through typer's CliRunner: exit codes, diff on stdout, messages on stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _case(tmp_path: Path, case: str, name: str = "input.py") -> Path:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / name, path)
    return path


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("tsannotate ")


def test_fix_reviews_without_writing(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "transformer_block")
    before = path.read_bytes()
    result = runner.invoke(app, ["fix", str(path)])
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/")
    assert "+    def forward(self, x, mask: Optional[torch.Tensor] = None):" in result.stdout
    assert "TS005 annotate parameter `temperature` of attention_scale as float" in result.stderr
    # the probe's runtime types find every fix in the first pass
    assert "model.py:57:1: the probe run passed `mask` as Optional[Tensor]" in result.stderr
    assert "would script after 7 fixes in 1 pass" in result.stderr.splitlines()[-1]
    assert path.read_bytes() == before


def test_reasons_cite_the_users_lines_in_later_passes(runner: CliRunner, tmp_path: Path) -> None:
    """Without a probe, fixes come from compiler errors (about one per pass) and mypy's
    inferences; a fix found in a late pass still cites the line of the file as the user has
    it, not of the pass's edited text."""
    path = _case(tmp_path, "transformer_block")
    path.write_text(path.read_text().replace("def probe():", "def not_a_probe():"))
    result = runner.invoke(app, ["fix", str(path)])
    assert result.exit_code == 1
    assert "model.py:57:1: `mask=None` compiles as a plain Tensor" in result.stderr
    assert "would script after 7 fixes in 4 passes" in result.stderr.splitlines()[-1]


def test_fix_apply_writes_expected_then_nothing(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "empty_dict_str_int")
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == (CASES / "empty_dict_str_int" / "expected.py").read_bytes()
    assert "now scripts: 1 fix in 1 pass; wrote" in result.stderr
    again = runner.invoke(app, ["fix", str(path), "--apply"])
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "already scripts" in again.stderr


def test_fix_on_scriptable_model_exits_zero(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "already_scriptable")
    result = runner.invoke(app, ["fix", str(path)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "already scripts; nothing to change" in result.stderr


def test_fix_json(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    result = runner.invoke(app, ["fix", str(path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["scripts"] is True and data["written"] is False
    assert [f["code"] for f in data["fixes"]] == ["TS002"]
    assert data["fixes"][0]["safety"] == "safe"


TWO_ERRORS = """\
import torch
from torch import nn


class Gate(nn.Module):
    def forward(self, x):
        g = None
        if x.sum() > 0:
            g = torch.sigmoid(x)
        return x if g is None else x * g


class Counter(nn.Module):
    def forward(self, x):
        sizes = []
        sizes.append(x.shape[0])
        return x * len(sizes)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.counter = Counter()

    def forward(self, x):
        return self.counter(self.gate(x))
"""


def test_check_lists_independent_errors_of_one_pass(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(TWO_ERRORS)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 2)[-2] for line in lines] == ["9", "16"], lines
    assert " TS002 Variable 'g' previously had type NoneType" in lines[0]
    assert " TS004 " in lines[1]
    assert all(line.startswith(str(path) + ":") for line in lines)
    assert "fails to script (2 errors)" in result.stderr


def test_check_json_and_clean_model(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "param_int_range")
    data = json.loads(runner.invoke(app, ["check", str(path), "--format", "json"]).stdout)
    assert data["scripts"] is False
    assert data["diagnostics"][0]["code"] == "TS005"
    assert data["diagnostics"][0]["line"] > 0
    clean = _case(tmp_path, "param_int_range", "expected.py")
    assert runner.invoke(app, ["check", str(clean)]).exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"def f(:\n", "SyntaxError", id="syntax-error"),
        pytest.param(b"import torch\nraise ValueError('boom')\n", "ValueError: boom", id="import-error"),
        pytest.param(b"x = 'caf\xe9'\n", "not UTF-8", id="not-utf8"),
        pytest.param(b"import torch\nx = 1\n", "no nn.Module", id="no-target"),
    ],
)
def test_bad_input_exits_2_and_leaves_file(runner: CliRunner, tmp_path: Path, content: bytes,
                                           message: str) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(content)
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert path.read_bytes() == content


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_unfixable_error_is_explained(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
        "    def forward(self, x, **kwargs):\n        return x\n")
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 1
    assert "model.py:6:" in result.stderr
    assert "TS020" in result.stderr and "needs a refactor" in result.stderr
    assert "still fails to script (1 error left)" in result.stderr


def test_interactive_reject_keeps_file(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    before = path.read_bytes()
    result = runner.invoke(app, ["fix", str(path), "--interactive", "--apply"], input="n\n")
    assert "Apply this fix?" in result.stderr
    assert result.exit_code == 1
    assert path.read_bytes() == before


def test_interactive_accept_writes(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    result = runner.invoke(app, ["fix", str(path), "--interactive", "--apply"], input="y\n")
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == (CASES / "optional_local_tensor" / "expected.py").read_bytes()


BREAKS_ANOTHER_TARGET = """\
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


def test_fix_that_breaks_another_target_is_backed_out(runner: CliRunner, tmp_path: Path) -> None:
    """`f: float` makes A compile, but B (which passes a Tensor) then fails when called:
    the fix is backed out, said so, and the file is not written."""
    path = tmp_path / "model.py"
    path.write_text(BREAKS_ANOTHER_TARGET)
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 1
    assert "backed out: TS005 annotate parameter `f` of scale as float" in result.stderr
    assert "A still fails to script (1 error left; B scripts)" in result.stderr  # not "A, B still fail"
    assert path.read_text() == BREAKS_ANOTHER_TARGET


def test_probe_in_another_file_sees_each_pass_and_is_never_edited(runner: CliRunner, tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    model = package / "model.py"
    shutil.copyfile(CASES / "optional_param_mask" / "input.py", model)
    probe_text = ("import torch\nfrom mypkg.model import probe as model_probe\n\n\n"
                  "def probe():\n    return model_probe()\n")
    probe_file = tmp_path / "tests_probe.py"
    probe_file.write_text(probe_text)
    result = runner.invoke(app, ["fix", str(model), "--apply", "--probe", f"{probe_file}:probe"])
    assert result.exit_code == 0, result.stderr
    assert model.read_bytes() == (CASES / "optional_param_mask" / "expected.py").read_bytes()
    assert probe_file.read_text() == probe_text


HANGS = """\
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        return x


def probe():
    while True:
        pass
"""

SEGFAULTS = """\
import ctypes
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        return x


def probe():
    ctypes.string_at(0)  # reads address 0: SIGSEGV
"""


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(HANGS, "did not finish within 3", id="probe-hangs"),
    pytest.param(SEGFAULTS, "SIGSEGV", id="segfault"),
])
def test_worker_trouble_exits_2_and_leaves_file(runner: CliRunner, tmp_path: Path, content: str,
                                                message: str) -> None:
    path = tmp_path / "model.py"
    path.write_text(content)
    result = runner.invoke(app, ["fix", str(path), "--apply", "--timeout", "3"])
    assert result.exit_code == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and message in first, first
    assert path.read_text() == content


def test_check_directory_checks_every_model_and_skips_other_files(runner: CliRunner, tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    shutil.copyfile(CASES / "param_int_range" / "input.py", models / "broken.py")
    shutil.copyfile(CASES / "already_scriptable" / "input.py", models / "sub" / "fine.py")
    (models / "helpers.py").write_text("def double(x):\n    return 2 * x\n")  # no model: skipped
    (models / ".hidden").mkdir()
    (models / ".hidden" / "bad.py").write_text("def f(:\n")  # never looked at
    result = runner.invoke(app, ["check", str(models)])
    assert result.exit_code == 1, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [str(models / "broken.py")]
    assert f"{models / 'sub' / 'fine.py'}: scripts" in result.stderr
    assert "helpers.py" not in result.stderr


def test_check_several_files_worst_exit_code_wins(runner: CliRunner, tmp_path: Path) -> None:
    good = _case(tmp_path, "already_scriptable")
    bad = tmp_path / "syntax.py"
    bad.write_text("def f(:\n")
    result = runner.invoke(app, ["check", str(good), str(bad), "--format", "json"])
    assert result.exit_code == 2
    [data] = json.loads(result.stdout)
    assert data["scripts"] is True
    assert "syntax.py:1" in result.stderr and "SyntaxError" in result.stderr


def test_check_directory_without_python_files(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "no Python files under it" in result.stderr


def test_check_directory_without_models(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "util.py").write_text("X = 1\n")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "no model to script" in result.stderr


def test_pre_commit_hook_entry_takes_filenames(runner: CliRunner, tmp_path: Path) -> None:
    """pre-commit runs the hook's entry with the staged files appended."""
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    entry = next(line.split(":", 1)[1].split() for line in hooks.splitlines() if line.strip().startswith("entry:"))
    assert entry[0] == "tsannotate"
    files = [str(_case(tmp_path, "already_scriptable")), str(tmp_path / "model.py")]
    result = runner.invoke(app, [*entry[1:], *files])
    assert result.exit_code == 0, result.stderr


def test_select_and_ignore_choose_the_fix_kinds(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")  # needs one TS002 fix
    ignored = runner.invoke(app, ["fix", str(path), "--ignore", "TS002"])
    assert ignored.exit_code == 1 and ignored.stdout == ""
    assert "still fails to script" in ignored.stderr
    assert "note: 1 fix left out by select/ignore (TS002)" in ignored.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.tsannotate]\nselect = ["TS004", "TS01"]\n')
    assert runner.invoke(app, ["fix", str(path)]).stdout == ""  # the config's select leaves TS002 out
    flag = runner.invoke(app, ["fix", str(path), "--select", "TS001,TS002"])  # the flag overrides it
    assert "+        gate: Optional[torch.Tensor] = None" in flag.stdout
    bad = runner.invoke(app, ["fix", str(path), "--select", "TS999"])
    assert bad.exit_code == 2 and "--select: unknown fix code 'TS999'" in bad.stderr
