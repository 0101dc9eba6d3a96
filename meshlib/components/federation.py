"""`ServiceFederation`: exported services made callable from a consumer's config cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.istio_objects import istio_resource
from meshlib.plan.manifests import destination_rule, service_entry
from meshlib.plan.topology import ClusterPlan

__all__ = ["ServiceFederation", "ServiceFederationArgs"]


@dataclass
class ServiceFederationArgs:
    """Inputs of `ServiceFederation`."""

    plan: ClusterPlan
    """The config cluster that holds the imports (a primary)."""
    cluster: MeshCluster
    exporters: Mapping[str, EastWestExposure]
    """Each exporting cluster's east-west gateway addresses."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """The config cluster's istiod (CRDs installed, validation answering)."""


class ServiceFederation(pulumi.ComponentResource):
    """A ServiceEntry + DestinationRule per imported service, in one config cluster.

    The entry points `<svc>.<ns>.svc.<exporter>.local` at the exporter's east-west
    gateway on 15443; the rule sets the SNI that gateway's `AUTO_PASSTHROUGH` listener
    routes on. Without that SNI the entry resolves but never routes.
    """

    def __init__(self, name: str, args: ServiceFederationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:ServiceFederation", name, None, opts)
        on_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.cluster.provider, depends_on=list(args.depends_on)
        )
        self.resources: list[k8s.apiextensions.CustomResource] = []
        for imported in args.plan.imports:
            exporter = args.exporters[imported.exporter]
            self.resources += [
                istio_resource(name, service_entry(imported, exporter.each(), exporter.is_hostname), on_cluster),
                istio_resource(name, destination_rule(imported), on_cluster),
            ]
        self.register_outputs({"hosts": [imported.host for imported in args.plan.imports]})
