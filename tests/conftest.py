"""Shared fixtures: the stacks shipped in `stacks/`."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlib.spec import MeshSpec, load_spec_file

ROOT = Path(__file__).resolve().parent.parent
STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


@pytest.fixture(params=STACKS, ids=stack_name)
def stack_file(request: pytest.FixtureRequest) -> Path:
    return request.param  # type: ignore[no-any-return]


def example(name: str) -> MeshSpec:
    """The validated spec of `stacks/Pulumi.<name>.yaml`."""
    return load_spec_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
