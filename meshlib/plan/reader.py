"""What a watching istiod may do in the cluster it watches: meshlib's reader account and its RBAC.

The charts' `istio-reader-service-account` reads every Secret and ConfigMap and all Istio
config in every namespace. meshlib turns it off (`global.enableReaderRBAC: false` in the
`base` and `istiod` charts) and gives remote secrets the token of its own `meshlib-reader`,
with no more than Istio 1.30 uses against a watched cluster (read from Istio 1.30.3's source:
`pkg/kube/multicluster/cluster.go` `Cluster.Run`, `pilot/pkg/serviceregistry/kube/controller`,
`pilot/pkg/credentials/kube/secrets.go`, `pilot/pkg/serviceregistry/kube/controller/multicluster.go`):

- every watcher lists and watches namespaces, services, pods, nodes, EndpointSlices, Gateway API
  gateways, CRDs (metadata) and WorkloadEntries, and the mesh ConfigMap in `istio-system` (by name);
- every watcher also lists and watches **Secrets in every namespace**: Istio's gateway-credential
  controller starts a cluster-wide Secrets informer for each watched cluster and the cluster never
  counts as synced without it (no name or namespace selector, so RBAC cannot narrow it). In
  multi-primary the contents are never used; in primary-remote only for credentials kept in the
  remote. A watched primary's `cacerts` is therefore readable with its reader token: keep remote
  secrets as guarded as the CA itself;
- the primary that controls a remote (`externalIstiod`) also reviews its proxies' tokens
  (TokenReview, SubjectAccessReview), writes the `istio-ca-root-cert` / `istio-ca-crl` ConfigMaps in
  every namespace, takes a ConfigMap lock in `istio-system`, and keeps the injection webhook's CA
  bundle current.
"""

from __future__ import annotations

from typing import Any

from meshlib.plan.revisions import RevisionPlan
from meshlib.plan.topology import ClusterPlan

__all__ = [
    "READER",
    "READER_NAMESPACE",
    "cluster_role_rules",
    "namespace_role_rules",
    "reader_token_name",
]

READER = "meshlib-reader"
"""The ServiceAccount, ClusterRole, Role and bindings of the reader in every watched cluster."""
READER_NAMESPACE = "istio-system"

Rule = dict[str, Any]


def _rule(group: str, resources: list[str], verbs: list[str], names: list[str] | None = None) -> Rule:
    rule: Rule = {"apiGroups": [group], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


_WATCH = ["list", "watch"]


def cluster_role_rules(watched: ClusterPlan, revisions: RevisionPlan) -> list[Rule]:
    """The ClusterRole of the reader in `watched`: discovery for every watcher, control for its primary."""
    rules = [
        _rule("", ["namespaces", "services", "pods", "nodes"], _WATCH),
        _rule("discovery.k8s.io", ["endpointslices"], _WATCH),
        _rule("gateway.networking.k8s.io", ["gateways"], _WATCH),
        _rule("apiextensions.k8s.io", ["customresourcedefinitions"], _WATCH),
        _rule("networking.istio.io", ["workloadentries"], _WATCH),
        # Istio 1.30 syncs a watched cluster only once its cluster-wide Secrets informer has (see above).
        _rule("", ["secrets"], _WATCH),
    ]
    if watched.is_primary:
        return rules
    # Each revision's istiod patches the caBundle of its own injector and of the tags pointing at it.
    injectors = [
        *(
            f"istio-sidecar-injector-{r.name}" if r.chart_revision else "istio-sidecar-injector"
            for r in revisions.revisions
        ),
        *(f"istio-revision-tag-{tag}" for tag in revisions.tags),
    ]
    return rules + [
        _rule("", ["namespaces"], ["get"], [READER_NAMESPACE]),  # is this primary the remote's control plane?
        _rule("authentication.k8s.io", ["tokenreviews"], ["create"]),  # the remote's proxies' CSRs and xDS
        _rule("authorization.k8s.io", ["subjectaccessreviews"], ["create"]),  # SDS credentials of remote gateways
        _rule("", ["configmaps"], ["list", "watch", "update"], ["istio-ca-root-cert", "istio-ca-crl"]),
        _rule("", ["configmaps"], ["create"]),  # a create cannot be limited by name
        _rule("admissionregistration.k8s.io", ["mutatingwebhookconfigurations"], _WATCH),
        _rule("admissionregistration.k8s.io", ["mutatingwebhookconfigurations"], ["update"], injectors),
    ]


def namespace_role_rules(watched: ClusterPlan, revisions: RevisionPlan) -> list[Rule]:
    """The Role of the reader in `istio-system` of `watched`: each revision's mesh ConfigMap, and a primary's lock."""
    mesh_configs = [f"istio-{r.chart_revision}" if r.chart_revision else "istio" for r in revisions.revisions]
    rules = [_rule("", ["configmaps"], _WATCH, mesh_configs)]
    if not watched.is_primary:
        rules.append(_rule("", ["configmaps"], ["get", "update"], ["istio-namespace-controller-election"]))
    return rules


def reader_token_name(watcher: str, generation: int) -> str:
    """The token Secret of `watcher`'s remote secret; a new generation is a new token (the old one revoked)."""
    return f"{READER}-token-{watcher}" + (f"-{generation}" if generation else "")
