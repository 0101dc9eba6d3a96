"""`IstioControlPlane`: `istio-system`, the shared-trust `cacerts`, and the `base` + `istiod` releases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.components.istio_objects import istio_release, istio_resource
from meshlib.plan.credentials import CACERTS_SECRET
from meshlib.plan.manifests import ISTIO_NAMESPACE, namespace_metadata, peer_authentication
from meshlib.plan.topology import ClusterPlan
from meshlib.plan.values import base_values, istiod_service_name, istiod_values
from meshlib.spec.models import MeshSpec

__all__ = ["IstioControlPlane", "IstioControlPlaneArgs"]


@dataclass
class IstioControlPlaneArgs:
    """Inputs of `IstioControlPlane`."""

    spec: MeshSpec
    plan: ClusterPlan
    cluster: MeshCluster
    cacerts: Mapping[str, pulumi.Input[str]]
    """The `cacerts` Secret's four PEMs (see `MeshTrust.cacerts`)."""
    primary_address: pulumi.Input[str] | None = None
    """For a remote: its primary's east-west address (`global.remotePilotAddress`)."""
    primary_address_is_hostname: bool = False


class IstioControlPlane(pulumi.ComponentResource):
    """Istio's control plane on one cluster: a primary's istiod, or a remote's profile.

    `cacerts` exists before istiod starts (else istiod self-signs and cross-cluster mTLS
    fails). Istio resources wait for `istiod`: `base` installed their CRDs by then, and
    istiod answers the validating webhook.
    """

    namespace: k8s.core.v1.Namespace
    """`istio-system`, labelled with the cluster's network."""
    base: k8s.helm.v3.Release
    """The `base` release: CRDs and the reader service account remote secrets use."""
    istiod: k8s.helm.v3.Release

    def __init__(self, name: str, args: IstioControlPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:IstioControlPlane", name, None, opts)
        spec, plan, cluster = args.spec, args.plan, args.cluster

        def on_cluster(*depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=cluster.provider, depends_on=list(depends_on))

        metadata = namespace_metadata(plan)
        # Everything of Istio's follows the namespace, which waits for what the cluster needs first.
        self.namespace = namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ISTIO_NAMESPACE,
                labels={**cluster.istio_namespace_labels, **metadata["labels"]},
                annotations=metadata["annotations"],
            ),
            opts=on_cluster(*cluster.kubernetes_ready),
        )
        cacerts = k8s.core.v1.Secret(
            f"{name}-cacerts",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CACERTS_SECRET, namespace=namespace.metadata.name),
            type="Opaque",
            string_data=dict(args.cacerts),  # every value secret (`MeshTrust.cacerts`); the Secret class adds one more
            opts=on_cluster(),
        )
        self.base = istio_release(
            f"{name}-base",
            "istio-base",
            "base",
            spec.istio,
            base_values(spec, plan, args.primary_address, args.primary_address_is_hostname),
            on_cluster(namespace),
        )
        self.istiod = istio_release(
            f"{name}-istiod",
            istiod_service_name(spec),  # the release is named like the Service it makes
            "istiod",
            spec.istio,
            istiod_values(spec, plan, args.primary_address, args.primary_address_is_hostname),
            on_cluster(self.base, cacerts),
        )
        self.peer_authentication = (
            istio_resource(name, peer_authentication(spec), on_cluster(self.istiod)) if plan.is_primary else None
        )
        self.register_outputs({"cluster": plan.name, "role": plan.role, "revision": spec.istio.revision or "default"})
