"""Defaults that depend on other fields, filled deterministically after the rules pass.

Default CIDRs never move once chosen. Each cluster that needs default ranges, and each
AWS network meshlib creates a VPC for, owns one /14 of 10.0.0.0/8 (its *home*), picked by
a hash of its name alone: adding, removing or reordering others leaves it where it is.
When two names pick one home, or a home overlaps a range the config pins, the config is
refused (`clashes`) with the exact CIDRs to pin, instead of quietly moving a range that
may already be deployed.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic.alias_generators import to_camel

from meshlib.spec.models import ClusterSpec, MeshSpec, NetworkSpec
from meshlib.spec.names import name_prefix
from meshlib.spec.problems import Problem, key_path
from meshlib.spec.rules import cidrs_of, network_of

__all__ = ["HOME_PREFIX", "POOL", "clashes", "default_network_block", "fill_defaults"]

POOL = ipaddress.IPv4Network("10.0.0.0/8")
"""Where default CIDRs come from."""
HOME_PREFIX = 14
"""Each default range lies in one /14 of the pool (64 of them): its owner's home."""
NETWORK_BLOCK_PREFIX = 24
"""The default primary block of an AWS network's VPC: room for its two NAT subnets."""

# Where each default range sits in a home: (field, offset from the home's start, prefix length).
Layout = tuple[tuple[str, int, int], ...]
_LAYOUT: dict[str, Layout] = {
    "aws": (("vpc_cidr", 0, 16), ("service_cidr", 1 << 16, 20)),
    "gcp": (
        ("pod_cidr", 0, 16),
        ("node_cidr", 1 << 16, 20),
        ("service_cidr", (1 << 16) + (1 << 12), 20),
        ("master_cidr", (1 << 16) + (2 << 12), 28),
    ),
    "existing": (),
}
_NETWORK_LAYOUT: Layout = (("vpc_cidr", 0, NETWORK_BLOCK_PREFIX),)


@dataclass(frozen=True)
class _Claim:
    """Someone who needs default ranges: a cluster or an AWS network."""

    owner: str
    """`cluster 'east'` or `network 'net-aws'`, for messages."""
    hash_key: str
    key: tuple[str | int, ...]
    """Where its ranges are configured, e.g. ("clusters", 0)."""
    missing: Layout


def fill_defaults(spec: MeshSpec, stack: str | None = None) -> MeshSpec:
    """Return `spec` with every cluster's network, primary and CIDRs, AWS network blocks and the name prefix set.

    Call only when `clashes(spec)` is empty. `stack` (the Pulumi stack) goes into the default
    `namePrefix`; without it the prefix is the mesh id.
    """
    homes = {claim.key: _own_home(claim.hash_key) for claim in _claims(spec)}
    primaries = [cluster.name for cluster in spec.clusters if cluster.role == "primary"]
    clusters = []
    for index, cluster in enumerate(spec.clusters):
        update: dict[str, object] = {"network": network_of(cluster)}
        if cluster.role == "remote" and cluster.primary is None:
            update["primary"] = primaries[0]
        update.update(_ranges(homes.get(("clusters", index)), _missing(cluster)))
        clusters.append(cluster.model_copy(update=update))
    networks = dict(spec.networks)
    for network in _created_aws_networks(spec):
        current = networks.get(network, NetworkSpec.model_validate({}))
        ranges = _ranges(homes.get(("networks", network)), _network_missing(current))
        networks[network] = current.model_copy(update=ranges)
    prefix = name_prefix(spec, stack)
    return spec.model_copy(update={"clusters": clusters, "networks": networks, "name_prefix": prefix})


def default_network_block(network: str) -> ipaddress.IPv4Network:
    """The primary VPC block AWS network `network` gets when neither it nor anything else pins its home."""
    return ipaddress.IPv4Network((int(_own_home(f"network/{network}").network_address), NETWORK_BLOCK_PREFIX))


def clashes(spec: MeshSpec) -> list[Problem]:
    """Default ranges that would not sit in their own home, each with the exact CIDRs to pin.

    The claim listed first (clusters in config order, then networks) keeps a contested home;
    the later one is told where to pin its ranges: a new cluster goes at the end of the list.
    """
    taken = [cidr for cluster in spec.clusters for cidr in cidrs_of(cluster).values()]
    taken += [settings.vpc_cidr for settings in spec.networks.values() if settings.vpc_cidr is not None]
    holders: dict[ipaddress.IPv4Network, str] = {}
    clashing = []
    for claim in _claims(spec):
        home = _own_home(claim.hash_key)
        if home in holders or any(home.overlaps(cidr) for cidr in taken):
            clashing.append((claim, home, holders.get(home, "a range the config pins")))
        else:
            holders[home] = claim.owner
    problems = []
    suggested: list[ipaddress.IPv4Network] = []
    for claim, home, why in clashing:
        free = _free_home(claim.hash_key, [*taken, *holders, *suggested])  # never suggest one block twice
        if free is not None:
            suggested.append(free)
        pin = ", ".join(f"{to_camel(field)}: {cidr}" for field, cidr in _ranges(free, claim.missing).items())
        problems.append(
            Problem(
                key_path(claim.key),
                f"the default ranges of {claim.owner} would lie in {home}, which {why} already takes; "
                f"pin them: {pin or f'no free /{HOME_PREFIX} is left in {POOL}: choose ranges yourself'}",
            )
        )
    return problems


def _claims(spec: MeshSpec) -> list[_Claim]:
    first = {cluster.name: index for index, cluster in reversed(list(enumerate(spec.clusters)))}
    claims = [  # a repeated name is reported as such (rules), not as a clash with itself
        _Claim(f"cluster {cluster.name!r}", cluster.name, ("clusters", index), tuple(_missing(cluster)))
        for index, cluster in enumerate(spec.clusters)
        if _missing(cluster) and first[cluster.name] == index
    ]
    for network in _created_aws_networks(spec):
        missing = _network_missing(spec.networks.get(network, NetworkSpec.model_validate({})))
        if missing:
            claims.append(_Claim(f"network {network!r}", f"network/{network}", ("networks", network), missing))

    return claims


def _created_aws_networks(spec: MeshSpec) -> Iterator[str]:
    """AWS networks whose VPC meshlib creates (no `vpcId`), in order of first appearance."""
    seen = dict.fromkeys(network_of(c) for c in spec.clusters if c.cloud == "aws" and not c.vpc_id)
    yield from seen


def _ranges(home: ipaddress.IPv4Network | None, layout: Layout) -> dict[str, ipaddress.IPv4Network]:
    if home is None:
        return {}
    start = int(home.network_address)
    return {field: ipaddress.IPv4Network((start + offset, prefix)) for field, offset, prefix in layout}


def _own_home(key: str) -> ipaddress.IPv4Network:
    homes = list(POOL.subnets(new_prefix=HOME_PREFIX))
    return homes[_hash(key) % len(homes)]


def _missing(cluster: ClusterSpec) -> Layout:
    """The default ranges `cluster` still needs (none for a VPC it brings)."""
    return tuple(
        (field, offset, prefix)
        for field, offset, prefix in _LAYOUT[cluster.cloud]
        if getattr(cluster, field) is None and not (field == "vpc_cidr" and cluster.vpc_id)
    )


def _network_missing(settings: NetworkSpec) -> Layout:
    return tuple(item for item in _NETWORK_LAYOUT if getattr(settings, item[0]) is None)


def _hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def _free_home(key: str, taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    homes = list(POOL.subnets(new_prefix=HOME_PREFIX))
    start = _hash(key) % len(homes)
    for step in range(len(homes)):
        home = homes[(start + step) % len(homes)]
        if not any(home.overlaps(cidr) for cidr in taken):
            return home
    return None
