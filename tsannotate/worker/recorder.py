"""Record the types the eager probe run gives to the model file's own functions.

    with recording({"/abs/model.py"}) as rec:
        model(*args)
    rec.observations()  # tuple[Observation, ...]
    rec.notes()  # ("the recorder failed 2 times: ...",) when the callback broke

A `sys.setprofile` hook sees every Python call and return in the thread. For a
function whose `co_filename` is one of `files` it records the arguments at 'call';
the return value and every other local at 'return' (a frame unwinding an exception
reports 'return' too, and is skipped); and, for a method of an `nn.Module` instance,
the instance's plain attributes at both. Types come from `runtime_types.type_of` and
are joined per (file, qualname, name, role) with `tstypes.join`.

Overhead: the hook runs for every Python call in the process (torch's own included)
and for every C call, so the common path is one comparison (for C events) or one
dict lookup on the code object's id (for code that is not recorded). A code object
stops being recorded after `MAX_CALLS` calls in one activation (one probe input).
Nested functions, lambdas, comprehensions and generators are never recorded. The hook never lets an exception out: a failure is
counted and reported as one note, and the model computes exactly what it would
without it.

`Recorder(files, constructors=True)` records only the arguments of `__init__` calls of
objects that are not `nn.Module`s, while the probe builds the model (`held_objects` then keeps
those of the classes whose instances the model holds as attributes: `self.box_coder =
BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))`). Those are keyed by the class, not by the method:
an ARG observation whose qualname is "BoxCoder" (the class defining that `__init__`) and not
"BoxCoder.__init__", so that no rule looking up what a function was passed picks them up;
only the rule for held objects (TS015) reads them.
"""

from __future__ import annotations

import dis
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

from torch import nn

from tsannotate.records import Observation, Role
from tsannotate.tstypes import TSType, join
from tsannotate.worker.errors import describe
from tsannotate.worker.runtime_types import EXACT, Opaque, type_of

MAX_CALLS = 32  # calls of one function recorded; its later calls take the fast path

_SKIPPED_FLAGS = (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
                  | inspect.CO_ITERABLE_COROUTINE)
_RETURN_OPS = frozenset(dis.opmap[op] for op in ("RETURN_VALUE", "RETURN_CONST") if op in dis.opmap)
_Key = tuple[str, str, str, str]  # (file, qualname, name, Role value): an enum hashes in Python
_ARG, _RETURN, _LOCAL, _ATTR = (r.value for r in (Role.ARG, Role.RETURN, Role.LOCAL, Role.ATTR))
_MODULE_OWN = frozenset(vars(nn.Module()))  # what every module's __dict__ holds: not attributes
_Profile = Callable[[FrameType, str, Any], object]


class _Code:
    """What the hook needs to know about one recorded code object."""

    __slots__ = ("path", "qualname", "owner", "args", "first", "params", "bytecode", "calls",
                 "return_key", "local_keys", "attr_keys")

    def __init__(self, code: CodeType) -> None:
        self.qualname: str = getattr(code, "co_qualname", code.co_name)
        self.owner = self.qualname.rpartition(".")[0]  # "Net" for "Net.forward"
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        self.first = names[0] if code.co_argcount else ""  # `self`, for a method
        skip = self.first if self.first in ("self", "cls") else ""
        self.path = code.co_filename
        self.args = tuple((n, (self.path, self.qualname, n, _ARG)) for n in names if n != skip)
        star = code.co_varnames[len(names):len(names) + _stars(code)]
        self.params = frozenset((*names, *star, *code.co_freevars))  # not locals (`__class__`...)
        self.bytecode = code.co_code
        self.calls = 0
        self.return_key: _Key = (self.path, self.qualname, "", _RETURN)
        self.local_keys: dict[str, _Key] = {}
        self.attr_keys: dict[type, dict[str, tuple[_Key, ...]]] = {}  # per class of `self`


def _file_of(cls: type) -> str:
    """The file a class was defined in, as its methods' code objects name it."""
    module = sys.modules.get(cls.__module__)
    return str(getattr(module, "__file__", "") or "")


def _stars(code: CodeType) -> int:
    return bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)


def _recorded(code: CodeType, files: frozenset[str]) -> bool:
    if code.co_filename not in files or code.co_flags & _SKIPPED_FLAGS:
        return False
    return "<" not in getattr(code, "co_qualname", code.co_name)  # <locals>, <lambda>, <module>...


class _Joined:
    __slots__ = ("type", "note", "count")

    def __init__(self) -> None:
        self.type: TSType | None = None
        self.note = ""
        self.count = 0


class Recorder:
    """Joined observations of every recorded call; `active()` installs the hook."""

    def __init__(self, files: set[str] | frozenset[str], constructors: bool = False) -> None:
        self.files = frozenset(files)
        self.constructors = constructors  # only `__init__` of objects that are not modules: see above
        self.failures = 0
        self._first_failure = ""
        # Keyed by id(code): a code object's own hash is recomputed on every lookup (~0.4 µs).
        # `_alive` keeps every code seen alive, so an id is never reused while it is a key.
        self._codes: dict[int, _Code | None] = {}
        self._alive: list[CodeType] = []
        self._capped: dict[int, _Code] = {}  # recorded again on the next activation
        self._joined: dict[_Key, _Joined] = {}
        self._profile = self._make_profile()

    # ----------------------------------------------------------------- results

    def observations(self) -> tuple[Observation, ...]:
        out = []
        for (path, qualname, name, role), j in self._joined.items():
            if j.note:
                out.append(Observation(qualname, name, Role(role), "", j.count, j.note, path=path))
            elif j.type is not None:
                out.append(Observation(qualname, name, Role(role), str(j.type), j.count, path=path))
        return tuple(out)

    def notes(self) -> tuple[str, ...]:
        if not self.failures:
            return ()
        times = "once" if self.failures == 1 else f"{self.failures} times"
        return (f"the recorder failed {times}: {self._first_failure} (first failure); "
                "the types it saw may be incomplete",)

    # ----------------------------------------------------------------- install

    @contextmanager
    def active(self) -> Iterator[Recorder]:
        """Record while the block runs; the previous profile function comes back after.

        Each activation (one probe input) records up to MAX_CALLS calls of each function:
        a later input may be there to pass other types.
        """
        for code_id, info in self._capped.items():
            info.calls = 0
            self._codes[code_id] = info
        self._capped.clear()
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            yield self
        finally:
            sys.setprofile(previous)

    # ----------------------------------------------------------------- the hook

    def _make_profile(self) -> _Profile:
        codes, capped, alive, files = self._codes, self._capped, self._alive, self.files
        init_only = self.constructors
        lookup, identity = codes.get, id
        on_call, on_return, fail = self._on_call, self._on_return, self._fail

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            if event == "call":
                code = frame.f_code
                info = lookup(identity(code), code)
                if info is None:
                    return
                try:
                    if info is code:
                        alive.append(code)
                        info = codes[identity(code)] = _Code(code) if _recorded(code, files) and (
                            not init_only or code.co_name == "__init__") else None
                        if info is None:
                            return
                    assert isinstance(info, _Code)
                    info.calls += 1
                    if info.calls > MAX_CALLS:
                        codes[identity(code)] = None
                        capped[identity(code)] = info
                        return
                    on_call(frame, info)
                except Exception as exc:
                    fail(exc)
            elif event == "return":
                info = lookup(identity(frame.f_code))
                if info is None:
                    return
                try:
                    on_return(frame, info, arg)
                except Exception as exc:
                    fail(exc)

        return profile

    def _fail(self, exc: Exception) -> None:
        self.failures += 1
        if self.failures == 1:
            try:
                self._first_failure = describe(exc)
            except Exception:
                self._first_failure = type(exc).__name__

    def _on_call(self, frame: FrameType, info: _Code) -> None:
        local = frame.f_locals
        see = self._see
        if self.constructors:
            if info.first and info.owner and not isinstance(local.get(info.first), nn.Module):
                for name, (path, _, arg, role) in info.args:
                    if name in local:
                        see((path, info.owner, arg, role), local[name])
            return
        for name, key in info.args:
            if name in local:
                see(key, local[name])
        self._attributes(info, local)

    def _on_return(self, frame: FrameType, info: _Code, value: Any) -> None:
        if self.constructors:
            return
        if info.bytecode[frame.f_lasti] not in _RETURN_OPS:
            return  # an exception is unwinding the frame: no return value, half-run locals
        self._see(info.return_key, value)
        local = frame.f_locals
        keys, params, see = info.local_keys, info.params, self._see
        for name, item in local.items():
            if name in params:
                continue
            key = keys.get(name)
            if key is None:
                key = keys[name] = (info.path, info.qualname, name, _LOCAL)
            see(key, item)
        self._attributes(info, local)

    def _attributes(self, info: _Code, local: dict[str, Any]) -> None:
        module = local.get(info.first) if info.first else None
        if not isinstance(module, nn.Module):
            return
        keys = info.attr_keys.get(type(module))
        if keys is None:
            keys = info.attr_keys[type(module)] = {}
        attributes = vars(module)
        see = self._see
        for name in sorted(attributes.keys() - _MODULE_OWN):
            if name[0] == "_":
                continue
            key = keys.get(name)
            if key is None:  # under the instance's class, and the method's if that differs
                owners = dict.fromkeys(o for o in ((_file_of(type(module)), type(module).__qualname__),
                                                   (info.path, info.owner)) if o[1])
                key = keys[name] = tuple((path, owner, name, _ATTR) for path, owner in owners)
            for k in key:
                see(k, attributes[name])

    def _see(self, key: _Key, value: object) -> None:
        seen = EXACT.get(type(value)) or type_of(value)  # the dict: scalars and tensors, fast
        if seen is None:
            return
        joined = self._joined.get(key)
        if joined is None:
            joined = self._joined[key] = _Joined()
        joined.count += 1
        if seen is joined.type:  # the common case: the same plain type again
            return
        if isinstance(seen, Opaque):
            joined.note = joined.note or seen.note
        else:
            joined.type = seen if joined.type is None else join(joined.type, seen)


def held_objects(recorder: Recorder, models: list[Any]) -> tuple[Observation, ...]:
    """What a constructor recorder saw, kept for the classes (or their bases) of the plain
    objects `models` and their submodules hold as attributes."""
    owners: set[tuple[str, str]] = set()
    for model in models:
        if not isinstance(model, nn.Module):
            continue
        for module in model.modules():
            for name, value in vars(module).items():
                if name in _MODULE_OWN or isinstance(value, (nn.Module, type)) or value is None:
                    continue
                for cls in type(value).__mro__:
                    if cls is not object:
                        owners.add((_file_of(cls), cls.__qualname__))
    return tuple(o for o in recorder.observations() if (o.path, o.qualname) in owners)


@contextmanager
def recording(files: set[str] | frozenset[str]) -> Iterator[Recorder]:
    """A fresh Recorder, active for the block."""
    recorder = Recorder(files)
    with recorder.active():
        yield recorder
