"""Fake computed outputs and invoke results: Kubernetes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

TOKEN_SECRET = "kubernetes.io/service-account-token"


def fake_token(name: str) -> str:
    """The token Kubernetes' token controller would write into Secret `name`."""
    return f"eyJhbGciOiJSUzI1NiJ9.reader-token-for-{name}.signature"


def _secret(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # A created token Secret, or one read back (`Secret.get` sends no inputs): the controller filled it in.
    if inputs.get("type") == TOKEN_SECRET or not inputs:
        token = base64.b64encode(fake_token(name).encode()).decode()
        return {"type": TOKEN_SECRET, "data": {"token": token}}
    return {}


OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {"kubernetes:core/v1:Secret": _secret}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
