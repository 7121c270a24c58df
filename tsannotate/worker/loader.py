"""Load one pass's source as a fresh module, without touching the file on disk.

TorchScript caches compiled classes and functions by qualified name
(`__torch__.<module>.<Class>`) for the life of the process, so re-scripting an edited
class under the same module name can compile stale source. Every request therefore
executes the source as a new module, `__tsannotate_g<N>__.<stem>`, and also registers
it under its real import name (`mypkg.model`) so a probe doing `from mypkg.model import
Net` sees the edited text. The source comes from the request; it is compiled with the
real path as filename and placed in `linecache`, where `inspect.getsource` (which
TorchScript uses) finds it, so compiler errors cite the user's path and lines.

All of that is undone when the request ends. A later request for exactly the texts a load
executed (`Executed.same`) may put the same module back (`resumed`) instead of executing it
again: the classes are then the very objects TorchScript compiled, so nothing is stale.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import linecache
import os
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from tsannotate.records import ScriptRequest
from tsannotate.worker.errors import LoadFailed, compile_source, import_failure

_counter = 0


@dataclass
class ImportScriptError:
    """`torch.jit.script` applied at import time (to a class, a module...) raised."""

    target: str
    exc: Exception


@dataclass
class Loaded:
    path: str
    module: types.ModuleType
    real_name: str
    scripted_functions: list[Callable[..., Any]] = field(default_factory=list)
    import_script_error: ImportScriptError | None = None
    renames: dict[str, str] = field(default_factory=dict)  # fresh module name → real name
    siblings: set[str] = field(default_factory=set)  # project files executed afresh for this request
    texts: dict[str, str] = field(default_factory=dict)  # what each project file executed was
    read: dict[str, str] = field(default_factory=dict)  # other files read from disk (a --probe file)

    @property
    def fresh_name(self) -> str:
        return self.module.__name__

    def defined_here(self, obj: object) -> bool:
        return getattr(obj, "__module__", None) == self.fresh_name

    def in_project(self, obj: object) -> bool:
        """Defined in the model file or in a project module loaded afresh for this request."""
        module = getattr(obj, "__module__", None)
        return module == self.fresh_name or module in self.renames

    def file_of(self, obj: object) -> str:
        """The file `obj`'s module was loaded from (the model's path if unknown)."""
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        found = getattr(module, "__file__", None)
        return os.path.abspath(found) if isinstance(found, str) else self.path

    @property
    def project_files(self) -> set[str]:
        return {self.path, *self.siblings}

    def scrub(self, text: str) -> str:
        """Replace the fresh module names in compiler text by the real ones."""
        for fresh, real in self.renames.items():
            text = text.replace(fresh, real)
        return text


class Restore:
    """Undo every global change a load makes (sys.path, sys.modules, linecache, attributes).

    `undo` also remembers what it undid (`after`), so a later request for the same sources
    can put the load's module back in place without executing anything (`resumed`).
    """

    def __init__(self) -> None:
        self.path = list(sys.path)
        self.modules: dict[str, types.ModuleType | None] = {}
        self.attrs: list[tuple[object, str, object]] = []
        self.lines: dict[str, object] = {}
        self.finders: list[_ProjectFinder] = []
        self.after: _After | None = None

    def module(self, name: str, module: types.ModuleType) -> None:
        self.modules.setdefault(name, sys.modules.get(name))
        sys.modules[name] = module

    def attr(self, owner: object, name: str, value: object) -> None:
        self.attrs.append((owner, name, getattr(owner, name, _MISSING)))
        setattr(owner, name, value)

    def source(self, path: str, text: str) -> None:
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        self.line_entry(path, (len(text), None, lines, path))  # mtime None: checkcache keeps it

    def line_entry(self, path: str, entry: object) -> None:
        self.lines.setdefault(path, linecache.cache.get(path, _MISSING))
        if entry is _MISSING:
            linecache.cache.pop(path, None)
        else:
            linecache.cache[path] = entry  # type: ignore[assignment]

    def finder(self, finder: _ProjectFinder) -> None:
        finder.restore = self
        sys.meta_path.insert(0, finder)
        self.finders.append(finder)

    def undo(self) -> None:
        self.after = _After(
            [p for p in sys.path if p not in self.path],
            {name: sys.modules.get(name) for name in self.modules},
            [(owner, name, getattr(owner, name, _MISSING)) for owner, name, _ in self.attrs],
            {path: linecache.cache.get(path, _MISSING) for path in self.lines},
            list(self.finders))
        for finder in reversed(self.finders):
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
        sys.path[:] = self.path
        for name, previous in self.modules.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
        for owner, name, value in reversed(self.attrs):
            if value is _MISSING:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
            else:
                setattr(owner, name, value)
        for path, entry in self.lines.items():
            if entry is _MISSING:
                linecache.cache.pop(path, None)
            else:
                linecache.cache[path] = entry  # type: ignore[assignment]


@dataclass
class _After:
    """The global changes a load had made when its request ended, to put back as they were."""

    path: list[str]
    modules: dict[str, types.ModuleType | None]
    attrs: list[tuple[object, str, object]]
    lines: dict[str, object]
    finders: list[_ProjectFinder]

    def redo(self, restore: Restore, request: ScriptRequest) -> None:
        sys.path[:0] = [p for p in self.path if p not in sys.path]
        for name, module in self.modules.items():
            if module is not None:
                restore.module(name, module)
            elif name in sys.modules:
                restore.modules.setdefault(name, sys.modules.pop(name))
        for owner, name, value in self.attrs:
            if value is _MISSING:
                restore.attrs.append((owner, name, getattr(owner, name, _MISSING)))
                if hasattr(owner, name):
                    delattr(owner, name)
            else:
                restore.attr(owner, name, value)
        for path, entry in self.lines.items():
            restore.line_entry(path, entry)
        for finder in reversed(self.finders):
            finder.texts = _texts(request)  # a file first imported now comes from this request
            restore.finder(finder)


_MISSING = object()


@contextmanager
def loading(request: ScriptRequest) -> Iterator[tuple[Loaded, Restore]]:
    """Load the request's model source; undo the global changes when the block ends.

    Raises LoadFailed for a syntax error or an exception while importing.
    """
    global _counter
    _counter += 1
    restore = Restore()
    try:
        yield _load(request, _counter, restore), restore
    finally:
        restore.undo()


@contextmanager
def resumed(restore: Restore, request: ScriptRequest) -> Iterator[Restore]:
    """Put back what the load `restore` undid, for `request` (which loads the same sources:
    see `Executed.same`); undo it again when the block ends. Nothing is executed."""
    assert restore.after is not None, "the load is still in place"
    again = Restore()
    try:
        restore.after.redo(again, request)
        yield again
    finally:
        again.undo()


@dataclass(frozen=True)
class Executed:
    """The texts a load executed: the model's, its project modules', a --probe file's."""

    request: ScriptRequest
    texts: dict[str, str]  # path → text, the model included
    read: dict[str, str]  # files read from disk whatever the request carries (a --probe file)

    @staticmethod
    def of(loaded: Loaded, request: ScriptRequest) -> Executed:
        return Executed(request, dict(loaded.texts), dict(loaded.read))

    def same(self, now: ScriptRequest) -> bool:
        """Would loading `now` execute exactly these texts?

        The same model text and options, and every other file that ran has the same text in
        `now` (or, for a file `now` does not carry, on disk) as it had then.
        """
        def options(r: ScriptRequest) -> tuple[object, ...]:
            return os.path.abspath(r.model_path), r.source, r.probe, r.no_probe, r.project_root

        if options(self.request) != options(now):
            return False
        model, texts = os.path.abspath(now.model_path), _texts(now)
        for path, text in self.texts.items():
            if path != model and (texts[path] if path in texts else _read_or_none(path)) != text:
                return False
        return all(_read_or_none(path) == text for path, text in self.read.items())


def _texts(request: ScriptRequest) -> dict[str, str]:
    return {os.path.abspath(p): t for p, t in request.sources}


def _read_or_none(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def import_name(path: str) -> tuple[str, str]:
    """(dotted import name, sys.path root) of a file, walking up through packages."""
    directory, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    parts = [] if stem == "__init__" else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    return ".".join(parts) or stem, directory


def add_path(directory: str) -> None:
    if directory not in sys.path:
        sys.path.insert(0, directory)


def _load(request: ScriptRequest, generation: int, restore: Restore) -> Loaded:
    path = os.path.abspath(request.model_path)
    code = compile_source(request.source, path, "model")
    real_name, root = import_name(path)
    add_path(root)
    add_path(os.path.dirname(path))
    recorder = _Recorder()
    parent_name, _, leaf = real_name.rpartition(".")
    fresh = f"__tsannotate_g{generation}__.{leaf}"
    loaded_renames: dict[str, str] = {fresh: real_name}
    siblings: set[str] = set()
    texts = {path: request.source}
    restore.finder(_ProjectFinder(request, path, generation, loaded_renames, siblings, texts))
    with recorder:
        parent = _import_parent(parent_name, path) if parent_name else None
    module = types.ModuleType(fresh)
    module.__file__ = path
    is_package = os.path.basename(path) == "__init__.py"
    module.__package__ = real_name if is_package else parent_name
    if is_package:
        module.__path__ = [os.path.dirname(path)]
    restore.module(fresh, module)
    if _same_file(sys.modules.get(real_name), path):  # never shadow another module
        restore.module(real_name, module)
    home = os.path.dirname(os.path.dirname(path) if is_package else path)
    if parent is not None and _is_parent(parent, home):
        restore.attr(parent, leaf, module)
    restore.source(path, request.source)
    loaded = Loaded(path, module, real_name, renames=loaded_renames, siblings=siblings, texts=texts)
    try:
        with recorder:
            exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        failed = recorder.failure
        if failed is not None and failed.exc is exc:
            loaded.import_script_error = failed
            return loaded
        raise LoadFailed(import_failure(exc, path, "model")) from None
    loaded.scripted_functions = [f for f in recorder.functions if loaded.defined_here(f)]
    _rebind_reexports(real_name, module, restore)
    return loaded


def _import_parent(name: str, path: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as exc:
        raise LoadFailed(import_failure(exc, path, "model's package")) from None


def _is_parent(package: types.ModuleType, directory: str) -> bool:
    return directory in [os.path.abspath(p) for p in getattr(package, "__path__", ())]


def _rebind_reexports(real_name: str, module: types.ModuleType, restore: Restore) -> None:
    """`from .model import Net` in a package `__init__` bound the on-disk Net: rebind it.

    So a probe doing `from mypkg import Net` gets this pass's class too.
    """
    parts = real_name.split(".")
    for i in range(1, len(parts)):
        package = sys.modules.get(".".join(parts[:i]))
        if package is None:
            continue
        for name, value in list(vars(package).items()):
            if getattr(value, "__module__", None) == real_name and name in vars(module):
                restore.attr(package, name, vars(module)[name])


def _same_file(module: types.ModuleType | None, path: str) -> bool:
    """True when `module` is absent or was loaded from `path` (the on-disk version)."""
    if module is None:
        return True
    existing = getattr(module, "__file__", None)
    return isinstance(existing, str) and os.path.abspath(existing) == path


class _Recorder:
    """Stand-in for `torch.jit.script` while user modules execute.

    A decorated free function would compile at import time; instead it is recorded as
    a target and returned unchanged. Anything else goes to the real `torch.jit.script`;
    if that raises, the failure is remembered so it can be reported as a compile error.
    """

    def __init__(self) -> None:
        self.functions: list[Callable[..., Any]] = []
        self.failure: ImportScriptError | None = None
        self._real: Callable[..., Any] | None = None

    def __enter__(self) -> _Recorder:
        self._real = torch.jit.script
        setattr(torch.jit, "script", self)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._real is not None
        setattr(torch.jit, "script", self._real)

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if inspect.isfunction(obj) and not args and not kwargs:
            self.functions.append(obj)
            return obj
        assert self._real is not None
        try:
            return self._real(obj, *args, **kwargs)
        except Exception as exc:
            name = getattr(obj, "__name__", None) or type(obj).__name__
            self.failure = ImportScriptError(name, exc)
            raise


class _ProjectFinder(importlib.abc.MetaPathFinder):
    """While a request is served: the user's project modules, executed afresh.

    An import that resolves to a file of the model's project (see `tsannotate.project`)
    is executed from the request's text for that file (else from disk) as a new module,
    `__tsannotate_g<N>__.<name>`, registered under its real name too — the way the model
    itself is loaded — so an edited sibling is what the model imports, and TorchScript
    never reuses what it compiled from an earlier pass's version. The model file itself
    is left to `_load`; everything outside the project is imported normally.
    """

    def __init__(self, request: ScriptRequest, model: str, generation: int,
                 renames: dict[str, str], siblings: set[str], executed: dict[str, str]) -> None:
        from tsannotate.project import project_root

        self.texts = _texts(request)
        self.root = request.project_root or project_root(model)
        self.model = model
        self.generation = generation
        self.restore: Restore | None = None  # set by Restore.finder: who undoes what this imports
        self.renames = renames
        self.siblings = siblings
        self.executed = executed  # path → text of every project module this finder executed

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        from tsannotate.project import is_project_file

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = spec.origin if spec is not None else None
        if spec is None or not isinstance(origin, str) or not spec.has_location:
            return None
        origin = os.path.abspath(origin)
        if origin == self.model or not is_project_file(origin, self.root):
            return None
        text = self.texts.get(origin)
        if text is None:
            try:
                with open(origin, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError):
                return None  # let the normal import report it
        fresh = f"__tsannotate_g{self.generation}__.{fullname}"
        assert self.restore is not None
        loader = _TextLoader(text, origin, fresh, self.restore)
        self.restore.modules.setdefault(fullname, sys.modules.get(fullname))  # undo drops it
        self.renames[fresh] = fullname
        self.siblings.add(origin)
        self.executed[origin] = text
        return importlib.util.spec_from_file_location(
            fullname, origin, loader=loader, submodule_search_locations=spec.submodule_search_locations)


class _TextLoader(importlib.abc.Loader):
    def __init__(self, text: str, path: str, fresh: str, restore: Restore) -> None:
        self.text, self.path, self.fresh, self.restore = text, path, fresh, restore

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile(self.text, self.path, "exec", dont_inherit=True)  # a SyntaxError names the file
        self.restore.source(self.path, self.text)  # where TorchScript's getsource looks
        module.__name__ = self.fresh  # what TorchScript qualifies its classes and functions by
        self.restore.module(self.fresh, module)
        exec(code, module.__dict__)
