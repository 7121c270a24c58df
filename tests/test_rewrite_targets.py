"""apply_edits walks only the top-level statements that can hold an edit's target: the same
result as walking the whole module, for targets in classes, under compound statements, and
behind same-named statements."""

from __future__ import annotations

from textwrap import dedent

from tsannotate.records import AnnotateAttribute, AnnotateParam, Annotation
from tsannotate.rewrite import apply_edits

INT = Annotation("int")

SRC = dedent("""\
    import torch
    helper = None  # a simple statement named like the target: never a def


    class Net(torch.nn.Module):
        def forward(self, x, k):
            return x * k


    if torch.__version__:
        def helper(x, k):
            return x * k
    else:
        def helper(x, k):
            return x - k


    def helper(x, k):
        return x + k
    """)


def test_a_def_under_a_top_level_if_is_found_first() -> None:
    """The whole-module walk meets the def inside the `if` first, so does the targeted one."""
    result = apply_edits(SRC, [AnnotateParam("helper", "k", INT)])
    assert result.applied
    assert result.text.count("def helper(x, k: int):") == 1
    assert result.text.index("def helper(x, k: int):") < result.text.index("else:")


def test_targets_in_classes_and_every_edit_in_one_call() -> None:
    result = apply_edits(SRC, [AnnotateParam("Net.forward", "k", INT), AnnotateAttribute("Net", "scale", INT),
                               AnnotateParam("helper", "x", INT)])
    assert len(result.applied) == 3
    assert "def forward(self, x, k: int):" in result.text
    assert "class Net(torch.nn.Module):\n    scale: int\n" in result.text
    assert "    def helper(x: int, k):\n        return x * k" in result.text


def test_a_missing_target_is_skipped_with_its_reason() -> None:
    result = apply_edits(SRC, [AnnotateParam("Other.forward", "k", INT)])
    assert not result.applied
    assert result.skipped[0][1] == "no function 'Other.forward'"
