"""The TorchScript type of an expression inside a function, where the evidence says it plainly.

Used where a rule must know what a value *other than None* is, before the compiler gets far
enough to say: `lengths = self.count(mask) if mask is not None else None` is an
`Optional[Tensor]` when `self.count` is a module of this file whose compiled `forward` returns a
Tensor. Only what needs no guessing about user code:

- a parameter: its annotation, else what the probe saw, else (unannotated, unobserved) a Tensor,
  which is what TorchScript compiles it as;
- a call of a function or module of this file (`callee_of`): its compiled return type (the
  worker's signatures), else the probe's, else its return annotation;
- a call of a `torch.nn` layer that returns one Tensor (`self.proj = nn.Linear(...)`);
- a Tensor method that returns a Tensor (`mask.unsqueeze(1).float()`), indexing a Tensor,
  arithmetic and comparison with a Tensor operand, `~` and `-` of one.

Anything else is None: unknown.
"""

from __future__ import annotations

import ast
import re

from tsannotate import tstypes
from tsannotate.records import Evidence, FunctionFacts, Role
from tsannotate.rules._bool_params import callee_of
from tsannotate.rules._common import observed_type, usable, without_none
from tsannotate.tstypes import TSType

# Tensor methods whose result is a Tensor whatever their arguments
TENSOR_METHODS = frozenset("""
    abs add bool byte ceil clamp clamp_min clamp_max clone contiguous cumsum cumprod detach div double
    eq exp expand expand_as flatten flip float floor ge gt half int le log logical_and logical_not
    logical_or long lt masked_fill matmul mean mul ne neg permute pow reciprocal relu repeat reshape
    reshape_as round rsqrt sigmoid sign sin cos softmax log_softmax sqrt square squeeze sub sum t tanh
    to transpose tril triu type_as unsqueeze view view_as
""".split())

# torch.nn layers whose forward returns one Tensor
TENSOR_LAYERS = frozenset("""
    Linear Bilinear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LayerNorm
    BatchNorm1d BatchNorm2d BatchNorm3d GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm Dropout
    Dropout1d Dropout2d Embedding EmbeddingBag Identity ReLU ReLU6 GELU SiLU Mish Sigmoid Tanh
    Softmax LogSoftmax LeakyReLU ELU Hardswish Hardsigmoid MaxPool1d MaxPool2d AvgPool1d AvgPool2d
    AdaptiveAvgPool1d AdaptiveAvgPool2d Flatten Upsample
""".split())

_LAYER_CALL = re.compile(r"^\s*(?:torch\.)?nn\.(?P<layer>\w+)\s*\(")


def value_type(evidence: Evidence, func: FunctionFacts, text: str) -> TSType | None:
    """The type of the expression `text` in `func`, or None when the evidence does not say."""
    try:
        expr = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _type(evidence, func, expr, text.strip())


def _type(evidence: Evidence, func: FunctionFacts, expr: ast.expr, text: str) -> TSType | None:
    if isinstance(expr, ast.Name):
        return _param_type(evidence, func, expr.id)
    if isinstance(expr, ast.Call):
        return _call_type(evidence, func, expr, text)
    if isinstance(expr, ast.Subscript):
        return tstypes.TENSOR if _type(evidence, func, expr.value, text) == tstypes.TENSOR else None
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.Invert, ast.USub)):
        return tstypes.TENSOR if _type(evidence, func, expr.operand, text) == tstypes.TENSOR else None
    if isinstance(expr, (ast.BinOp, ast.Compare)):
        operands = [expr.left, expr.right] if isinstance(expr, ast.BinOp) else [expr.left, *expr.comparators]
        if isinstance(expr, ast.Compare) and len(operands) != 2:
            return None
        return tstypes.TENSOR if any(_type(evidence, func, o, text) == tstypes.TENSOR for o in operands) else None
    return None


def _param_type(evidence: Evidence, func: FunctionFacts, name: str) -> TSType | None:
    param = func.param(name)
    if param is None or param.star or (func.class_name is not None and param is func.params[0]):
        return None
    if param.annotation is not None:
        t = usable(param.annotation)
        return without_none(t) if t is not None and not t.is_none else None
    seen = observed_type(evidence.observed(func.qualname, name, Role.ARG))
    if seen is not None:
        return None if seen.is_none else without_none(seen)
    return tstypes.TENSOR  # unannotated and never seen: TorchScript compiles it as a Tensor


def _call_type(evidence: Evidence, func: FunctionFacts, call: ast.Call, text: str) -> TSType | None:
    target = call.func
    callee_text = ast.get_source_segment(text, target)
    if callee_text is None:
        return None
    callee = callee_of(evidence.source, func, " ".join(callee_text.split()))
    if callee is not None:
        return _returns(evidence, callee)
    if not isinstance(target, ast.Attribute):
        return None
    if isinstance(target.value, ast.Name) and target.value.id == "self" and func.class_name is not None:
        layers = {m.group("layer") for a in evidence.source.attributes
                  if a.class_name == func.class_name and a.attr == target.attr
                  for m in [_LAYER_CALL.match(a.value_text)] if m}
        return tstypes.TENSOR if layers and layers <= TENSOR_LAYERS else None
    if target.attr in TENSOR_METHODS and _type(evidence, func, target.value, text) == tstypes.TENSOR:
        return tstypes.TENSOR
    return None


def _returns(evidence: Evidence, callee: FunctionFacts) -> TSType | None:
    for s in evidence.signatures:
        if s.qualname == callee.qualname and s.returns and s.path in ("", evidence.source.path):
            return usable(s.returns)
    seen = observed_type(evidence.observed(callee.qualname, "", Role.RETURN))
    if seen is not None:
        return seen
    return usable(callee.returns) if callee.returns else None
