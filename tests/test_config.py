"""[tool.tsannotate] in pyproject.toml: found upward from the model, checked strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsannotate.config import Config, codes_flag, load_config
from tsannotate.files import InputError


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.tsannotate]\n{table}")
    model = tmp_path / "src" / "model.py"
    model.parent.mkdir()
    model.write_text("")
    return model


def test_found_upward_and_probe_resolved_from_pyproject_dir(tmp_path: Path) -> None:
    model = _project(tmp_path, 'probe = "tests/probe.py:make"\nmax-passes = 3\ntimeout = 30\n')
    config = load_config(model)
    assert config.probe == f"{tmp_path.resolve()}/tests/probe.py:make"
    assert (config.max_passes, config.timeout) == (3, 30.0)


def test_pyproject_without_table_means_defaults(tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_config(model) == Config(source=tmp_path / "pyproject.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param("probes = 'p.py:probe'\n", "unknown key 'probes'", id="unknown-key"),
        pytest.param("probe = 'p.py'\n", 'must be "path.py:callable"', id="probe-without-callable"),
        pytest.param("max-passes = 0\n", "max-passes must be a positive number", id="zero-passes"),
        pytest.param("timeout = 'soon'\n", "timeout must be a positive number", id="timeout-text"),
        pytest.param("probe = [\n", "cannot read it", id="bad-toml"),
    ],
)
def test_bad_config_is_an_error_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    model = _project(tmp_path, table)
    with pytest.raises(InputError, match=message):
        load_config(model)


def test_select_ignore_and_exclude(tmp_path: Path) -> None:
    model = _project(tmp_path, 'select = ["TS00", "ts011"]\nignore = ["TS008"]\nexclude = ["legacy", "*_old.py"]\n')
    config = load_config(model)
    assert (config.select, config.ignore) == (("TS00", "TS011"), ("TS008",))
    assert config.exclude == ("legacy", "*_old.py")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param('select = ["TS999"]\n', "select: unknown fix code 'TS999'", id="unknown-code"),
        pytest.param('ignore = ["E501"]\n', "ignore: unknown fix code 'E501'", id="foreign-code"),
        pytest.param('select = "TS001"\n', "select must be a list of strings", id="not-a-list"),
        pytest.param("exclude = [1]\n", "exclude must be a list of strings", id="not-strings"),
    ],
)
def test_bad_codes_and_globs_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    model = _project(tmp_path, table)
    with pytest.raises(InputError, match=message):
        load_config(model)


def test_codes_flag_takes_commas_and_repeats() -> None:
    assert codes_flag("--select", ["TS001,ts004", "TS01"]) == ("TS001", "TS004", "TS01")
    with pytest.raises(InputError, match="--ignore: unknown fix code 'TS1'"):
        codes_flag("--ignore", ["TS1"])


def test_directory_walk_skips_excluded_paths(tmp_path: Path) -> None:
    from tsannotate.discover import model_files

    (tmp_path / "pyproject.toml").write_text('[tool.tsannotate]\nexclude = ["legacy", "*_old.py", "src/gen/*"]\n')
    for name in ("src/model.py", "src/model_old.py", "src/legacy/net.py", "src/gen/auto.py", "src/genx/keep.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = model_files([tmp_path / "src"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["src/genx/keep.py", "src/model.py"]
    assert model_files([tmp_path / "src" / "model_old.py"]) == [tmp_path / "src" / "model_old.py"]  # named: kept
    assert model_files([tmp_path / "src" / "legacy"]) == [tmp_path / "src" / "legacy" / "net.py"]  # walked: kept
    with pytest.raises(InputError, match="every Python file under it is excluded"):
        model_files([tmp_path / "src" / "gen"])
