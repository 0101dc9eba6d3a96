"""Physical cloud names: unique per stack and mesh, and within each cloud's length limits.

Two stacks of one config (`dev`, `prod`) may share an AWS account and a GCP project, so
every name a cloud keeps unique (EKS and GKE clusters, node groups, IAM roles, VPC
networks, subnetworks, routers, NATs, addresses, firewalls, service accounts) starts with
`mesh:namePrefix`, by default `<meshId>-<stack>`. Istio's cluster names stay the config
names. Names are never cut to fit: `problems` refuses the config instead, naming the key
to shorten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from meshlib.spec.models import MeshSpec

__all__ = [
    "NODE_GROUP_SUFFIX_LENGTH",
    "EksNames",
    "GcpNetworkNames",
    "GkeNames",
    "join",
    "name_prefix",
    "too_long",
]

NODE_GROUP_SUFFIX_LENGTH = 26
"""`nodeGroupNamePrefix` gets a 26-character unique suffix (terraform-plugin-sdk `id.PrefixedUniqueId`)."""
_GCP_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def join(*parts: str) -> str:
    """`parts` joined by '-', empty ones left out."""
    return "-".join(part for part in parts if part)


def name_prefix(spec: MeshSpec, stack: str | None) -> str:
    """`mesh:namePrefix`, else `<meshId>-<stack>` with the stack name lower-cased and anything but
    letters, digits and '-' turned into '-' (the mesh id alone without a stack)."""
    if spec.name_prefix is not None:
        return spec.name_prefix
    slug = re.sub(r"[^a-z0-9-]+", "-", (stack or "").lower()).strip("-")
    return join(spec.mesh_id, slug)


def _name(limit: int, what: str, gcp: bool = False) -> Any:
    """A name field: its length limit, what it names, and whether GCE's naming rule applies."""
    return field(metadata={"limit": limit, "what": what, "gcp": gcp})


@dataclass(frozen=True)
class EksNames:
    """The names an EKS cluster of the mesh takes in its AWS account."""

    cluster: str = _name(100, "EKS cluster name")
    node_group_prefix: str = _name(63 - NODE_GROUP_SUFFIX_LENGTH, "EKS node group name prefix")
    cluster_role: str = _name(64, "IAM role name")
    node_role: str = _name(64, "IAM role name")
    load_balancer_controller_role: str = _name(64, "IAM role name")

    @classmethod
    def of(cls, prefix: str, cluster: str) -> EksNames:
        base = join(prefix, cluster)
        return cls(
            cluster=base,
            node_group_prefix=f"{base}-",
            cluster_role=join(base, "eks-cluster"),
            node_role=join(base, "eks-nodes"),
            load_balancer_controller_role=join(base, "aws-lbc"),
        )


@dataclass(frozen=True)
class GkeNames:
    """The names a GKE cluster of the mesh takes in its GCP project."""

    cluster: str = _name(40, "GKE cluster name", gcp=True)
    service_account: str = _name(30, "service account id", gcp=True)
    subnetwork: str = _name(63, "subnetwork name", gcp=True)
    node_tag: str = _name(63, "network tag", gcp=True)
    control_plane_firewall: str = _name(63, "firewall rule name", gcp=True)
    east_west_address: str = _name(63, "address name", gcp=True)

    @classmethod
    def of(cls, prefix: str, cluster: str) -> GkeNames:
        base = join(prefix, cluster)
        return cls(
            cluster=base,
            # IAM's 30 characters leave no room for a suffix once a prefix is there.
            service_account=base if prefix else join(cluster, "nodes"),
            subnetwork=join(base, "nodes"),
            node_tag=join(base, "nodes"),
            control_plane_firewall=join(base, "control-plane-istio"),
            east_west_address=join(base, "east-west"),
        )


@dataclass(frozen=True)
class GcpNetworkNames:
    """The names a GCP VPC network of the mesh takes, and those of its per-region routers and NATs."""

    prefix: str
    network: str
    regions: tuple[str, ...]
    vpc: str = _name(63, "VPC network name", gcp=True)
    internal_firewall: str = _name(63, "firewall rule name", gcp=True)

    @classmethod
    def of(cls, prefix: str, network: str, regions: Iterable[str] = ()) -> GcpNetworkNames:
        base = join(prefix, network)
        return cls(
            prefix=prefix,
            network=network,
            regions=tuple(sorted(set(regions))),
            vpc=join(base, "vpc"),
            internal_firewall=join(base, "mesh-internal"),
        )

    def router(self, region: str) -> str:
        return join(self.prefix, self.network, region)

    def nat(self, region: str) -> str:
        return join(self.prefix, self.network, region, "nat")

    def nat_address(self, region: str, index: int) -> str:
        return join(self.prefix, self.network, region, "nat", str(index))

    def regional(self) -> Iterator[tuple[str, str, int]]:
        """(what, name, limit) of the per-region names (router, NAT, NAT addresses) of `regions`."""
        for region in self.regions:
            yield "router name", self.router(region), 63
            yield "Cloud NAT name", self.nat(region), 63
            yield "address name", self.nat_address(region, 9), 63


def too_long(names: EksNames | GkeNames | GcpNetworkNames) -> Iterator[str]:
    """A message for every name of `names` over its limit, or not a valid GCE name."""
    for item in fields(names):
        if "limit" not in item.metadata:
            continue
        what, limit, gcp = item.metadata["what"], item.metadata["limit"], item.metadata["gcp"]
        yield from _check(what, getattr(names, item.name), limit, gcp)
    if isinstance(names, GcpNetworkNames):
        for what, name, limit in names.regional():
            yield from _check(what, name, limit, True)


def _check(what: str, name: str, limit: int, gcp: bool) -> Iterator[str]:
    if len(name) > limit:
        yield f"the {what} {name!r} has {len(name)} characters, over the limit of {limit}"
    elif gcp and not _GCP_NAME.fullmatch(name):
        yield f"the {what} {name!r} must start with a letter (GCP names match [a-z]([-a-z0-9]*[a-z0-9])?)"
