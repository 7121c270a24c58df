"""TS015 — a plain Python object a module holds as an attribute: its class's constructor types.

What it does: `self.box_coder = BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))` in a module, where
`class BoxCoder(object)` is the project's own and not an `nn.Module` → the parameters of
`BoxCoder.__init__` get the types the probe built it with (`weights: Tuple[float, float, float,
float]`, `bbox_xform_clip: float`). What the compiler then asks of the class (a method's
parameter, an attribute) comes back as its own error (the worker compiles the class again,
see `worker/jit.py`) for the other rules, in later passes.
Where the object cannot be compiled that way (a `@dataclass` config, a `SimpleNamespace`, a
class the probe did not build), advice instead: the fields the module reads from it
(`self.config.block_size`), and the refactor — copy each into an attribute in `__init__`
(`self.block_size = config.block_size`) and read that.
Why: TorchScript converts a module attribute's value by compiling its class, whose `__init__`
parameters it otherwise takes for Tensors; when that fails it says only that the value
"could not be converted" (TS006's kind of error, which no annotation of the attribute fixes).
Evidence: the probe's constructor calls, recorded while it built the model (ARG observations
keyed by the class, "BoxCoder", not by "BoxCoder.__init__": see `worker/recorder.py`).
Fix safety: safe — parameter annotations do not change eager behaviour; the advice is display only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.jit_text import frames
from tsannotate.records import (
    AnnotateParam,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    Location,
    Observation,
    Role,
    Safety,
    SourceIndex,
    Source,
)
from tsannotate.rules._common import annotation, cite, observed_type

CODE = "TS015"
_CONTAINERS = frozenset({"list", "dict", "tuple", "set", "str", "int", "float", "bool"})


def fixes(evidence: Evidence) -> Iterator[Fix]:
    annotated: set[str] = set()
    for class_name in _held_classes(evidence):
        for fix in _constructor(evidence, class_name):
            annotated.add(class_name)
            yield fix
    yield from _advice(evidence, annotated)


def _held_classes(evidence: Evidence) -> list[str]:
    """Classes of this file whose construction the probe saw, that the compiler complains about:
    the value of a module attribute of that class could not be converted, or an error lies in
    the class's own code (the worker compiles it again when the conversion fails)."""
    source = evidence.source
    built = dict.fromkeys(o.qualname for o in evidence.observations
                          if o.role is Role.ARG and source.cls(o.qualname) is not None)
    found: list[str] = []
    for diag in evidence.diagnostics:
        names = set()
        if diag.kind is DiagnosticKind.ATTRIBUTE_CONVERSION and diag.types:
            names.add(_bare(diag.types[0]))
        if diag.location is not None and diag.location.path == source.path:
            names |= {c.name for c in source.classes if c.first_line <= diag.location.line <= c.last_line}
        found += [n for n in names if n in built and n not in found]
    return found


def _constructor(evidence: Evidence, class_name: str) -> Iterator[Fix]:
    """Each unannotated parameter of the class's `__init__` (or the nearest base's in this file
    the probe saw called) with what the probe built it with; a Tensor is TorchScript's own guess."""
    source = evidence.source
    for owner in _mro(source, class_name):
        init = source.function(f"{owner}.__init__")
        if init is None:
            continue
        for param in init.params[1:]:
            if param.annotation is not None or param.star:
                continue
            obs = evidence.observed(owner, param.name, Role.ARG)
            seen = observed_type(obs)
            if obs is None or seen is None or seen.is_none or seen == tstypes.TENSOR:
                continue
            ann = annotation(seen, source)
            yield Fix(CODE, f"annotate parameter `{param.name}` of {init.qualname} as {ann.text}",
                      f"{_built(obs, seen, class_name)}; TorchScript compiles {class_name}, the class of "
                      f"an object a module holds, from its `__init__`, where it takes an unannotated "
                      f"parameter for a Tensor", AnnotateParam(init.qualname, param.name, ann),
                      evidence=Source.PROBE, location=Location(source.path, init.first_line))
        return  # the nearest `__init__` is the one that ran


def _mro(source: SourceIndex, class_name: str, seen: tuple[str, ...] = ()) -> list[str]:
    cls = source.cls(class_name)
    if cls is None or class_name in seen:
        return []
    out = [class_name]
    for base in (b.rsplit(".", 1)[-1] for b in cls.bases):
        out += [c for c in _mro(source, base, (*seen, class_name)) if c not in out]
    return out


def _built(obs: Observation, seen: tstypes.TSType, class_name: str) -> str:
    values = f"{obs.count} value{'s' if obs.count != 1 else ''}"
    built = f"built {class_name}" if obs.qualname == class_name else f"built {class_name} (through {obs.qualname})"
    return f"the probe {built} with `{obs.name}` as {seen} ({values} seen)"


# --------------------------------------------------------------------------- advice


def _advice(evidence: Evidence, annotated: set[str]) -> Iterator[Fix]:
    """A held object whose class this rule cannot make compile: name the fields the module reads
    from it at the compiler's line, and the refactor."""
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.ATTRIBUTE_CONVERSION or not diag.symbol or not diag.types \
                or "(a" in diag.message:  # an empty list or dict, a list of modules: other rules'
            continue
        py = diag.types[0]
        if py in _CONTAINERS or _bare(py) in annotated:
            continue
        fields = _fields_read(diag)
        if not fields:
            continue
        attr, kind = diag.symbol, _bare(py)
        held = _held_as(source, diag.owner or "", attr)
        copies = "; ".join(f"`self.{f} = {held}.{f}`" for f in fields)
        reads = ", ".join(f"`self.{attr}.{f}`" for f in fields)
        also = sorted({r.line for r in source.reads if r.attr == attr and r.function.startswith(
            f"{diag.owner}.") and (diag.location is None or r.line != diag.location.line)})
        elsewhere = (f"; `self.{attr}` is also read at line{'s' if len(also) > 1 else ''} "
                     f"{', '.join(map(str, also))}: copy what those read the same way") if also else ""
        yield Fix(CODE, f"copy the {kind} fields {diag.owner} reads from `self.{attr}` into attributes",
                  f"TorchScript cannot convert the {kind} object held in `self.{attr}` ({cite(diag)}); "
                  f"this line reads {reads}: in {diag.owner}.__init__ write {copies}, and read "
                  f"{', '.join(f'`self.{f}`' for f in fields)} here instead (an int, float, bool or str "
                  f"attribute scripts; the unread `self.{attr}` may stay){elsewhere}",
                  None, safety=Safety.DISPLAY_ONLY, location=diag.location)


def _held_as(source: SourceIndex, class_name: str, attr: str) -> str:
    """What `__init__` stores in `self.attr`, when that is a plain name (`self.config = config`),
    else `self.attr` itself."""
    values = {a.value_text for a in source.attributes
              if a.class_name == class_name and a.attr == attr and a.function == f"{class_name}.__init__"}
    value = values.pop() if len(values) == 1 else ""
    return value if value.isidentifier() else f"self.{attr}"


def _fields_read(diag: Diagnostic) -> list[str]:
    """`block_size` for the compiler's `self.config.block_size` (every field the quoted lines
    read, in order; a method called on the object is not a field)."""
    pattern = re.compile(rf"\bself\.{re.escape(diag.symbol or '')}\.(\w+)\b(?!\s*\()")
    spans = [f.first_source for f in frames(diag.raw.splitlines()) if f.has_here]
    return list(dict.fromkeys(m.group(1) for text in spans[:1] for m in pattern.finditer(text)))


def _bare(python_type: str) -> str:
    """`repro_7.Config` → `Config`."""
    return python_type.rsplit(".", 1)[-1]
