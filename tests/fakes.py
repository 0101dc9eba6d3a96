"""Outputs a real provider would compute, for the mock engine (see `tests.mocks`).

Each cloud keeps its own table (`tests.fakes_aws`, `tests.fakes_gcp`, `tests.fakes_k8s`, `tests.fakes_tls`):
resource type -> function of (name, inputs) returning the computed outputs, and
invoke token -> function of args returning the result.
"""

from __future__ import annotations

from typing import Any

from tests import fakes_aws, fakes_gcp, fakes_k8s, fakes_tls

_TABLES = (fakes_aws, fakes_gcp, fakes_k8s, fakes_tls)


def outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Computed outputs of a resource of `type_` (beyond its inputs)."""
    for table in _TABLES:
        if type_ in table.OUTPUTS:
            return table.OUTPUTS[type_](name, inputs)
    return {}


def call(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """Result of an invoke."""
    for table in _TABLES:
        if token in table.CALLS:
            return table.CALLS[token](args)
    raise AssertionError(f"no fake for invoke {token}: add one to a tests/fakes_*.py table")
