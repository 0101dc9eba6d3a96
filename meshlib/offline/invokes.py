"""Canned answers to provider functions for offline runs (no cloud is asked anything).

The answers are deterministic (the same ids give the same answers on any machine) and
clearly placeholders: looked-up addresses come from 198.18.0.0/15, the range RFC 2544
sets aside for benchmarks, never a real VPC's, and `placeholder_notes` says which
answers a plan used, for the plan to print as warnings.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

import pulumi

__all__ = ["PLACEHOLDER_RANGE", "offline_invoke", "placeholder_notes"]

PLACEHOLDER_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
"""Where offline answers take addresses from (RFC 2544 benchmarking: no real network uses it)."""

_VPC = "aws:ec2/getVpc:getVpc"
_SUBNET = "aws:ec2/getSubnet:getSubnet"
_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"


def _index(text: str, modulo: int) -> int:
    """A stable number for `text` (not Python's `hash`, which changes with the seed)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % modulo


def _region(args: dict[str, Any]) -> str:
    return str(args.get("region") or "us-east-1")


def _zones(args: dict[str, Any]) -> dict[str, Any]:
    region = _region(args)
    names = [f"{region}{letter}" for letter in "abc"]
    return {"names": names, "zoneIds": [f"{region}-az{i}" for i in range(1, 4)], "id": region}


def _vpc(args: dict[str, Any]) -> dict[str, Any]:
    """An adopted VPC: its primary block is a placeholder /16 of 198.18.0.0/15."""
    vpc_id = str(args.get("id") or "vpc-offline-placeholder")
    block = list(PLACEHOLDER_RANGE.subnets(new_prefix=16))[_index(vpc_id, 2)]
    return {
        "id": vpc_id,
        "arn": f"arn:aws:ec2:{_region(args)}:000000000000:vpc/{vpc_id}",
        "cidrBlock": str(block),
        "cidrBlockAssociations": [
            {"associationId": f"{vpc_id}-cidr-assoc-placeholder", "cidrBlock": str(block), "state": "associated"}
        ],
        "state": "available",
        "tags": {"Name": "offline placeholder (not looked up)"},
    }


def _subnet(args: dict[str, Any]) -> dict[str, Any]:
    """An adopted subnet: a placeholder /24 of 198.18.0.0/15, the same for the same id."""
    subnet_id = str(args.get("id") or "subnet-offline-placeholder")
    block = list(PLACEHOLDER_RANGE.subnets(new_prefix=24))[_index(subnet_id, 512)]
    region = _region(args)
    return {
        "id": subnet_id,
        "arn": f"arn:aws:ec2:{region}:000000000000:subnet/{subnet_id}",
        "cidrBlock": str(block),
        "availabilityZone": f"{region}{'abc'[_index(subnet_id, 3)]}",
        "vpcId": "vpc-offline-placeholder",
        "state": "available",
        "tags": {"Name": "offline placeholder (not looked up)"},
    }


_ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {_ZONES: _zones, _VPC: _vpc, _SUBNET: _subnet}


def offline_invoke(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answer the provider functions meshlib's components call; refuse any other."""
    answer = _ANSWERS.get(token)
    if answer is None:
        raise pulumi.RunError(f"offline plan: no canned answer for provider function {token}")
    return answer(args)


def placeholder_notes(calls: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """What a run took from placeholder answers, one sentence per kind of lookup."""
    vpcs = sorted({str(args.get("id")) for token, args in calls if token == _VPC})
    subnets = sorted({str(args.get("id")) for token, args in calls if token == _SUBNET})
    notes = []
    if vpcs:
        notes.append(
            f"adopted VPC {', '.join(vpcs)} not looked up offline: its CIDR block in this plan is a placeholder "
            f"from {PLACEHOLDER_RANGE}"
        )
    if subnets:
        notes.append(
            f"adopted subnets {', '.join(subnets)} not looked up offline: their CIDR blocks in this plan are "
            f"placeholders from {PLACEHOLDER_RANGE}"
        )
    return notes
