"""Application namespaces on the mesh: where each goes, and the labels that put its pods on the mesh."""

from __future__ import annotations

from meshlib.plan.revisions import injection_labels
from meshlib.spec.models import MeshSpec, NamespaceSpec

__all__ = ["namespace_labels", "namespaces_of"]


def namespaces_of(spec: MeshSpec, cluster: str) -> list[NamespaceSpec]:
    """The `mesh:namespaces` created on `cluster` (those without `clusters` go everywhere)."""
    return [ns for ns in spec.namespaces if ns.clusters is None or cluster in ns.clusters]


def namespace_labels(spec: MeshSpec, namespace: NamespaceSpec) -> dict[str, str]:
    """`istio.io/rev=<tag>`: the `default` tag unless the namespace names one.

    No network label: Istio reads `topology.istio.io/network` only from `istio-system`
    (`networkManager.setNetworkFromNamespace`, pilot/pkg/serviceregistry/kube/controller/network.go),
    and the injector labels each pod with the network its istiod was installed for
    (`applyMetadata`, pkg/kube/inject/webhook.go, Istio 1.30).
    """
    return injection_labels(spec, namespace.tag)
