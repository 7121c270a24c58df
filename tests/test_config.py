"""[tool.tsannotate] in pyproject.toml: found upward from the model, checked strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsannotate.config import Config, load_config
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
