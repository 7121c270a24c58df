"""Mapping lines of an edited text back to the original file's lines."""

from __future__ import annotations

from tsannotate.lines import relocate, to_original
from tsannotate.records import Location

ORIGINAL = "import torch\n\n\nclass A:\n    def f(self, x):\n        return x\n"
EDITED = ("import torch\nfrom typing import Optional\n\n\nclass A:\n    c: int\n\n"
          "    def f(self, x: int):\n        return x\n")


def test_unchanged_text_maps_to_itself() -> None:
    mapper = to_original(ORIGINAL, ORIGINAL)
    assert [mapper(n) for n in (1, 5, 6)] == [1, 5, 6]


def test_lines_after_insertions_and_edits_map_back() -> None:
    mapper = to_original(ORIGINAL, EDITED)
    assert mapper(1) == 1  # import torch
    assert mapper(5) == 4  # class A:
    assert mapper(8) == 5  # the edited def line
    assert mapper(9) == 6  # return x


def test_relocate_only_touches_the_model_file() -> None:
    mapper = to_original(ORIGINAL, EDITED)
    assert relocate(Location("/m.py", 8, 4), "/m.py", mapper) == Location("/m.py", 5, 4)
    assert relocate(Location("/probe.py", 8), "/m.py", mapper) == Location("/probe.py", 8)
    assert relocate(None, "/m.py", mapper) is None
