"""Defaults that depend on other fields, filled deterministically after the rules pass."""

from __future__ import annotations

import hashlib
import ipaddress

from meshlib.spec.models import ClusterSpec, MeshSpec
from meshlib.spec.rules import cidrs_of, network_of

__all__ = ["HOME_PREFIX", "POOL", "fill_defaults"]

POOL = ipaddress.IPv4Network("10.0.0.0/8")
"""Where default CIDRs come from."""
HOME_PREFIX = 14
"""Each cluster's default ranges lie in one /14 of the pool (64 of them): its home."""

# Where each default range sits in a home: (field, offset from the home's start, prefix length).
_LAYOUT: dict[str, tuple[tuple[str, int, int], ...]] = {
    "aws": (("vpc_cidr", 0, 16), ("service_cidr", 1 << 16, 20)),
    "gcp": (
        ("pod_cidr", 0, 16),
        ("node_cidr", 1 << 16, 20),
        ("service_cidr", (1 << 16) + (1 << 12), 20),
        ("master_cidr", (1 << 16) + (2 << 12), 28),
    ),
    "existing": (),
}


def fill_defaults(spec: MeshSpec) -> MeshSpec:
    """Return `spec` with every cluster's network, primary and CIDRs set.

    A cluster's default ranges come from a home /14 picked by a hash of its name (the
    next free one on a clash), so they never overlap another cluster's or a CIDR the
    user gave, and adding, removing or reordering *other* clusters leaves them as they
    are: no replaced subnets or clusters in the preview. Pin CIDRs in config to be sure.
    """
    taken = [cidr for cluster in spec.clusters for cidr in cidrs_of(cluster).values()]
    homes: dict[str, ipaddress.IPv4Network] = {}
    for cluster in sorted(spec.clusters, key=lambda c: (_hash(c.name), c.name)):
        if _missing(cluster):
            homes[cluster.name] = home = _free_home(cluster.name, taken)
            taken.append(home)

    primaries = [cluster.name for cluster in spec.clusters if cluster.role == "primary"]
    clusters = []
    for cluster in spec.clusters:
        update: dict[str, object] = {"network": network_of(cluster)}
        if cluster.role == "remote" and cluster.primary is None:
            update["primary"] = primaries[0]
        for field, offset, prefix in _missing(cluster):
            start = int(homes[cluster.name].network_address) + offset
            update[field] = ipaddress.IPv4Network((start, prefix))
        clusters.append(cluster.model_copy(update=update))
    return spec.model_copy(update={"clusters": clusters})


def _missing(cluster: ClusterSpec) -> list[tuple[str, int, int]]:
    """The default ranges `cluster` still needs (none for a VPC it brings)."""
    return [
        (field, offset, prefix)
        for field, offset, prefix in _LAYOUT[cluster.cloud]
        if getattr(cluster, field) is None and not (field == "vpc_cidr" and cluster.vpc_id)
    ]


def _hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def _free_home(name: str, taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    homes = list(POOL.subnets(new_prefix=HOME_PREFIX))
    start = _hash(name) % len(homes)
    for step in range(len(homes)):
        home = homes[(start + step) % len(homes)]
        if not any(home.overlaps(cidr) for cidr in taken):
            return home
    raise ValueError(f"no free /{HOME_PREFIX} left in {POOL} for cluster {name!r}")  # pragma: no cover
