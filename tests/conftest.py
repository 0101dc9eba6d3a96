"""Shared fixtures: the test stacks in `tests/fixtures/`, and the stacks shipped in `stacks/`.

The shipped stacks are examples users edit: only `tests/test_shipped_stacks.py` reads them.
Every test that needs fixed inputs reads the copies in `tests/fixtures/` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlib.spec import MeshSpec, load_spec_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SHIPPED_STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def fixture_stack(name: str) -> Path:
    """The fixed test stack `tests/fixtures/Pulumi.<name>.yaml`."""
    return FIXTURES / f"Pulumi.{name}.yaml"


# The test stacks every topology test runs on (golden files in tests/golden/ are generated from these).
STACKS = [fixture_stack(name) for name in ("existing", "multi-primary", "primary-remote")]


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


@pytest.fixture(params=STACKS, ids=stack_name)
def stack_file(request: pytest.FixtureRequest) -> Path:
    return request.param  # type: ignore[no-any-return]


def example(name: str) -> MeshSpec:
    """The validated spec of the test stack `tests/fixtures/Pulumi.<name>.yaml`."""
    return load_spec_file(fixture_stack(name))
