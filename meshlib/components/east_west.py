"""`EastWestGateway`: the gateway that carries cross-network traffic, and istiod for remotes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.components.istio_objects import istio_release, istio_resource
from meshlib.plan.manifests import cross_network_gateway, istiod_gateway, istiod_virtual_services
from meshlib.plan.overrides import with_overrides
from meshlib.plan.revisions import plan_revisions
from meshlib.plan.topology import ClusterPlan
from meshlib.plan.values import EAST_WEST_GATEWAY_NAME, gateway_values
from meshlib.spec.models import MeshSpec

__all__ = ["EastWestGateway", "EastWestGatewayArgs"]


@dataclass
class EastWestGatewayArgs:
    """Inputs of `EastWestGateway`."""

    spec: MeshSpec
    plan: ClusterPlan
    cluster: MeshCluster
    """Where the gateway runs; its `east_west` says how the Service gets its address."""
    source_ranges: pulumi.Input[Sequence[str]] | None = None
    """Restrict who may connect (`loadBalancerSourceRanges`); None admits everyone."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What the gateway pods need first: istiod that injects them (and, for a remote, its remote secret)."""
    config_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What the Istio resources need first: the cluster's istiod (CRDs, validation)."""


class EastWestGateway(pulumi.ComponentResource):
    """The `gateway` chart with `networkGateway`, plus Istio's expose-services/expose-istiod config.

    On a primary this also creates the `cross-network-gateway` Gateway (15443,
    `AUTO_PASSTHROUGH`), and, when it controls remotes, `istiod-gateway` + `istiod-vs`.
    A remote's gateway is configured by those same resources in its primary.
    """

    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: EastWestGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:EastWestGateway", name, None, opts)
        spec, plan, cluster = args.spec, args.plan, args.cluster
        exposure = cluster.east_west
        if exposure is None:
            raise pulumi.RunError(f"cluster {plan.name!r} has no east-west address to give its gateway")
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        # Only the source ranges wait for deployment (NAT addresses): every other value shows in a preview.
        ranges = None if args.source_ranges is None else pulumi.Output.from_input(args.source_ranges).apply(sorted)
        values = with_overrides(
            spec,
            "gateway",
            plan.name,
            gateway_values(spec, plan, exposure.annotations, exposure.load_balancer_ip, source_ranges=ranges),
        )
        self.release = istio_release(
            f"{name}-release",
            EAST_WEST_GATEWAY_NAME,
            "gateway",
            spec.istio,
            plan_revisions(spec).gateway.version,
            values,
            pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=list(args.depends_on))),
        )
        self.config: list[k8s.apiextensions.CustomResource] = []
        if plan.is_primary:
            manifests = [cross_network_gateway(plan.passthrough_hosts)] if plan.configures_cross_network_gateway else []
            if plan.exposes_istiod:
                manifests += [istiod_gateway(), *istiod_virtual_services(spec)]
            config_opts = pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=list(args.config_depends_on))
            )
            self.config = [istio_resource(name, manifest, config_opts) for manifest in manifests]
        self.register_outputs({"addresses": exposure.addresses})
