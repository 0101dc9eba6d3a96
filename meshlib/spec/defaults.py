"""Defaults that depend on other fields, filled deterministically after the rules pass."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from meshlib.spec.models import MeshSpec
from meshlib.spec.rules import cidrs_of, network_of

__all__ = ["POOL", "fill_defaults"]

POOL = ipaddress.IPv4Network("10.0.0.0/8")
"""Where default CIDRs are taken from, lowest free block first."""

# Ranges a provisioned cluster needs, by field, with the default prefix length.
_NEEDED: dict[str, tuple[tuple[str, int], ...]] = {
    "aws": (("vpc_cidr", 16), ("service_cidr", 20)),
    "gcp": (("node_cidr", 20), ("pod_cidr", 16), ("service_cidr", 20), ("master_cidr", 28)),
    "existing": (),
}


def fill_defaults(spec: MeshSpec) -> MeshSpec:
    """Return `spec` with every cluster's network, primary and CIDRs set.

    CIDRs are chosen so that no two clusters of the mesh overlap, whatever their
    network, and never collide with a CIDR the user gave: the same config always
    yields the same ranges.
    """
    taken = [cidr for cluster in spec.clusters for cidr in cidrs_of(cluster).values()]
    primaries = [cluster.name for cluster in spec.clusters if cluster.role == "primary"]
    clusters = []
    for cluster in spec.clusters:
        update: dict[str, object] = {"network": network_of(cluster)}
        if cluster.role == "remote" and cluster.primary is None:
            update["primary"] = primaries[0]
        for field, prefix in _NEEDED[cluster.cloud]:
            if field == "vpc_cidr" and cluster.vpc_id:
                continue
            if getattr(cluster, field) is None:
                cidr = _first_free(prefix, taken)
                taken.append(cidr)
                update[field] = cidr
        clusters.append(cluster.model_copy(update=update))
    return spec.model_copy(update={"clusters": clusters})


def _first_free(prefix: int, taken: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    used = sorted(taken, key=lambda cidr: int(cidr.network_address))
    size = 2 ** (32 - prefix)
    start = int(POOL.network_address)
    end = int(POOL.broadcast_address)
    while start + size - 1 <= end:
        candidate = ipaddress.IPv4Network((start, prefix))
        blocker = next((cidr for cidr in used if candidate.overlaps(cidr)), None)
        if blocker is None:
            return candidate
        after = int(blocker.broadcast_address) + 1  # skip past the blocker, staying aligned
        start = -(-after // size) * size
    raise ValueError(f"no free /{prefix} left in {POOL}")
