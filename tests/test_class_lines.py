"""worker/class_lines.py gives `inspect.findsource`'s answer for every class, from one parse per file."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tsannotate.worker import class_lines

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13 reads __firstlineno__; nothing is installed")

ORIGINAL = inspect.findsource

TRICKY = '''
import functools


def deco(cls):
    return cls


@deco
@functools.total_ordering
class Decorated:
    def __lt__(self, other):
        return False

    class Inner:
        class Deeper:
            pass


class Twice:
    first = True


class Twice:  # inspect names the first definition for both; so must we
    first = False


def factory():
    class Local:
        class InLocal:
            pass

    async def also():
        class InAsync:
            pass
        return InAsync

    return Local, Local.InLocal, also


if True:
    class InIf:
        pass
else:
    class InIf:
        pass

Lambda = (lambda: type("Made", (), {}))()
'''


def _classes(module: ModuleType) -> list[type]:
    found: list[type] = []
    seen: set[int] = set()

    def walk(value: object) -> None:
        if isinstance(value, type) and id(value) not in seen and value.__module__ == module.__name__:
            seen.add(id(value))
            found.append(value)
            for inner in vars(value).values():
                walk(inner)

    for value in vars(module).values():
        walk(value)
    return found


def _answer(find: object, cls: type) -> tuple[str, object]:
    try:
        lines, line = find(cls)  # type: ignore[operator]
    except (OSError, TypeError) as exc:
        return ("error", type(exc).__name__)
    return ("found", (len(lines), line, lines[line]))


def _same_as_inspect(module: ModuleType) -> int:
    classes = _classes(module)
    for cls in classes:
        looked = class_lines._class_line(cls)
        expected = _answer(ORIGINAL, cls)
        if looked is None:
            # handed to the original: fine when the original fails too, or cannot use a table
            assert expected[0] == "error" or not inspect.getsourcefile(cls), cls
        else:
            assert ("found", (len(looked[0]), looked[1], looked[0][looked[1]])) == expected, cls
    return len(classes)


def test_tricky_shapes(tmp_path: Path) -> None:
    path = tmp_path / "tricky_classes.py"
    path.write_text(TRICKY)
    spec = importlib.util.spec_from_file_location("tricky_classes", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["tricky_classes"] = module
    try:
        spec.loader.exec_module(module)
        local, in_local, also = module.factory()
        import asyncio
        in_async = asyncio.run(also())
        for cls in (local, in_local, in_async, module.Decorated.Inner.Deeper):
            assert class_lines._class_line(cls) is not None
            assert _answer(inspect.findsource, cls) == _answer(ORIGINAL, cls)
        assert _same_as_inspect(module) >= 5
        assert class_lines._class_line(module.Twice) == ORIGINAL(module.Twice)
        assert ORIGINAL(module.Twice)[1] == TRICKY.splitlines().index("class Twice:")
        assert class_lines._class_line(module.Decorated)[1] == TRICKY.splitlines().index("@deco")  # type: ignore[index]
        made = module.Lambda
        assert _answer(class_lines._class_line, made) == ("error", "TypeError") or class_lines._class_line(made) is None
    finally:
        del sys.modules["tricky_classes"]


@pytest.mark.parametrize("name", [
    "argparse", "collections", "dataclasses", "email.headerregistry", "enum", "inspect", "http.client",
    "logging", "pathlib", "typing", "unittest.case", "torch.nn.modules.transformer",
    "torch.nn.modules.rnn", "torch.nn.modules.activation", "torch.optim.lr_scheduler",
])
def test_every_class_of_real_modules(name: str) -> None:
    assert _same_as_inspect(importlib.import_module(name)) > 3


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "changing_classes.py"
    path.write_text("class A:\n    pass\n")
    for number, text in enumerate(["class A:\n    pass\n", "\n\n# moved\nclass A:\n    pass\n"]):
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(f"changing_classes_{number}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # inspect finds a class's file through its module
        try:
            spec.loader.exec_module(module)
            found = class_lines._class_line(module.A)  # linecache sees the new size: a new parse
        finally:
            del sys.modules[spec.name]
        assert found is not None and found[0][found[1]] == "class A:\n"
        assert found[1] == text.splitlines().index("class A:")


def test_install_is_idempotent_and_keeps_other_objects_working() -> None:
    before = inspect.findsource
    try:
        class_lines.install()
        installed = inspect.findsource
        class_lines.install()
        assert inspect.findsource is installed
        lines, line = inspect.findsource(textwrap.dedent)
        assert lines[line].startswith("def dedent")
        _, line = inspect.findsource(inspect.BlockFinder)
        assert "class BlockFinder" in inspect.getsourcelines(inspect.BlockFinder)[0][0]
    finally:
        inspect.findsource = before
