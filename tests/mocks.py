"""The mock engine for tests: `meshlib.offline.engine` with realistic computed outputs.

Tests run deployed-mode programs (outputs computed by `tests.fakes`) unless they
ask for `preview=True`, where computed outputs stay unknown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from meshlib.offline import engine
from meshlib.offline.engine import MeshMocks, Registered, Run, is_secret, registrations, unwrap
from tests import fakes

__all__ = ["MeshMocks", "Registered", "Run", "fake_ip", "is_secret", "registrations", "run_program", "unwrap"]


def fake_ip(seed: str) -> str:
    """A stable public-looking IP derived from `seed` (203.0.113.0/24 is documentation space)."""
    return f"203.0.113.{int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 250 + 1}"


def run_program(
    build: Callable[[], Any],
    *,
    preview: bool = False,
    config: dict[str, Any] | None = None,
    mocks: MeshMocks | None = None,
) -> Run:
    """Run `build()` as a Pulumi program under fresh mocks answered by `tests.fakes`."""
    mocks = mocks or MeshMocks()
    mocks.computed = fakes.outputs
    mocks.invoke = fakes.call
    return engine.run_program(build, preview=preview, config=config, mocks=mocks, stack="test")
