"""The stacks shipped in `stacks/` are examples users edit: the one test that reads them.

Every other test uses the fixed copies in `tests/fixtures/`, so editing a shipped stack can
only break this test, and only if the edit leaves the stack invalid or unplannable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshlib.__main__ import main
from meshlib.spec import load_spec_file
from tests.conftest import SHIPPED_STACKS, stack_name


@pytest.mark.parametrize("stack", SHIPPED_STACKS, ids=stack_name)
def test_every_shipped_stack_is_valid_and_plans(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = load_spec_file(stack)
    assert spec.clusters and all(cluster.network for cluster in spec.clusters)
    assert main(["plan", "--stack", str(stack), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stack"] == stack_name(stack) and plan["resources"]
