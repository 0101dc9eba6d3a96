"""Defaults that depend on other fields, filled deterministically after the rules pass."""

from __future__ import annotations

import hashlib
import ipaddress

from pydantic.alias_generators import to_camel

from meshlib.spec.models import ClusterSpec, MeshSpec
from meshlib.spec.rules import cidrs_of, network_of

__all__ = ["HOME_PREFIX", "POOL", "fill_defaults", "moved_defaults"]

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

    A cluster's default ranges come from a home /14 picked by a hash of its name, so
    they never overlap another cluster's or a CIDR the user gave, and adding, removing
    or reordering *other* clusters leaves them as they are. The exception is a clash:
    when that home is taken, the cluster takes the next free one, and may move back
    when the other cluster goes. `moved_defaults` names such clusters; pin their CIDRs.
    """
    homes = _homes(spec)

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


def moved_defaults(spec: MeshSpec) -> dict[str, str]:
    """Clusters whose default CIDRs are not in their own home (a clash), with what to pin.

    Pass the spec *before* `fill_defaults`; the value is the config to pin, e.g.
    `vpcCidr: 10.116.0.0/16, serviceCidr: 10.117.0.0/20`.
    """
    homes = _homes(spec)
    moved = {}
    for cluster in spec.clusters:
        home = homes.get(cluster.name)
        if home is not None and home != _own_home(cluster.name):
            start = int(home.network_address)
            moved[cluster.name] = ", ".join(
                f"{to_camel(field)}: {ipaddress.IPv4Network((start + offset, prefix))}"
                for field, offset, prefix in _missing(cluster)
            )
    return moved


def _homes(spec: MeshSpec) -> dict[str, ipaddress.IPv4Network]:
    """The home of every cluster that needs default ranges, clashes resolved in hash order."""
    taken = [cidr for cluster in spec.clusters for cidr in cidrs_of(cluster).values()]
    homes: dict[str, ipaddress.IPv4Network] = {}
    for cluster in sorted(spec.clusters, key=lambda c: (_hash(c.name), c.name)):
        if _missing(cluster):
            homes[cluster.name] = home = _free_home(cluster.name, taken)
            taken.append(home)
    return homes


def _own_home(name: str) -> ipaddress.IPv4Network:
    homes = list(POOL.subnets(new_prefix=HOME_PREFIX))
    return homes[_hash(name) % len(homes)]


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
