"""TorchScript type spellings → TSType → annotation text in the file's own style."""

from __future__ import annotations

import pytest

from tsannotate import tstypes
from tsannotate.records import ImportName, ImportStyle
from tsannotate.tstypes import TSType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Tensor", "Tensor", id="tensor"),
        pytest.param("Tensor (inferred)", "Tensor", id="inferred-suffix"),
        pytest.param("int[]", "List[int]", id="schema-list"),
        pytest.param("Tensor?", "Optional[Tensor]", id="schema-optional"),
        pytest.param("int[]?", "Optional[List[int]]", id="schema-optional-list"),
        pytest.param("Dict(str, int)", "Dict[str, int]", id="schema-dict"),
        pytest.param("(int, Tensor)", "Tuple[int, Tensor]", id="schema-tuple"),
        pytest.param("Dict[str, List[int]]", "Dict[str, List[int]]", id="typing-nested"),
        pytest.param("typing.Optional[torch.Tensor]", "Optional[Tensor]", id="qualified"),
        pytest.param("list[int]", "List[int]", id="builtin-generic"),
        pytest.param("None", "NoneType", id="none"),
        pytest.param("Tuple[int, int]", "Tuple[int, int]", id="tuple"),
    ],
)
def test_parse(text: str, expected: str) -> None:
    assert str(tstypes.parse(text)) == expected


@pytest.mark.parametrize("text", ["List[", "Dict[str int", "1nt", ""])
def test_parse_rejects_garbage(text: str) -> None:
    assert tstypes.try_parse(text) is None


@pytest.mark.parametrize(
    ("a", "b", "joined"),
    [
        ("NoneType", "Tensor", "Optional[Tensor]"),
        ("Tensor", "NoneType", "Optional[Tensor]"),
        ("Optional[int]", "int", "Optional[int]"),
        ("int", "int", "int"),
        ("int", "float", "float"),
        ("int", "str", "Union[int, str]"),
    ],
)
def test_join(a: str, b: str, joined: str) -> None:
    assert str(tstypes.join(tstypes.parse(a), tstypes.parse(b))) == joined


def test_render_uses_torch_tensor_and_imports_typing() -> None:
    ann = tstypes.render(tstypes.parse("Optional[Tensor]"), ImportStyle())
    assert ann.text == "Optional[torch.Tensor]"
    assert set(ann.imports) == {ImportName("torch"), ImportName("typing", "Optional")}


def test_render_follows_from_torch_import_tensor() -> None:
    ann = tstypes.render(tstypes.parse("Dict[str, Tensor]"), ImportStyle(tensor="Tensor"))
    assert ann.text == "Dict[str, Tensor]"
    assert ann.imports == (ImportName("typing", "Dict"),)


def test_render_follows_import_typing_module() -> None:
    style = ImportStyle(typing_module="t", torch_alias="th")
    ann = tstypes.render(tstypes.parse("List[Tensor]"), style)
    assert ann.text == "t.List[th.Tensor]"
    assert ann.imports == ()


def test_render_name_already_imported_needs_no_import() -> None:
    ann = tstypes.render(TSType("List", (TSType("int"),)), ImportStyle(typing_names=frozenset({"List"})))
    assert (ann.text, ann.imports) == ("List[int]", ())


@pytest.mark.parametrize(("text", "ok"), [("List[int]", True), ("Any", False), ("object", False),
                                          ("Dict[str, number]", False), ("Optional[Tensor]", True)])
def test_is_expressible(text: str, ok: bool) -> None:
    assert tstypes.is_expressible(tstypes.parse(text)) is ok


@pytest.mark.parametrize(
    ("a", "b", "joined"),
    [
        pytest.param("List[Unknown]", "List[int]", "List[int]", id="empty-list-takes-filled"),
        pytest.param("Dict[Unknown, Unknown]", "Dict[str, List[int]]", "Dict[str, List[int]]", id="empty-dict"),
        pytest.param("List[int]", "List[float]", "List[float]", id="elementwise"),
        pytest.param("Tuple[int, Tensor]", "Tuple[NoneType, Tensor]", "Tuple[Optional[int], Tensor]", id="tuple"),
        pytest.param("Optional[int]", "NoneType", "Optional[int]", id="optional-none"),
        pytest.param("Optional[List[Unknown]]", "List[int]", "Optional[List[int]]", id="optional-elementwise"),
        pytest.param("Union[int, str]", "str", "Union[int, str]", id="union-absorbs"),
    ],
)
def test_join_containers(a: str, b: str, joined: str) -> None:
    assert str(tstypes.join(tstypes.parse(a), tstypes.parse(b))) == joined


def test_join_all_and_unknown_is_not_expressible() -> None:
    t = tstypes.join_all(tstypes.parse(x) for x in ["NoneType", "Tensor", "NoneType"])
    assert str(t) == "Optional[Tensor]"
    assert tstypes.join_all([]) == tstypes.UNKNOWN
    assert not tstypes.is_expressible(tstypes.parse("List[Unknown]"))
