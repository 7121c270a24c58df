"""pytest plugin (entry point `pytest11`): the `assert_scriptable` fixture.

    def test_net_scripts(assert_scriptable):
        assert_scriptable(Net(), [(torch.ones(2, 4),)])

torch and tsannotate's checks are imported only when a test asks for the fixture, so having
tsannotate installed costs other test sessions nothing. Disable with `-p no:tsannotate`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(name="assert_scriptable")
def assert_scriptable_fixture() -> Callable[..., Any]:
    """`assert_scriptable(model, inputs)`: see tsannotate.testing."""
    from tsannotate.testing import assert_scriptable

    return assert_scriptable
