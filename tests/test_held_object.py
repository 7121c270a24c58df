"""TS015: a plain Python object a module holds as an attribute (`self.box_coder = BoxCoder(...)`,
`self.config = config`), which TorchScript says "could not be converted".

The rule tests build evidence by hand from the real compiler's words (torch 2.13, pinned below);
the worker tests run the real recorder and `torch.jit.script` in this process.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tsannotate import rules
from tsannotate.jit_messages import parse_compile_error
from tsannotate.records import (
    AnnotateParam,
    DiagnosticKind,
    Evidence,
    Location,
    Observation,
    Role,
    Safety,
    ScriptRequest,
)
from tsannotate.source import index_source
from tsannotate.worker.main import handle
from tsannotate.worker.recorder import Recorder, held_objects

PATH = "/p/model.py"

BOX_CODER = textwrap.dedent('''\
    import math
    import torch
    import torch.nn as nn


    class BoxCoder(object):
        def __init__(self, weights, bbox_xform_clip=math.log(1000. / 16)):
            self.weights = weights
            self.bbox_xform_clip = bbox_xform_clip

        def decode(self, codes):
            wx, wy, ww, wh = self.weights
            return torch.clamp(codes / wx, max=self.bbox_xform_clip)


    class Head(nn.Module):
        def __init__(self, scale=2.0):
            super().__init__()
            self.scale = scale
            self.box_coder = BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))

        def forward(self, codes):
            return self.box_coder.decode(codes) * self.scale


    def probe():
        return Head(), [(torch.randn(3, 4),)]
    ''')

# torch.jit.script(Head()) on BOX_CODER, as torch 2.13 words it
BOX_CODER_ERROR = '''
Module 'Head' has no attribute 'box_coder' (This attribute exists on the Python module, but we failed to convert Python type: 'model.BoxCoder' to a TorchScript type. Only tensors and (possibly nested) tuples of tensors, lists, or dicts are supported as inputs or outputs of traced functions, but instead got value of type BoxCoder.. Its type was inferred; try adding a type annotation for the attribute.):
  File "/p/model.py", line 23
    def forward(self, codes):
        return self.box_coder.decode(codes) * self.scale
               ~~~~~~~~~~~~~~ <--- HERE
'''

CONFIG = textwrap.dedent('''\
    from dataclasses import dataclass

    import torch
    import torch.nn as nn


    @dataclass
    class Config:
        block_size: int = 8
        dim: int = 4


    class Model(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.config = cfg
            self.proj = nn.Linear(cfg.dim, cfg.dim)

        def forward(self, x):
            assert x.size(1) <= self.config.block_size and x.size(2) == self.config.dim
            x = self.proj(x)
            return x[:, : self.config.block_size]


    def probe():
        return Model(Config()), [(torch.randn(2, 3, 4),)]
    ''')

CONFIG_ERROR = '''
Module 'Model' has no attribute 'config' (This attribute exists on the Python module, but we failed to convert Python type: 'model.Config' to a TorchScript type. Only tensors and (possibly nested) tuples of tensors, lists, or dicts are supported as inputs or outputs of traced functions, but instead got value of type Config.. Its type was inferred; try adding a type annotation for the attribute.):
  File "/p/model.py", line 20
    def forward(self, x):
        assert x.size(1) <= self.config.block_size and x.size(2) == self.config.dim
                            ~~~~~~~~~~~ <--- HERE
        x = self.proj(x)
        return x[:, : self.config.block_size]
'''


def built(name: str, type_: str) -> Observation:
    """What the worker reports for a constructor argument: keyed by the class, not the method."""
    return Observation("BoxCoder", name, Role.ARG, type_, path=PATH)


def test_the_constructor_of_a_held_object_gets_the_types_the_probe_built_it_with() -> None:
    diag = parse_compile_error(BOX_CODER_ERROR, "RuntimeError", "Head")
    assert diag.kind is DiagnosticKind.ATTRIBUTE_CONVERSION
    ev = Evidence(index_source(PATH, BOX_CODER), (diag,), observations=(
        built("weights", "Tuple[float, float, float, float]"), built("bbox_xform_clip", "float")))
    fixes = [f for f in rules.plan(ev) if f.code == "TS015"]
    assert [f.edit for f in fixes] == [
        AnnotateParam("BoxCoder.__init__", "weights", fixes[0].edit.annotation),  # type: ignore[union-attr]
        AnnotateParam("BoxCoder.__init__", "bbox_xform_clip", fixes[1].edit.annotation),  # type: ignore[union-attr]
    ]
    assert [f.edit.annotation.text for f in fixes if isinstance(f.edit, AnnotateParam)] == [
        "Tuple[float, float, float, float]", "float"]
    assert all(f.safety is Safety.SAFE and f.location == Location(PATH, 7) for f in fixes)
    assert "the probe built BoxCoder with `weights` as Tuple[float, float, float, float]" in fixes[0].reason


def test_constructor_observations_are_not_a_function_s_arguments() -> None:
    """Keyed by the class, they stay out of the rules that read what a function was passed
    (TS005 would annotate every __init__ the probe saw called), and without a compiler error
    about the class they change nothing."""
    obs = (built("weights", "Tuple[float, float, float, float]"), built("bbox_xform_clip", "float"))
    assert [f for f in rules.plan(Evidence(index_source(PATH, BOX_CODER), (), observations=obs))
            if isinstance(f.edit, AnnotateParam) and f.edit.function == "BoxCoder.__init__"] == []


def test_an_error_inside_the_held_class_also_names_it() -> None:
    """The worker compiles the class again to surface its own error (here, in decode): that
    error alone (the class in another pass, or another file's module holding it) is enough."""
    own = parse_compile_error('''
Tensor (inferred) cannot be used as a tuple:
  File "/p/model.py", line 12
    def decode(self, codes):
        wx, wy, ww, wh = self.weights
                         ~~~~~~~~~~~~ <--- HERE
        return torch.clamp(codes / wx, max=self.bbox_xform_clip)
''', "RuntimeError", "Head.box_coder")
    ev = Evidence(index_source(PATH, BOX_CODER), (own,), observations=(built("bbox_xform_clip", "float"),))
    [fix] = [f for f in rules.plan(ev) if f.code == "TS015"]
    assert fix.edit == AnnotateParam("BoxCoder.__init__", "bbox_xform_clip", fix.edit.annotation)  # type: ignore[union-attr]


def test_a_held_dataclass_gets_advice_naming_the_fields_read_at_the_line() -> None:
    diag = parse_compile_error(CONFIG_ERROR, "RuntimeError", "Model")
    ev = Evidence(index_source(PATH, CONFIG), (diag,))
    [fix] = [f for f in rules.plan(ev) if f.code == "TS015"]
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert fix.location == Location(PATH, 20, 28)
    assert fix.title == "copy the Config fields Model reads from `self.config` into attributes"
    assert ("this line reads `self.config.block_size`, `self.config.dim`: in Model.__init__ write "
            "`self.block_size = cfg.block_size`; `self.dim = cfg.dim`, and read `self.block_size`, "
            "`self.dim` here instead") in fix.reason
    assert "`self.config` is also read at line 22: copy what those read the same way" in fix.reason
    # the TS006 diagnostic itself is no longer "no rule could tell"
    assert not any(f.code == "TS006" for f in rules.plan(ev))


def test_no_advice_for_an_empty_container_or_a_method_call() -> None:
    empty = parse_compile_error(CONFIG_ERROR.replace("'model.Config'", "'list'"), "RuntimeError", "Model")
    call = parse_compile_error(BOX_CODER_ERROR, "RuntimeError", "Head")  # decode(...) is no field
    for diag in (empty, call):
        src = CONFIG if diag is empty else BOX_CODER
        assert [f for f in rules.plan(Evidence(index_source(PATH, src), (diag,))) if f.code == "TS015"] == []


# --------------------------------------------------------------------------- worker


def _load(tmp_path: Path, name: str, text: str) -> tuple[object, str]:
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, str(path)


def test_the_constructor_recorder_sees_only_plain_objects_the_model_holds(tmp_path: Path) -> None:
    module, path = _load(tmp_path, "held_recorded_model", BOX_CODER + textwrap.dedent('''

        class Unheld(object):
            def __init__(self, k):
                self.k = k


        def build():
            Unheld(3)  # built, never held: not reported
            return Head(scale=3.0)
        '''))
    rec = Recorder({path}, constructors=True)
    with rec.active():
        model = module.build()  # type: ignore[attr-defined]
        model(__import__("torch").ones(2, 4))  # forward calls are not recorded in this mode
    seen = {(o.qualname, o.name, o.role): o.type for o in held_objects(rec, [model])}
    assert seen == {("BoxCoder", "weights", Role.ARG): "Tuple[float, float, float, float]",
                    ("BoxCoder", "bbox_xform_clip", Role.ARG): "float"}
    everything = {(o.qualname, o.name) for o in rec.observations()}
    assert ("Unheld", "k") in everything and ("Head", "scale") not in everything  # a module's __init__: never


def test_the_worker_reports_the_constructor_and_the_held_class_s_own_error(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(BOX_CODER)
    report = handle(ScriptRequest(str(path), BOX_CODER))
    assert report.load_error is None
    seen = {(o.qualname, o.name, o.role): o.type for o in report.observations}
    assert seen["BoxCoder", "weights", Role.ARG] == "Tuple[float, float, float, float]"
    assert seen["BoxCoder", "bbox_xform_clip", Role.ARG] == "float"
    assert not any(q in ("Head", "Head.__init__") and r is Role.ARG for q, _, r in seen)
    assert seen["BoxCoder.decode", "codes", Role.ARG] == "Tensor"  # forward's calls, as before
    where = {(d.kind, d.location.line if d.location else 0) for d in report.diagnostics}
    assert (DiagnosticKind.ATTRIBUTE_CONVERSION, 23) in where
    assert any(d.location is not None and d.location.line == 12 and d.target == "Head.box_coder"
               and "cannot be used as a tuple" in d.message for d in report.diagnostics)


def test_a_held_dataclass_is_not_compiled_again(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(CONFIG)
    report = handle(ScriptRequest(str(path), CONFIG))
    assert [d.kind for d in report.diagnostics] == [DiagnosticKind.ATTRIBUTE_CONVERSION]
    assert not any(o.qualname == "Config" for o in report.observations)  # its __init__ is generated code
