"""TS001 — Optional for a parameter that defaults to None.

What it does: `def forward(self, x, mask=None)` → `mask: Optional[Tensor] = None`.
Why: an unannotated parameter is a Tensor to TorchScript, and a None default becomes an
undefined Tensor: the model scripts, then fails the moment it is called with None
("Expected a proper Tensor but got None"). The compiled signature shows it: the parameter
has a default but a non-Optional type.
A flag no probe input sets (`is_causal=None`) that the code uses as a bool (`is_causal is True`, or
passed on to a bool parameter; see `_bool_params`) is `Optional[bool]`, not `Optional[Tensor]`.
An explicit `mask: torch.Tensor = None` in compiled code is `Optional[torch.Tensor]` too: the
annotation and the default disagree, and TorchScript keeps the annotation (see `_annotated_tensor`).
Fix safety: safe — annotations do not change eager behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (AnnotateParam, Evidence, Fix, FunctionFacts, Location, Observation, ParamFacts, Role,
                                Safety, Source, ValueKind)
from tsannotate.rules._bool_params import bool_use
from tsannotate.rules._common import (Reach, annotation, compiled_functions, evidence_of, observed_params,
                                     observed_type, saw, usable, without_none)
from tsannotate.tstypes import TSType

CODE = "TS001"
_BOOL = TSType("bool")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_probe(evidence)
    yield from _from_signatures(evidence)
    yield from _annotated_tensor(evidence)


_TENSOR = re.compile(r"(?:[A-Za-z_]\w*\.)*Tensor")


def _annotated_tensor(evidence: Evidence) -> Iterator[Fix]:
    """`mask: torch.Tensor = None` (Hugging Face writes it everywhere) in code TorchScript compiles:
    the annotation and the default disagree. TorchScript keeps the annotation and the None becomes
    an undefined Tensor: `mask is not None` is then always true in the compiled code, and a call
    leaving `mask` out runs that branch on it (or fails to save). `Optional[Tensor]` is the one type
    that holds both; if the body then uses `mask` unguarded, the model stops compiling and the
    loop backs the fix out."""
    source = evidence.source
    reach = Reach.of(evidence)
    for func in compiled_functions(source):
        if not reach.compiles(func.qualname):
            continue
        for param in func.params:
            if param.star or param.default_kind is not ValueKind.NONE or param.annotation is None \
                    or not _TENSOR.fullmatch(param.annotation.replace(" ", "")):
                continue
            ann = annotation(tstypes.optional(tstypes.TENSOR), source)
            yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                      f"`{param.name}: {param.annotation} = None`: TorchScript keeps the annotation, so the None "
                      f"default is an undefined Tensor, for which `{param.name} is not None` holds; "
                      f"Optional is the type that takes both the Tensor and the default",
                      AnnotateParam(func.qualname, param.name, ann),
                      evidence=Source.SOURCE, location=Location(source.path, func.first_line))


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """A Tensor parameter the probe saw as None (or that defaults to None) → Optional[Tensor]; so
    is a parameter without a default that the probe saw only as None (a mask its caller passes
    through, None on every probe input), or that defaults to None and was never given (`head_mask=None`):
    TorchScript takes it for a Tensor, which cannot hold None."""
    source = evidence.source
    for func, param, obs, seen in observed_params(evidence):
        tensor = without_none(seen) == tstypes.TENSOR and (seen.is_optional or param.default_kind is ValueKind.NONE)
        only_none = seen.is_none and not obs.static and (param.default is None or param.default_kind is ValueKind.NONE)
        as_bool = _as_bool(evidence, func, param) if only_none else None
        if as_bool:
            yield _bool_fix(evidence, func, param, f"the probe run passed `{param.name}` only as None ({obs.count} "
                                                   f"value{'s' if obs.count != 1 else ''} seen in {func.qualname})",
                            as_bool, evidence_of(obs))
        elif tensor or only_none:
            ann = annotation(tstypes.optional(tstypes.TENSOR), source)
            evidence_text = (f"the probe run passed `{param.name}` only as None ({obs.count} value"
                             f"{'s' if obs.count != 1 else ''} seen in {func.qualname})") if only_none else saw(obs, seen)
            if only_none and param.default is not None:  # `head_mask=None`, never given: a compiled caller
                evidence_text += (" — its default; a Tensor's default cannot be None, so a compiled call "
                                  "leaving it out fails ('Unsupported value kind: Tensor')")
            yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                      evidence_text + "; unannotated, TorchScript would take it for a plain Tensor",
                      AnnotateParam(func.qualname, param.name, ann),
                      evidence=evidence_of(obs), location=Location(source.path, func.first_line))


def _from_signatures(evidence: Evidence) -> Iterator[Fix]:
    """A parameter compiled as a plain T that defaults to None, or that the probe saw holding only
    None (`self._sa_block(x, mask, padding)` with `padding=None` passed through): Optional[T]. The
    second kind needs no default, and is fixed in the same pass as the caller's own parameter,
    which would otherwise pass an Optional into a callee that does not compile with it."""
    source = evidence.source
    for sig in evidence.signatures:
        func = source.function(sig.qualname)
        if func is None:
            continue
        for compiled in sig.params:
            param = func.param(compiled.name)
            if param is None or param.annotation is not None or param.star:
                continue
            obs = evidence.observed(func.qualname, param.name, Role.ARG)
            only_none = (obs is not None and not obs.static and (t := observed_type(obs)) is not None
                         and t.is_none)
            if param.default_kind is not ValueKind.NONE and not only_none:
                continue
            if _saw_other_values(obs):  # `incremental_state={}`: an Optional[Tensor] would contradict what ran
                assert obs is not None
                if "Unknown" in obs.type:
                    yield _unknown_elements(evidence, func, param, obs)
                continue
            seen = usable(compiled.type)
            if seen is None or seen.is_optional:
                continue
            as_bool = _as_bool(evidence, func, param) if seen == tstypes.TENSOR else None
            if as_bool:
                yield _bool_fix(evidence, func, param, f"`{param.name}` compiles as a plain Tensor (TorchScript's "
                                                       "assumption for an unannotated parameter)", as_bool, Source.SOURCE)
                continue
            ann = annotation(tstypes.optional(seen), source)
            if param.default_kind is ValueKind.NONE:
                why = f"`{param.name}=None` compiles as a plain {seen}"
            else:
                assert obs is not None
                why = (f"the probe run passed `{param.name}` only as None ({obs.count} value"
                       f"{'s' if obs.count != 1 else ''} seen in {func.qualname}); it compiles as a plain {seen}")
            yield Fix(
                CODE,
                f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                f"{why} (TorchScript assumes unannotated parameters are Tensors), so the "
                f"scripted {func.qualname} fails when called with None",
                AnnotateParam(func.qualname, param.name, ann),
                location=Location(source.path, func.first_line),
                evidence=Source.SIGNATURE,
            )


def _unknown_elements(evidence: Evidence, func: FunctionFacts, param: ParamFacts, obs: Observation) -> Fix:
    spelled = obs.type.replace("Unknown", "...")
    return Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} with the types its items have",
               f"the probe run passed `{param.name}` as {spelled} with no items ({obs.count} value"
               f"{'s' if obs.count != 1 else ''} seen in {func.qualname}), so what it holds is unknown; "
               f"unannotated, TorchScript takes it for a Tensor. Write the types your code puts in it "
               f"(fairseq's incremental state is `Optional[Dict[str, Dict[str, Optional[Tensor]]]]`), or give "
               f"the probe a value with items", None, safety=Safety.DISPLAY_ONLY,
               evidence=Source.PROBE, location=Location(evidence.source.path, func.first_line))


def _saw_other_values(obs: Observation | None) -> bool:
    """The probe saw the parameter hold something that is neither None nor a Tensor: a dict with no
    items (`Optional[Dict[Unknown, Unknown]]`), an object no TorchScript type holds."""
    if obs is None or obs.static:
        return False
    t = tstypes.try_parse(obs.type) if obs.type else None
    return t is None or not (t.is_none or without_none(t) == tstypes.TENSOR)


def _as_bool(evidence: Evidence, func: FunctionFacts, param: ParamFacts) -> str | None:
    """Why a parameter defaulting to None (or seen only as None) is an Optional[bool]: the code uses it
    as a bool (`is_causal is True`, passed on to a bool parameter) and nothing was seen in it but None
    or a bool; else None (today's Optional[Tensor])."""
    seen = observed_type(evidence.observed(func.qualname, param.name, Role.ARG))
    if seen is not None and not seen.is_none and without_none(seen) != _BOOL:
        return None
    return bool_use(evidence.source, func, param.name)


def _bool_fix(evidence: Evidence, func: FunctionFacts, param: ParamFacts, what: str, why: str, source_of: Source) -> Fix:
    ann = annotation(tstypes.optional(_BOOL), evidence.source)
    return Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
               f"{what}, and the code uses it as a bool: {why}; unannotated, TorchScript would take it for a "
               "Tensor, which cannot hold None",
               AnnotateParam(func.qualname, param.name, ann),
               evidence=source_of, location=Location(evidence.source.path, func.first_line))
