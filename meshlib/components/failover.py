"""`ServiceFailover`: failover DestinationRules in one config cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.components.istio_objects import istio_resource
from meshlib.plan.manifests import Manifest

__all__ = ["ServiceFailover", "ServiceFailoverArgs"]


@dataclass
class ServiceFailoverArgs:
    """Inputs of `ServiceFailover`."""

    rules: Sequence[Manifest]
    """The config cluster's failover DestinationRules (`meshlib.plan.failover.failover_rules`)."""
    cluster: MeshCluster
    """The config cluster (a primary): its istiod serves the callers of those services."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """The config cluster's istiod (CRDs installed, validation answering)."""


class ServiceFailover(pulumi.ComponentResource):
    """One DestinationRule per failover service, in a config cluster's `istio-system`.

    Each rule turns on outlier detection and locality failover for
    `<name>.<namespace>.svc.cluster.local`, whose endpoints in every cluster the istiod merges
    (endpoint discovery): callers prefer the nearest healthy endpoints, in the configured order.
    """

    def __init__(self, name: str, args: ServiceFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:ServiceFailover", name, None, opts)
        on_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.cluster.provider, depends_on=list(args.depends_on)
        )
        self.resources: list[k8s.apiextensions.CustomResource] = [
            istio_resource(name, rule, on_cluster) for rule in args.rules
        ]
        self.register_outputs({"hosts": [rule["spec"]["host"] for rule in args.rules]})
