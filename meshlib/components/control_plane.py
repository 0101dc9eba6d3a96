"""`IstioControlPlane`: `istio-system`, the shared-trust `cacerts`, `base`, an `istiod` per revision, the tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.components.istio_objects import istio_release, istio_resource
from meshlib.plan.credentials import CACERTS_SECRET
from meshlib.plan.manifests import ISTIO_NAMESPACE, namespace_metadata, peer_authentication
from meshlib.plan.overrides import with_overrides
from meshlib.plan.revisions import Revision, RevisionPlan, plan_revisions, tag_webhook
from meshlib.plan.topology import ClusterPlan
from meshlib.plan.values import base_values, injection_url, istiod_values
from meshlib.spec.models import MeshSpec

__all__ = ["IstioControlPlane", "IstioControlPlaneArgs", "istiod_resource_name"]


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
    """Istio's control plane on one cluster: `base`, and per revision a primary's istiod or a remote's profile.

    `cacerts` exists before any istiod starts (else istiod self-signs and cross-cluster mTLS
    fails). Istio resources wait for `istiod`, the stable revision's: `base` installed their
    CRDs by then, and it answers the default validating webhook. Each revision tag is a
    webhook of its own (`meshlib.plan.revisions`), so moving one updates it in place.
    """

    namespace: k8s.core.v1.Namespace
    """`istio-system`, labelled with the cluster's network."""
    base: k8s.helm.v3.Release
    """The `base` release: CRDs, at the newest revision's version."""
    istiods: dict[str, k8s.helm.v3.Release]
    """The `istiod` release of each revision, by revision name."""
    istiod: k8s.helm.v3.Release
    """The stable revision's release (the `default` tag's, or the one installed without a revision)."""
    tags: dict[str, k8s.admissionregistration.v1.MutatingWebhookConfiguration]
    """The `istio-revision-tag-<tag>` webhook of each tag."""

    def __init__(self, name: str, args: IstioControlPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:IstioControlPlane", name, None, opts)
        spec, plan, cluster = args.spec, args.plan, args.cluster
        revisions = plan_revisions(spec)

        def on_cluster(*depends_on: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=cluster.provider, depends_on=list(depends_on), **extra)

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
        remote = (args.primary_address, args.primary_address_is_hostname)
        self.base = istio_release(
            f"{name}-base",
            "istio-base",
            "base",
            spec.istio,
            revisions.newest.version,  # CRDs first, at the newest version, as Istio's canary upgrade does
            with_overrides(spec, "base", plan.name, base_values(spec, plan, *remote)),
            on_cluster(namespace),
        )
        self.istiods = {
            revision.name: istio_release(
                istiod_resource_name(name, revision),
                revision.istiod_service,  # the release is named like the Service it makes
                "istiod",
                spec.istio,
                revision.version,
                with_overrides(spec, "istiod", plan.name, istiod_values(spec, plan, *remote, revision=revision)),
                on_cluster(self.base, cacerts, aliases=_aliases(name, revision, revisions)),
            )
            for revision in revisions.revisions
        }
        self.istiod = self.istiods[revisions.stable.name]
        url = injection_url(args.primary_address, plan) if args.primary_address_is_hostname else None
        self.tags = {
            tag: k8s.admissionregistration.v1.MutatingWebhookConfiguration(
                f"{name}-tag-{tag}",
                **_object_args(tag_webhook(revisions, tag, plan, url)),
                opts=on_cluster(self.istiods[target]),
            )
            for tag, target in revisions.tags.items()
        }
        self.peer_authentication = (
            istio_resource(name, peer_authentication(spec), on_cluster(self.istiod)) if plan.is_primary else None
        )
        self.register_outputs(
            {
                "cluster": plan.name,
                "role": plan.role,
                "revisions": [revision.name for revision in revisions.revisions],
                "tags": dict(revisions.tags),
            }
        )


def istiod_resource_name(prefix: str, revision: Revision) -> str:
    """`<prefix>-istiod` for the install without revision, `<prefix>-istiod-<revision>` for each named one."""
    return f"{prefix}-istiod" if revision.is_default else f"{prefix}-istiod-{revision.name}"


def _aliases(prefix: str, revision: Revision, revisions: RevisionPlan) -> list[pulumi.Alias]:
    """A mesh of one named revision (`mesh:istio.revision`) kept its istiod as `<prefix>-istiod`:
    the first named revision takes that name over, so listing it first under `revisions` replaces nothing."""
    named = [r for r in revisions.revisions if not r.is_default]
    if any(r.is_default for r in revisions.revisions) or revision != named[0]:
        return []
    return [pulumi.Alias(name=f"{prefix}-istiod")]


def _object_args(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest's fields as keyword arguments of its typed resource class."""
    return {key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
