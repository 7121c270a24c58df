"""TS020 for constructs found by running tsannotate on models in the style of popular code (T5's
relative buckets, word_language_model's init_hidden, beam search, CBAM, YOLO, mmdet): the real
compiler's words, from the real torch.jit.script on small models written to files, through the parser
and the rules, name the refactor."""

from __future__ import annotations

import importlib.util
import itertools
import warnings
from pathlib import Path
from textwrap import dedent

import pytest
import torch

from tsannotate import rules
from tsannotate.jit_messages import parse_compile_error
from tsannotate.loop import Loop, Options
from tsannotate.records import Evidence, Outcome, Safety
from tsannotate.source import index_source
from tsannotate.worker import Worker

_names = itertools.count()

HEAD = "import torch\nfrom torch import nn\nfrom typing import List\n\n\n"

CASES = {
    "floordiv_augassign": ("""\
        class M(nn.Module):
            def forward(self, x):
                n = x.size(0)
                n //= 2
                return x[:n]
        """, "an augmented assignment TorchScript lacks", "n = n // 2"),
    "next_parameters": ("""\
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def forward(self, x):
                weight = next(self.parameters())
                return x + weight.sum()
        """, "`next(...)` (as in `next(self.parameters())`)", "self.decoder.weight"),
    "sorted_key_lambda": ("""\
        class M(nn.Module):
            def forward(self, x):
                pairs = [(float(i), x) for i in range(3)]
                best = sorted(pairs, key=lambda t: t[0], reverse=True)
                return best[0][1]
        """, "sorting with a key", "torch.topk"),
    "one_branch_only": ("""\
        class M(nn.Module):
            def forward(self, x, kind: str):
                if kind == "avg":
                    raw = x.mean(0)
                elif kind == "max":
                    raw = x.amax(0)
                return raw
        """, "a variable assigned on one branch only", "in an `else` too"),
    "ifexp_two_types": ("""\
        class M(nn.Module):
            def forward(self, x, flag: bool):
                out = (x, x) if flag else (x,)
                return out[0]
        """, "a conditional expression with two types", "a tuple keeps its length"),
    "call_argument_module": ("""\
        def apply(func, x):
            return func(x)


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def forward(self, x):
                return apply(self.fc, x)
        """, "calling a module passed as an argument", "self.head(x)"),
    "register_buffer_in_forward": ("""\
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.cached = 0

            def _set_cache(self, n: int):
                self.cached = n
                self.register_buffer("table", torch.arange(n), persistent=False)

            def forward(self, x):
                if x.size(0) > self.cached:
                    self._set_cache(x.size(0))
                return x
        """, "`self.register_buffer(...)` in compiled code", "assign it here (`self.table = t`)"),
    "tensor_bool": ("""\
        class M(nn.Module):
            def forward(self, logits, mask):
                return torch.where(mask.bool(), logits, torch.full_like(logits, -1e8))
        """, "`.bool()` / `.bfloat16()` on a tensor", "x.to(torch.bool)"),
    "no_grad_forward": ("""\
        import torch.nn.functional as F


        class M(nn.Module):
            @torch.no_grad()
            def forward(self, x):
                return F.softmax(x, -1)
        """, "`@torch.no_grad()` on a compiled method", "with torch.no_grad():"),
}


def compile_error(tmp_path: Path, body: str) -> tuple[str, str, str]:
    """(path, source, the compiler's message) of a model file holding class `M`."""
    text = HEAD + dedent(body)
    path = tmp_path / f"advice_{next(_names)}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.jit.script(module.M())
        except Exception as exc:  # the compiler's own words
            return str(path), text, str(exc)
    raise AssertionError("the model scripted; it was meant not to")


def fixed_twice(text: str, tmp_path: Path) -> tuple[Outcome, Outcome]:
    """The loop on `text` (real worker), then on what it wrote: (first outcome, second outcome)."""
    path = tmp_path / "model.py"
    path.write_text(text)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(text)
        path.write_text(outcome.final)
        again = Loop(str(path), worker, Options(max_passes=5)).run(outcome.final)
    return outcome, again


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_compilers_real_words_get_the_refactor(case: str, tmp_path: Path) -> None:
    body, name, says = CASES[case]
    path, text, message = compile_error(tmp_path, body)
    d = parse_compile_error(message, "RuntimeError", "M")
    advice = [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]
    assert [f.title for f in advice] == [f"refactor: {name}"], (d, advice)
    [fix] = advice
    assert fix.safety is Safety.DISPLAY_ONLY and fix.edit is None and says in fix.reason
    assert fix.location is not None and fix.location.path == path  # the user's file, never torch's


def test_a_lambda_not_given_to_sorted_keeps_the_lambda_advice(tmp_path: Path) -> None:
    path, text, message = compile_error(tmp_path, """\
        class M(nn.Module):
            def forward(self, x):
                f = lambda t: t + 1
                return f(x)
        """)
    d = parse_compile_error(message, "RuntimeError", "M")
    [fix] = [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]
    assert fix.title == "refactor: lambda"


# --------------------------------------------------------------------------- TS005 from a conditional expression


def test_a_none_default_read_as_an_int_by_a_conditional_expression_is_optional_int(tmp_path: Path) -> None:
    """seq2seq's `trg_len = trg.shape[0] if max_len is None else max_len`: the probe never passed
    max_len, TS001 made it Optional[Tensor]; the compiler then names int for the other branch."""
    from tsannotate.records import AnnotateParam, Evidence as Ev

    body = """\
        from typing import Optional


        class M(nn.Module):
            def forward(self, trg, max_len: Optional[torch.Tensor] = None):
                trg_len = trg.shape[0] if max_len is None else max_len
                return torch.zeros(trg_len, 2)
        """
    path, text, message = compile_error(tmp_path, body)
    d = parse_compile_error(message, "RuntimeError", "M")
    original = index_source(path, text.replace("max_len: Optional[torch.Tensor] = None", "max_len=None"))
    [fix] = [f for f in rules.plan(Ev(index_source(path, text), (d,), original=original)) if f.code == "TS005"]
    assert isinstance(fix.edit, AnnotateParam) and fix.edit.param == "max_len"
    assert fix.edit.annotation.text == "Optional[int]" and "the false branch is `max_len`" in fix.reason
    # the user's own annotation stands: advice only
    users = [f for f in rules.plan(Ev(index_source(path, text), (d,), original=index_source(path, text)))
             if isinstance(f.edit, AnnotateParam)]
    assert users == []


def test_the_loop_ends_with_optional_int_and_the_model_scripts(tmp_path: Path) -> None:
    text = HEAD + dedent("""\
        class Decoder(nn.Module):
            def forward(self, trg, max_len=None):
                trg_len = trg.shape[0] if max_len is None else max_len
                outputs = torch.zeros(trg_len, trg.shape[1])
                for t in range(1, trg_len):
                    outputs[t] = trg[t - 1]
                return outputs


        def probe():
            return Decoder(), [(torch.randn(4, 2),)]
        """)
    outcome, again = fixed_twice(text, tmp_path)
    assert outcome.scripts and "max_len: Optional[int] = None" in outcome.final
    assert again.scripts and not again.changed


def test_a_none_default_unpacked_into_two_names_is_an_optional_pair(tmp_path: Path) -> None:
    """GPT-2's `past_key, past_value = layer_past`, layer_past=None never set by the probe."""
    text = HEAD + dedent("""\
        class Attn(nn.Module):
            def forward(self, x, layer_past=None):
                if layer_past is not None:
                    past_key, past_value = layer_past
                    x = x + past_key + past_value
                return x


        def probe():
            return Attn(), [(torch.randn(2, 3),)]
        """)
    outcome, again = fixed_twice(text, tmp_path)
    assert outcome.scripts and "layer_past: Optional[Tuple[torch.Tensor, torch.Tensor]] = None" in outcome.final
    assert again.scripts and not again.changed


def test_a_starred_unpacking_is_not_guessed(tmp_path: Path) -> None:
    from tsannotate.records import AnnotateParam

    path, text, message = compile_error(tmp_path, """\
        class M(nn.Module):
            def forward(self, x, past=None):
                if past is not None:
                    first, *rest = past
                    x = x + first
                return x
        """)
    d = parse_compile_error(message, "RuntimeError", "M")
    assert not [f for f in rules.plan(Evidence(index_source(path, text), (d,), original=index_source(path, text)))
                if isinstance(f.edit, AnnotateParam) and f.code == "TS005"]


def test_an_error_inside_torch_names_the_users_line_that_reaches_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tsannotate.cli import app

    body, _, _ = CASES["register_buffer_in_forward"]
    text = HEAD + dedent(body) + "\n\ndef probe():\n    return M(), [(torch.randn(4),)]\n"
    path = tmp_path / "model.py"
    path.write_text(text)
    result = CliRunner().invoke(app, ["fix", str(path)])
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "self.register_buffer" in l)
    assert result.exit_code == 1 and path.read_text() == text
    assert "module.py" in result.stderr and f"your code reaches it at {path}:{line}:" in result.stderr
    assert f"at {path}:{line}:" in result.stderr and "self.table = t" in result.stderr  # the advice, there too


# --------------------------------------------------------------------------- TS007 from a filled container

DETR_HEAD = HEAD + dedent("""\
    class Head(nn.Module):
        def __init__(self, aux_loss=False):
            super().__init__()
            self.proj = nn.Linear(4, 4)
            self.aux_loss = aux_loss

        def forward(self, hs):
            y = self.proj(hs)
            out = {"pred_logits": y[-1]}
            if self.aux_loss:
                out["aux_outputs"] = [{"pred_logits": a} for a in y[:-1]]
            return out


    def probe():
        return Head(), [(torch.randn(2, 3, 4),)]
    """)


def test_a_flag_guarding_an_item_of_another_type_in_a_filled_dict_becomes_final(tmp_path: Path) -> None:
    """DETR's aux_loss: `out = {...}` is not empty, so TS004 has nothing to annotate; the flag's
    branch is what must not compile."""
    path = tmp_path / "model.py"
    path.write_text(DETR_HEAD)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(DETR_HEAD)
        assert outcome.scripts and len(outcome.passes) == 1
        assert "    aux_loss: Final[bool]\n" in outcome.final
        reassigned = DETR_HEAD.replace("        return out\n", "        self.aux_loss = False\n        return out\n")
        assert reassigned != DETR_HEAD
        path.write_text(reassigned)
        other = Loop(str(path), worker, Options(max_passes=5)).run(reassigned)
    assert "aux_loss: Final" not in other.final  # assigned outside __init__: not a constant
    [d] = [d for d in other.remaining if d.symbol == "out"]
    assert d.message.startswith("`out` is a Dict[str, Tensor] (an empty container's default, or what its first items")


def test_advice_for_a_construct_inside_the_standard_library_goes_to_the_users_line(tmp_path: Path) -> None:
    """YOLOv5's SPPF: `with warnings.catch_warnings():` in forward; the compiler fails inside warnings.py."""
    path, text, message = compile_error(tmp_path, """\
        import warnings


        class M(nn.Module):
            def forward(self, x):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    y = x * 2
                return y
        """)
    d = parse_compile_error(message, "RuntimeError", "M")
    [fix] = [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "catch_warnings()" in l)
    assert fix.location is not None and fix.location.path == path and fix.location.line == line
    assert fix.title.startswith("refactor: a call into code TorchScript cannot compile")
    assert "warnings.py" in fix.reason and "keep its body" in fix.reason


def test_the_no_grad_advice_is_at_the_decorator_so_a_fix_on_the_def_line_does_not_hide_it(tmp_path: Path) -> None:
    body, _, _ = CASES["no_grad_forward"]
    path, text, message = compile_error(tmp_path, body)
    d = parse_compile_error(message, "RuntimeError", "M")
    [fix] = [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]
    decorator = next(i for i, l in enumerate(text.splitlines(), 1) if "@torch.no_grad()" in l)
    assert fix.location is not None and fix.location.line == decorator


@pytest.mark.parametrize("body, name", [
    ("""\
        from typing import List, Optional


        class M(nn.Module):
            cells: Optional[List[torch.Tensor]]

            def __init__(self):
                super().__init__()
                self.cells = None

            def forward(self, x):
                out = x
                for c in self.cells:
                    out = out + c
                return out
        """, "an Optional used as its value"),
    ("""\
        class M(nn.Module):
            def forward(self, x):
                return x.masked_fill(x > 0, torch.finfo(x.dtype).min)
        """, "torch.finfo / torch.iinfo"),
])
def test_more_real_words_get_advice(body: str, name: str, tmp_path: Path) -> None:
    path, text, message = compile_error(tmp_path, body)
    d = parse_compile_error(message, "RuntimeError", "M")
    advice = [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]
    assert [f.title for f in advice] == [f"refactor: {name}"], (d, advice)


def test_a_none_default_an_op_takes_by_keyword_gets_the_ops_type(tmp_path: Path) -> None:
    """diffusers' scheduler step: `torch.randn(x.shape, generator=generator)` with generator=None
    never set by the probe: Optional[torch.Generator], from aten::randn.generator's schema."""
    text = HEAD + dedent("""\
        class Step(nn.Module):
            def forward(self, x, eta: float = 0.0, generator=None):
                if eta > 0:
                    x = x + eta * torch.randn(x.shape, generator=generator, dtype=x.dtype)
                return x


        def probe():
            return Step(), [(torch.ones(2),)]
        """)
    outcome, again = fixed_twice(text, tmp_path)
    assert outcome.scripts and "generator: Optional[torch.Generator] = None" in outcome.final
    assert again.scripts and not again.changed


def test_a_tolist_call_on_a_parenthesised_expression_is_quoted_whole(tmp_path: Path) -> None:
    path, text, message = compile_error(tmp_path, """\
        class M(nn.Module):
            def forward(self, x, n: int):
                steps = 0
                steps = (torch.arange(0, n) * 10).flip(0).tolist()
                return x
        """)
    d = parse_compile_error(message, "RuntimeError", "M")
    assert d.message.endswith("(`(torch.arange(0, n) * 10).flip(0).tolist()`)")


def test_an_empty_list_attribute_that_forward_resets_gets_its_class_level_type(tmp_path: Path) -> None:
    """N-BEATS' `self._intermediary_outputs = []` in __init__ and again in forward: TorchScript drops
    the attribute it cannot type and says "Tried to set nonexistent attribute"."""
    text = HEAD + dedent("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(3, 3)
                self._trace = []

            def forward(self, x):
                self._trace = []
                for _ in range(2):
                    x = self.lin(x)
                    self._trace.append(x)
                return x


        def probe():
            return Net(), [(torch.randn(2, 3),)]
        """)
    outcome, again = fixed_twice(text, tmp_path)
    assert outcome.scripts and "    _trace: List[torch.Tensor]\n" in outcome.final
    assert again.scripts and not again.changed
