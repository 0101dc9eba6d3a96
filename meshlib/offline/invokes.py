"""Canned answers to provider functions for offline runs (no cloud is asked anything)."""

from __future__ import annotations

from typing import Any

import pulumi

__all__ = ["offline_invoke"]


def offline_invoke(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answer the provider functions meshlib's components call; refuse any other."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        region = args.get("region") or "us-east-1"
        names = [f"{region}{letter}" for letter in "abc"]
        return {"names": names, "zoneIds": [f"{region}-az{i}" for i in range(1, 4)], "id": region}
    raise pulumi.RunError(f"offline plan: no canned answer for provider function {token}")
