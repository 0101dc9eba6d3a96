"""The shape every cluster component shares, so the mesh never cares which cloud it got."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pulumi
import pulumi_kubernetes as k8s

__all__ = ["EastWestExposure", "MeshCluster", "child_opts"]


@dataclass
class EastWestExposure:
    """How a cluster's east-west gateway Service gets an address known before it exists."""

    addresses: pulumi.Output[list[str]]
    """The load balancer's addresses (IPs, or one hostname), first one used as istiod's address."""
    count: int = 1
    """How many `addresses` there are, known before they are (one per load-balancer subnet)."""
    annotations: Mapping[str, pulumi.Input[str]] | pulumi.Output[Mapping[str, str]] = field(default_factory=dict)
    """Service annotations that pin the address (e.g. EIP allocations on AWS); an Output of them all in a
    fleet stack, which has them from the cluster's stack."""
    load_balancer_ip: pulumi.Input[str] | None = None
    """`spec.loadBalancerIP` for clouds that take a reserved address there (GCP)."""
    is_hostname: bool = False

    @property
    def address(self) -> pulumi.Output[str]:
        """The first address: istiod's `remotePilotAddress` when this is a primary."""
        return self._each[0]

    def each(self) -> list[pulumi.Output[str]]:
        """The addresses one by one, so that a plan shows each even before it is known."""
        return list(self._each)

    @cached_property
    def _each(self) -> tuple[pulumi.Output[str], ...]:
        # Made once and shared by every user (each cluster importing a service, the primary's
        # remotes): at fleet size that is thousands of Outputs fewer for the SDK to schedule.
        return tuple(self.addresses.apply(_item(index)) for index in range(self.count))


class MeshCluster(pulumi.ComponentResource):
    """A Kubernetes cluster as the mesh sees it. `EksCluster`, `GkeCluster` and `ExistingCluster` are ones.

    Subclasses set every attribute below before calling `register_outputs`.
    """

    cluster_name: str
    """The Istio cluster id (`global.multiCluster.clusterName`)."""
    cloud: str
    network: str
    endpoint: pulumi.Output[str]
    """API server URL (`https://...`)."""
    certificate_authority: pulumi.Output[str]
    """The API server's CA, base64-encoded PEM."""
    kubeconfig: pulumi.Output[str]
    """Exec-based kubeconfig for Pulumi and admins (a secret; it holds no token)."""
    provider: k8s.Provider
    """The Kubernetes provider every resource of this cluster must use."""
    east_west: EastWestExposure | None
    """Set when the cluster runs an east-west gateway."""
    egress_ips: pulumi.Output[list[str]]
    """Public IPs the cluster's nodes reach other clusters from; empty when unknown."""
    egress_known: bool
    """Whether `egress_ips` is complete (False for adopted clusters and VPCs)."""
    control_plane_egress_known: bool
    """Whether `egress_ips` also covers calls the API server makes (webhooks)."""
    kubernetes_ready: Sequence[pulumi.Resource] = ()
    """What must be ready in the cluster before Istio goes in (e.g. a controller whose webhooks mutate Services)."""
    istio_namespace_labels: Mapping[str, str] = {}
    """Labels the cluster's platform wants on `istio-system` (e.g. load-balancer readiness gates)."""

    def load_balancer_annotations(self, internal: bool) -> Mapping[str, str]:
        """Service annotations that give a gateway (an ingress) this cloud's load balancer, internal or not."""
        return {}

    def mesh_outputs(self) -> dict[str, pulumi.Input[object]]:
        """The outputs every cluster component registers."""
        return {
            "clusterName": self.cluster_name,
            "cloud": self.cloud,
            "network": self.network,
            "endpoint": self.endpoint,
            "kubeconfig": self.kubeconfig,
            "eastWestAddresses": self.east_west.addresses if self.east_west else None,
            "egressIps": self.egress_ips,
        }


def _item(index: int) -> Callable[[list[str]], str]:
    return lambda found: found[index]


def child_opts(parent: pulumi.Resource, **extra: object) -> pulumi.ResourceOptions:
    """Options for a component's child: parented to it."""
    return pulumi.ResourceOptions(parent=parent, **extra)  # type: ignore[arg-type]
