"""Config flags: `if self.use_norm:` branches on a bool attribute that could be a Final constant.
Shared by TS007 (make the flag Final) and TS008/TS009 (leave the flag's helpers to TS007)."""

from __future__ import annotations

import re

from tsannotate.records import Evidence, Role, SourceIndex, ValueKind
from tsannotate.rules._common import observed_type
from tsannotate.tstypes import TSType

_FLAG_TEST = re.compile(r"^(?:not\s+)?self\.(\w+)(?:\s+is\s+(?:not\s+)?None)?$")


def flag_at(evidence: Evidence, class_name: str, function: str, line: int) -> str | None:
    """The bool attribute whose `if self.flag:` statement (in `function` of `class_name`) holds `line`."""
    source = evidence.source
    for b in source.branches:
        m = _FLAG_TEST.match(b.test)
        if m and b.function == function and b.first_line < line <= b.last_line \
                and is_bool(class_name, m.group(1), evidence):
            return m.group(1)
    return None


def common_flag(evidence: Evidence, class_name: str, sites: list[tuple[str, int]]) -> str | None:
    """The one flag every (function, line) site sits under, if there is one."""
    flags = {flag_at(evidence, class_name, function, line) for function, line in sites}
    return flags.pop() if len(flags) == 1 and sites else None


def constant_flag(source: SourceIndex, class_name: str, attr: str) -> bool:
    """Assigned nowhere but `__init__` and not yet a constant: TS007 will propose Final for it."""
    cls = source.cls(class_name)
    if cls is None or attr in cls.constants or "Final" in (cls.annotation(attr) or ""):
        return False
    return all(a.function == f"{class_name}.__init__" for a in source.attributes
               if a.class_name == class_name and a.attr == attr)


def is_bool(class_name: str, attr: str, evidence: Evidence) -> bool:
    """The attribute holds a bool: the probe saw one, `__init__` assigns a bool literal, or a
    parameter of `__init__` that defaults to (or is annotated) bool."""
    source = evidence.source
    seen = observed_type(evidence.observed(class_name, attr, Role.ATTR))
    if seen is not None:
        return seen == TSType("bool")
    init = source.function(f"{class_name}.__init__")
    for a in source.attributes:
        if a.class_name != class_name or a.attr != attr:
            continue
        param = init.param(a.value_text.strip()) if init else None
        if a.value is ValueKind.BOOL or (param is not None and (
                param.default_kind is ValueKind.BOOL or param.annotation == "bool")):
            return True
    return False


def off_by_default(source: SourceIndex, class_name: str, attr: str) -> bool:
    """`__init__` sets the flag to False, or to a parameter that defaults to False."""
    init = source.function(f"{class_name}.__init__")
    values = [a.value_text.strip() for a in source.attributes if a.class_name == class_name and a.attr == attr]
    if len(values) != 1:
        return False
    param = init.param(values[0]) if init else None
    return values[0] == "False" or (param is not None and (param.default or "").strip() == "False")
