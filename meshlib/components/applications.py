"""`ClusterApplications`: application namespaces on the mesh, and an optional ingress gateway, in one cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.components.istio_objects import istio_release
from meshlib.plan.applications import namespace_labels, namespaces_of
from meshlib.plan.overrides import with_overrides
from meshlib.plan.revisions import plan_revisions
from meshlib.plan.topology import MeshPlan
from meshlib.plan.values import ingress_values
from meshlib.spec.models import DEFAULT_REVISION

__all__ = ["ClusterApplications", "ClusterApplicationsArgs"]


@dataclass
class ClusterApplicationsArgs:
    """Inputs of `ClusterApplications`."""

    plan: MeshPlan
    cluster_name: str
    cluster: MeshCluster
    tags: Mapping[str, pulumi.Resource]
    """The cluster's tag webhooks, by tag: a namespace waits for the one it follows."""
    default_injector: pulumi.Resource | None
    """What serves `istio.io/rev=default` when no `default` tag does (the istiod without revision); None in a
    fleet stack after the one that holds it."""
    gateway_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What gateway pods need first (as for the east-west gateway): their injector, a remote's primary."""


class ClusterApplications(pulumi.ComponentResource):
    """Application namespaces labelled for injection (`mesh:namespaces`), and `clusters[].ingressGateway`."""

    namespaces: dict[str, k8s.core.v1.Namespace]
    ingress: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: ClusterApplicationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:ClusterApplications", name, None, opts)
        spec = args.plan.spec
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.cluster.provider)
        self.namespaces = {}
        for namespace in namespaces_of(spec, args.cluster_name):
            tag = namespace.tag or DEFAULT_REVISION
            injector = args.tags.get(tag, args.default_injector)
            after = [injector] if injector is not None else []
            self.namespaces[namespace.name] = k8s.core.v1.Namespace(
                f"{name}-namespace-{namespace.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace.name, labels=namespace_labels(spec, namespace)),
                opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=after)),
            )
        ingress = next(c.ingress_gateway for c in spec.clusters if c.name == args.cluster_name)
        self.ingress = None
        if ingress is not None:
            self.ingress = istio_release(
                f"{name}-ingress",
                ingress.name,
                "gateway",
                spec.istio,
                plan_revisions(spec).gateway.version,
                with_overrides(
                    spec,
                    "ingressGateway",
                    args.cluster_name,
                    ingress_values(spec, ingress, args.cluster.load_balancer_annotations(ingress.internal)),
                ),
                pulumi.ResourceOptions.merge(
                    on_cluster, pulumi.ResourceOptions(depends_on=list(args.gateway_depends_on))
                ),
            )
        self.register_outputs({"namespaces": sorted(self.namespaces), "ingress": ingress.name if ingress else None})
