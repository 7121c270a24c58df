"""`assert_scriptable(model, inputs)`: keep a library's modules scriptable, from its own tests.

    from tsannotate.testing import assert_scriptable

    def test_encoder_scripts():
        assert_scriptable(Encoder(), [(tokens,), (tokens, mask)])

Runs in the test's own process (torch is already imported there): scripts the model, runs
the eager and the scripted model on each input and compares the outputs (tensors: shape,
dtype, values; other values exactly; nested structures walked), then does the same after a
`torch.jit.save`/`torch.jit.load` round trip. On failure the AssertionError says what failed
and shows the fix tsannotate would propose: its rules run on the compiler's messages and the
compiled signatures, against the source file the model's class is defined in. The same helper
is a pytest fixture, `assert_scriptable`, through the `pytest11` entry point.
"""

from __future__ import annotations

import copy
import inspect
import io
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from tsannotate.records import CompiledSignature, Diagnostic, Evidence
from tsannotate.worker.compare import fresh_args, mismatch, snapshot

__all__ = ["assert_scriptable"]


def assert_scriptable(model: Any, inputs: Sequence[Any] | None = None, *,
                      save: bool = True, derived: bool = True) -> Any:
    """Script `model` and check it equals eager on `inputs`; return the scripted model.

    `inputs` is a list of argument tuples (`[(x,), (x, mask)]`); a bare tensor stands for a
    one-argument call. With `derived`, inputs resized to another batch size and another length
    are checked too (those the eager model accepts), as `tsannotate verify` does. With `save`,
    the `torch.jit.save`/`load` copy is checked as well. Raises AssertionError with the
    diagnostics and the fix tsannotate would propose.
    """
    calls = [(f"input {i}", a if isinstance(a, tuple) else (a,)) for i, a in enumerate(inputs or [])]
    name = _name(model)
    eager = copy.deepcopy(model) if isinstance(model, nn.Module) else model
    try:
        scripted = torch.jit.script(model)
    except Exception as exc:
        from tsannotate.jit_messages import parse_compile_error

        d = parse_compile_error(str(exc), type(exc).__name__, name)
        raise AssertionError(_message(f"{name} does not script", model, [d], [])) from None
    signatures = _signatures(model, scripted)
    saved, save_error = _save(scripted) if save else (None, "")
    expected = []
    for _, args in calls:
        torch.manual_seed(0)
        expected.append(snapshot(eager(*fresh_args(args))))
    if derived:
        from tsannotate.worker.variants import derive

        for label, args in derive([args for _, args in calls]):
            torch.manual_seed(0)
            try:
                expected.append(snapshot(eager(*fresh_args(args))))
            except Exception:
                continue  # a shape the model does not take: not a scripting question
            calls.append((label.removeprefix("probe "), args))
    _compare("scripted", scripted, calls, expected, model, signatures)
    if save_error:
        raise AssertionError(_message(f"{name} scripts, but torch.jit.save fails: {save_error}",
                                      model, [], signatures))
    if saved is not None:
        loaded = torch.jit.load(io.BytesIO(saved))  # type: ignore[no-untyped-call]
        _compare("saved and loaded", loaded, calls, expected, model, signatures)
    return scripted


def _save(scripted: Any) -> tuple[bytes | None, str]:
    if not isinstance(scripted, torch.jit.ScriptModule):
        return None, ""  # a scripted function: torch.jit.save takes modules
    buffer = io.BytesIO()
    try:
        torch.jit.save(scripted, buffer)
    except Exception as exc:
        return None, next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return buffer.getvalue(), ""


def _compare(stage: str, compiled: Any, calls: list[tuple[str, tuple[Any, ...]]],
             expected: list[Any], model: Any, signatures: list[CompiledSignature]) -> None:
    name = _name(model)
    for (label, args), want in zip(calls, expected):
        torch.manual_seed(0)
        try:
            got = compiled(*fresh_args(args))
        except Exception as exc:
            from tsannotate.jit_messages import parse_call_error

            d = parse_call_error(str(exc), name)
            raise AssertionError(_message(f"{stage} {name} raises on {label}: {d.message}",
                                          model, [d], signatures)) from None
        diff = mismatch(want, got)
        if diff is not None:
            where, got_text, expected_text = diff
            raise AssertionError(_message(
                f"{stage} {name} differs from eager on {label} at {where}: it returns "
                f"{got_text} where eager returns {expected_text}", model, [], signatures))


def _name(model: Any) -> str:
    return type(model).__name__ if isinstance(model, nn.Module) else getattr(model, "__name__", "model")


def _signatures(model: Any, scripted: Any) -> list[CompiledSignature]:
    """How TorchScript typed the model's methods (evidence for TS001: `mask=None` as Tensor)."""
    module = sys.modules.get(getattr(type(model) if isinstance(model, nn.Module) else model,
                                     "__module__", "") or "")
    path = _source_file(model)
    if module is None or path is None or not isinstance(model, nn.Module):
        return []
    from tsannotate.worker.loader import Loaded
    from tsannotate.worker.signatures import method_signatures

    try:
        return method_signatures(Loaded(path, module, module.__name__), model, scripted)
    except Exception:
        return []


def _source_file(model: Any) -> str | None:
    try:
        return inspect.getsourcefile(type(model) if isinstance(model, nn.Module) else model)
    except (TypeError, OSError):
        return None


def _message(headline: str, model: Any, diagnostics: list[Diagnostic],
             signatures: list[CompiledSignature]) -> str:
    from tsannotate import report

    lines = [headline]
    lines += [f"  {report.diagnostic_line(d)}" for d in diagnostics]
    lines += _proposal(model, diagnostics, signatures)
    return "\n".join(lines)


def _proposal(model: Any, diagnostics: list[Diagnostic],
              signatures: list[CompiledSignature]) -> list[str]:
    """The fixes tsannotate's rules propose for this evidence, with the diff they make."""
    from tsannotate import report, rules
    from tsannotate.rewrite import apply_edits
    from tsannotate.source import index_source

    path = _source_file(model)
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fixes = rules.plan(Evidence(index_source(path, text), tuple(diagnostics), tuple(signatures)))
        edits = [fix.edit for fix in fixes if fix.edit is not None]
        after = apply_edits(text, edits).text if edits else text
    except Exception as exc:  # the message must never be lost to a tsannotate bug
        return [f"(tsannotate could not propose a fix: {type(exc).__name__}: {exc})"]
    shown = report.shown(path)
    if not fixes:
        return [f"tsannotate proposes no fix from this alone; `tsannotate fix {shown}` with a probe "
                "also uses the runtime types it sees"]
    lines = ["tsannotate would propose:"]
    lines += ["  " + report.fix_line(fix).replace("\n", "\n  ") for fix in fixes]
    if after != text:
        lines.append(report.diff_text(path, text, after).rstrip("\n"))
    lines.append(f"write it with `tsannotate fix {shown} --apply`")
    return lines
