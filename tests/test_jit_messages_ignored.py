"""A call into an @torch.jit.ignore'd function: its unannotated parameters are plain Tensors in
the one schema the compiler prints (no "(inferred)"). Text as torch 2.13 prints it, for
`jitter(x, 0.1)` with `@torch.jit.ignore def jitter(x, amount)`."""

from __future__ import annotations

from tsannotate.jit_messages import parse_compile_error
from tsannotate.records import DiagnosticKind

IGNORED_CALL = '''

jitter(Tensor x, Tensor amount) -> Tensor 0:
Expected a value of type 'Tensor' for argument 'amount' but instead found type 'float'.
:
  File "/tmp/p3/capture_ign.py", line 10
    def forward(self, x, flag: bool = False):
        if flag:
            x = jitter(x, 0.1)
                ~~~~~~ <--- HERE
        return x
'''

BUILTIN_CALL = '''
Arguments for call are not valid.
The following variants are available:
  
  aten::mul.Tensor(Tensor self, Tensor other) -> Tensor:
  Expected a value of type 'Tensor' for argument 'other' but instead found type 'NoneType'.
  
  mul(float a, Tensor b) -> Tensor:
  Expected a value of type 'Tensor' for argument 'b' but instead found type 'NoneType'.

The original call is:
  File "/tmp/m.py", line 7
    def forward(self, x):
        return x * self.scale
               ~~~~~~~~~~~~~~ <--- HERE
'''


def test_an_ignored_functions_parameter_is_annotated_from_the_call() -> None:
    d = parse_compile_error(IGNORED_CALL, "RuntimeError", "Net")
    assert d.kind is DiagnosticKind.INFERRED_TENSOR
    assert (d.function, d.symbol, d.types) == ("jitter", "amount", ("float",))
    assert d.location is not None and d.location.line == 10


def test_a_builtin_overload_without_aten_prefix_is_not_a_user_function() -> None:
    d = parse_compile_error(BUILTIN_CALL, "RuntimeError", "Net")
    assert d.kind is not DiagnosticKind.INFERRED_TENSOR


OPTIONAL_INTO_A_LIBRARY_FUNCTION = '''

cross_entropy(Tensor input, Tensor target, Tensor? weight=None, bool? size_average=None, int ignore_index=-100, bool? reduce=None, str reduction="mean", float label_smoothing=0.) -> Tensor:
Expected a value of type 'Tensor' for argument 'target' but instead found type 'Optional[Tensor]'.
:
  File "/tmp/ce/ce.py", line 11
    def forward(self, x, targets: Optional[torch.Tensor] = None):
        return F.cross_entropy(x, targets)
               ~~~~~~~~~~~~~~~ <--- HERE
'''


def test_an_optional_passed_to_a_library_functions_tensor_is_not_a_parameter_to_annotate() -> None:
    """`F.cross_entropy(logits, targets)` with `targets: Optional[Tensor]`: the value needs its
    `is not None` check; cross_entropy's own (annotated) parameter is not the fix."""
    d = parse_compile_error(OPTIONAL_INTO_A_LIBRARY_FUNCTION, "RuntimeError", "Net")
    assert d.kind is DiagnosticKind.OPTIONAL_USED and d.symbol == "targets"
