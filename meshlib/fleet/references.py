"""What one fleet stack exports for the next, and how a later stack stands on it.

A network stack exports what its clusters use of the network (`network_export`); a cluster stack
builds its cluster on a view of those values (`AwsNetworkView`, `GcpNetworkView`). A cluster
stack exports the cluster's facts (`cluster_export`); the Istio and wiring stacks reach the
cluster through a stand-in (`cluster_stand_in`) that owns only its Kubernetes provider, under the
same resource name and type as the cluster component, so every Kubernetes resource keeps the URN
it has in a single-stack mesh (docs/fleet.md: moving a mesh into a fleet).

What a stack needs to know before deployment (subnet counts, annotation keys, whether an
address is a hostname) comes from the spec, never from another stack's outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.aws import READINESS_GATE_LABEL, AwsNetwork, EksCluster, nlb_annotations, subnet_count
from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.existing import ExistingCluster, ExistingClusterArgs
from meshlib.components.gcp import GcpNetwork, GkeCluster, load_balancer_annotations_of
from meshlib.plan.topology import MeshPlan
from meshlib.spec.models import ClusterSpec, is_ipv4

__all__ = [
    "AwsNetworkView",
    "GcpNetworkView",
    "cluster_export",
    "cluster_stand_in",
    "east_west_of",
    "network_export",
    "pick",
]

Outputs = Mapping[str, Any]


def pick(*path: str) -> Callable[[Any], Any]:
    """A function taking `found[path[0]][path[1]]...` out of an exported value."""

    def take(found: Any) -> Any:
        for key in path:
            found = found[key]
        return found

    return take


def network_export(network: AwsNetwork | GcpNetwork, members: list[ClusterSpec]) -> dict[str, Any]:
    """The values a network stack exports for its clusters' stacks."""
    if isinstance(network, AwsNetwork):
        return {
            "vpcId": network.vpc_id,
            "egressIps": network.egress_ips,
            "clusters": {
                c.name: {
                    "public": network.public_subnet_ids(c.name),
                    "private": network.private_subnet_ids(c.name),
                    "privateCidrs": network.private_subnet_cidrs(c.name),
                    "ingressCidrs": network.ingress_cidrs(c.name),
                }
                for c in members
            },
        }
    return {
        "selfLink": network.self_link,
        "egressIps": {region: network.egress_ips_in(region) for region in network.regions},
        "subnetworks": {c.name: network.subnetwork(c.name).self_link for c in members},
    }


class AwsNetworkView:
    """An `AwsNetworkLike` from a network stack's export: what `EksCluster` needs, nothing it owns."""

    def __init__(self, exported: pulumi.Output[Any], members: list[ClusterSpec]) -> None:
        self._exported = exported
        self._members = {member.name: member for member in members}
        self.region = str(members[0].region)
        self.adopted = any(member.vpc_id for member in members)
        self.egress_known = not self.adopted

    def _get(self, *path: str) -> pulumi.Output[Any]:
        return self._exported.apply(pick(*path))

    @property
    def vpc_id(self) -> pulumi.Output[str]:
        return self._get("vpcId")

    @property
    def egress_ips(self) -> pulumi.Output[list[str]]:
        return self._get("egressIps")

    @property
    def cluster_names(self) -> list[str]:
        return list(self._members)

    def public_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]:
        return self._get("clusters", cluster_name, "public")

    def private_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]:
        return self._get("clusters", cluster_name, "private")

    def private_subnet_cidrs(self, cluster_name: str) -> pulumi.Output[list[str]]:
        return self._get("clusters", cluster_name, "privateCidrs")

    def public_subnet_count(self, cluster_name: str) -> int:
        return subnet_count(self._members[cluster_name], public=True)

    def private_subnet_count(self, cluster_name: str) -> int:
        return subnet_count(self._members[cluster_name], public=False)

    def egress_path(self, cluster_name: str) -> list[pulumi.Resource]:
        """Nothing here: the network stack is deployed before, and destroyed after, this one."""
        return []

    def ingress_cidrs(self, cluster_name: str) -> dict[str, pulumi.Input[str]]:
        owners = [m.name for m in self._members.values() if m.vpc_cidr is not None]
        if self.adopted and not owners:
            return {"vpc": self._get("clusters", cluster_name, "ingressCidrs", "vpc")}
        return {owner: str(self._members[owner].vpc_cidr) for owner in owners}


@dataclass(frozen=True)
class _Subnetwork:
    self_link: pulumi.Output[str]


class GcpNetworkView:
    """A `GcpNetworkLike` from a network stack's export."""

    egress_known = True

    def __init__(self, exported: pulumi.Output[Any]) -> None:
        self._exported = exported

    @property
    def self_link(self) -> pulumi.Output[str]:
        return self._exported.apply(pick("selfLink"))

    def subnetwork(self, cluster_name: str) -> _Subnetwork:
        return _Subnetwork(self._exported.apply(pick("subnetworks", cluster_name)))

    def egress_path(self, region: str) -> list[pulumi.Resource]:
        """Nothing here: the network stack is deployed before, and destroyed after, this one."""
        return []

    def egress_ips_in(self, region: str) -> pulumi.Output[list[str]]:
        return self._exported.apply(pick("egressIps", region))


def cluster_export(cluster: MeshCluster) -> dict[str, Any]:
    """The values a cluster stack exports for the stacks of its Istio and wiring (the kubeconfig secret)."""
    exposure = cluster.east_west
    return {
        "endpoint": cluster.endpoint,
        "certificateAuthority": cluster.certificate_authority,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        "egressIps": cluster.egress_ips,
        "eastWest": None
        if exposure is None
        else {
            "addresses": exposure.addresses,
            "annotations": dict(exposure.annotations),
            "loadBalancerIp": exposure.load_balancer_ip,
        },
    }


def cluster_stand_in(
    name: str,
    spec: ClusterSpec,
    plan: MeshPlan,
    exported: pulumi.Output[Any],
    opts: pulumi.ResourceOptions,
) -> MeshCluster:
    """Cluster `spec` for a fleet stack after its cluster stack (`exported`: that stack's `cluster_export`).

    An existing cluster is the same `ExistingCluster` everywhere (it is nothing but a provider).
    """
    if spec.cloud == "existing":
        return ExistingCluster(name, ExistingClusterArgs(spec=spec), opts)
    return StandInCluster(name, spec, plan, exported, opts)


class StandInCluster(MeshCluster):
    """See `cluster_stand_in`: an EKS or GKE cluster built by another stack of the fleet."""

    def __init__(
        self,
        name: str,
        spec: ClusterSpec,
        plan: MeshPlan,
        exported: pulumi.Output[Any],
        opts: pulumi.ResourceOptions,
    ) -> None:
        kind = EksCluster if spec.cloud == "aws" else GkeCluster
        super().__init__(f"meshlib:index:{kind.__name__}", name, None, opts)
        cluster_plan = plan.cluster(spec.name)
        self.cluster_name = spec.name
        self.cloud = spec.cloud
        self.network = str(spec.network)
        self.endpoint = exported.apply(pick("endpoint"))
        self.certificate_authority = exported.apply(pick("certificateAuthority"))
        self.kubeconfig = pulumi.Output.secret(exported.apply(pick("kubeconfig")))
        self.egress_ips = exported.apply(pick("egressIps"))
        self.egress_known = not spec.vpc_id
        self.control_plane_egress_known = False
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=spec.name,
            enable_secret_mutable=True,  # as the cluster component's own provider
            opts=pulumi.ResourceOptions(parent=self),
        )
        load_balancers = cluster_plan.east_west_gateway or spec.ingress_gateway is not None
        self.istio_namespace_labels = (
            {READINESS_GATE_LABEL: "enabled"} if spec.cloud == "aws" and load_balancers else {}
        )
        self.east_west = east_west_of(spec, exported) if cluster_plan.east_west_gateway else None
        self.register_outputs({})

    def load_balancer_annotations(self, internal: bool) -> dict[str, str]:
        return nlb_annotations(internal) if self.cloud == "aws" else load_balancer_annotations_of(internal)


def east_west_of(spec: ClusterSpec, exported: pulumi.Output[Any]) -> EastWestExposure:
    """A cluster's east-west exposure from its cluster stack; how many addresses there are comes from the spec."""
    east_west = exported.apply(pick("eastWest"))
    addresses = east_west.apply(pick("addresses"))
    if spec.cloud == "existing":
        address = str(spec.east_west_address)
        return EastWestExposure(addresses=addresses, is_hostname=not is_ipv4(address))
    annotated = spec.cloud == "aws" or spec.east_west_internal  # GKE's external load balancer needs none
    count = subnet_count(spec, public=not spec.east_west_internal) if spec.cloud == "aws" else 1
    return EastWestExposure(
        addresses=addresses,
        count=count,
        annotations=east_west.apply(pick("annotations")) if annotated else {},
        load_balancer_ip=east_west.apply(pick("loadBalancerIp")) if spec.cloud == "gcp" else None,
    )
