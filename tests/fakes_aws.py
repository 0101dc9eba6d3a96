"""Fake computed outputs and invoke results: aws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
