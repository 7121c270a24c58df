"""worker/class_lines.py gives `inspect.findsource`'s answer for every class, from one parse per file."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _imported(path: Path, text: str) -> Iterator[ModuleType]:
    """`text` written to `path` and imported under the file's stem (inspect finds a class's file
    through its module), for the block only."""
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[path.stem]


def test_tricky_shapes(tmp_path: Path) -> None:
    with _imported(tmp_path / "tricky_classes.py", TRICKY) as module:
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


# --------------------------------------------------------------------------- blocks

ORIGINAL_LINES = inspect.getsourcelines

BLOCKS = '''
import functools


def plain(x):
    return x


def trailing_comments(x):
    y = x
    return y
    # at the body's depth: inspect includes it

# at column 0: not, and not after it either


def deep_after_shallow(x):
    return x
# shallow
        # deeper than the body: included, and so is the shallow one before it
value = 1


@functools.lru_cache(maxsize=None)
@(lambda f: f)
def decorated(
    a,
    b=(lambda: 1)(),
):
    """Docstring.
not indented
    """
    if a:
        return b
    return a  # inline comment


def one_line(x): return x


class Outer:
    """A class."""

    attribute = 1

    def method(self, x):
        def inner(y):
            return y
        return inner(x)

    @staticmethod
    def static(x):
        return x
        # the last method's trailing comment

    class Inner:
        def deepest(self):
            pass
    # after Inner, at Outer's body depth


async def coroutine():
    return 1


def with_tabs(x):
\tif x:
\t\treturn x
\treturn 0
\t# tab-indented comment


def last_in_file(x):
    return x
    # comment at the end of the file
'''


def _blocks(module: ModuleType) -> list[object]:
    """Every def and class defined in `module`, methods and nested ones reachable by attribute."""
    found: list[object] = []
    for cls in _classes(module):
        found.append(cls)
        for value in vars(cls).values():
            value = getattr(value, "__func__", value)
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                found.append(value)
    found += [v for v in vars(module).values() if inspect.isfunction(v) and v.__module__ == module.__name__]
    return found


def _lines_answer(find: object, obj: object) -> tuple[str, object]:
    try:
        return ("found", find(obj))  # type: ignore[operator]
    except (OSError, TypeError) as exc:
        return ("error", type(exc).__name__)


def _blocks_as_inspect(module: ModuleType) -> int:
    blocks = _blocks(module)
    answered = 0
    for obj in blocks:
        fast = class_lines._block(inspect.unwrap(obj))  # as the installed getsourcelines does
        if fast is not None:
            answered += 1
            assert ("found", fast) == _lines_answer(ORIGINAL_LINES, obj), obj
    return answered


def test_blocks_of_tricky_shapes(tmp_path: Path) -> None:
    with _imported(tmp_path / "tricky_blocks.py", BLOCKS.replace("\\t", "\t")) as module:
        answered = _blocks_as_inspect(module)
        assert class_lines._block(module.one_line) is None  # left to inspect
        for obj in (module.trailing_comments, module.deep_after_shallow, module.Outer.static,
                    module.Outer, module.with_tabs, module.last_in_file, module.decorated):
            assert class_lines._block(inspect.unwrap(obj)) is not None, obj
        assert answered >= 10
        assert class_lines._block(module.trailing_comments)[0][-1].strip().startswith("# at the body")  # type: ignore[index]
        assert class_lines._block(module.deep_after_shallow)[0][-1].strip().startswith("# deeper")  # type: ignore[index]


@pytest.mark.parametrize("name", [  # typing and argparse are in the class test: their classes are slow to check
    "collections", "dataclasses", "email.headerregistry", "enum", "inspect", "http.client",
    "logging", "pathlib", "unittest.case", "tokenize", "asyncio.base_events",
    "torch.nn.modules.transformer", "torch.nn.modules.rnn", "torch.nn.modules.activation",
    "torch.nn.functional", "torch.optim.lr_scheduler", "torch.jit._recursive",
])
def test_blocks_of_real_modules(name: str) -> None:
    assert _blocks_as_inspect(importlib.import_module(name)) > 10


def test_getsourcelines_installed_answers_as_before() -> None:
    before_find, before_lines = inspect.findsource, inspect.getsourcelines
    try:
        class_lines.install()
        assert inspect.getsourcelines is not before_lines
        for obj in (textwrap.dedent, inspect.BlockFinder, inspect.BlockFinder.tokeneater, inspect, print):
            assert _lines_answer(inspect.getsourcelines, obj) == _lines_answer(before_lines, obj)
    finally:
        inspect.findsource, inspect.getsourcelines = before_find, before_lines
