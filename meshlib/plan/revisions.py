"""Control-plane revisions and revision tags: which istiods run, and which one injects whom.

A canary upgrade is three config changes (docs/upgrades.md): add a revision, move the tags,
remove the old revision. Namespaces follow tags (`istio.io/rev=<tag>`), never a revision, so
moving a tag moves them at their next restart; gateways follow `gatewayRevision`, so they move
in a step of their own, by a rolling update.

Tags are MutatingWebhookConfigurations meshlib writes itself rather than through the istiod
chart's `revisionTags`: a tag moving between two revisions' Helm releases in one `pulumi up`
would be a webhook rendered by one release before the other releases it, which Helm refuses
("invalid ownership metadata"). Istio's Helm upgrade guide applies tags outside Helm for the
same reason (https://istio.io/latest/docs/setup/upgrade/helm/#stable-revision-labels:
`helm template ... -s templates/revision-tags-mwc.yaml | kubectl apply -f -`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshlib.plan.topology import ClusterPlan
from meshlib.spec.models import DEFAULT_REVISION, MeshSpec

__all__ = [
    "ISTIO_REVISION_LABEL",
    "Revision",
    "RevisionPlan",
    "injection_labels",
    "plan_revisions",
    "tag_webhook",
]

ISTIO_REVISION_LABEL = "istio.io/rev"
ISTIO_NAMESPACE = "istio-system"
DEFAULT_INJECTION_PATH = "/inject"
"""`istiodRemote.injectionPath`'s chart default: a primary's injector serves its own cluster here."""


@dataclass(frozen=True, order=True)
class Revision:
    """One control plane revision: an istiod release per cluster."""

    name: str
    """`default` for the control plane installed without a revision."""
    version: str

    @property
    def is_default(self) -> bool:
        """Installed without a revision: `istiod`, serving `istio-injection=enabled` itself."""
        return self.name == DEFAULT_REVISION

    @property
    def chart_revision(self) -> str | None:
        """The charts' `revision` value (unset for the default install)."""
        return None if self.is_default else self.name

    @property
    def istiod_service(self) -> str:
        """`istiod` or `istiod-<name>`: istiod's Service, and its Helm release."""
        return "istiod" if self.is_default else f"istiod-{self.name}"

    @property
    def minor(self) -> str:
        """`1.30` of `1.30.3`."""
        return ".".join(self.version.split(".")[:2])

    @property
    def version_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


@dataclass(frozen=True)
class RevisionPlan:
    """The mesh's revisions (config order), tags, and who serves the defaults."""

    revisions: tuple[Revision, ...]
    gateway: Revision
    """The revision that injects every gateway."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tag -> revision name, including an implied `default` tag (see `plan_revisions`)."""

    @property
    def stable(self) -> Revision:
        """Serves `istio-injection=enabled` and validates untagged Istio config: `base`'s `defaultRevision`."""
        target = self.tags.get(DEFAULT_REVISION)
        return self.revision(target) if target else next(r for r in self.revisions if r.is_default)

    @property
    def newest(self) -> Revision:
        """The highest version: `base` (the CRDs) installs its chart, as Istio's canary upgrade does first."""
        return max(self.revisions, key=lambda revision: revision.version_key)

    @property
    def routes_istiod_by_sni(self) -> bool:
        """Several istiods behind one east-west gateway: each reached by its Service name as SNI."""
        return len(self.revisions) > 1

    def revision(self, name: str) -> Revision:
        """The revision called `name`."""
        return next(revision for revision in self.revisions if revision.name == name)

    def tags_of(self, revision: Revision) -> tuple[str, ...]:
        """The tags pointing at `revision`, sorted."""
        return tuple(sorted(tag for tag, target in self.tags.items() if target == revision.name))


def plan_revisions(spec: MeshSpec) -> RevisionPlan:
    """The revisions of a validated spec (`meshlib.spec.rules` refused inconsistent ones).

    `version`/`revision` alone is one revision. A mesh whose only revisions are named gets an
    implied `default` tag on the only one, so `istio-injection=enabled` namespaces still get sidecars.
    """
    istio = spec.istio
    if istio.revisions is None:
        revisions: tuple[Revision, ...] = (Revision(istio.revision or DEFAULT_REVISION, istio.version),)
    else:
        revisions = tuple(Revision(r.name, r.version) for r in istio.revisions)
    tags = dict(sorted(istio.tags.items()))
    if DEFAULT_REVISION not in tags and not any(r.is_default for r in revisions) and len(revisions) == 1:
        tags[DEFAULT_REVISION] = revisions[0].name
    gateway_name = istio.gateway_revision or (revisions[0].name if len(revisions) == 1 else None)
    gateway = next((r for r in revisions if r.name == gateway_name), revisions[0])
    return RevisionPlan(revisions=revisions, tags=tags, gateway=gateway)


def injection_labels(spec: MeshSpec, tag: str | None = None) -> dict[str, str]:
    """Labels that put a namespace's pods on the mesh, following `tag` (default: the `default` tag).

    `istio.io/rev=default` is served by the default tag, or by a control plane without revision.
    """
    return {ISTIO_REVISION_LABEL: tag or DEFAULT_REVISION}


def tag_webhook(
    revisions: RevisionPlan,
    tag: str,
    cluster: ClusterPlan,
    injection_url: Any = None,
) -> dict[str, Any]:
    """The `istio-revision-tag-<tag>` MutatingWebhookConfiguration of `cluster`.

    What the istiod chart's `templates/revision-tags-mwc.yaml` (1.29, 1.30) renders for
    `revisionTags: [<tag>]` with `revision: <target>`, in `istio-system`, with the chart's
    defaults (`reinvocationPolicy: Never`, no `enableNamespacesByDefault`). A remote's injector
    is its primary's istiod, reached through the remote's `istiod-<rev>` Service, or by URL
    (`injection_url`) when the primary's address is a hostname. No `caBundle`: istiod patches it
    into every MutatingWebhookConfiguration labelled `istio.io/rev: <its revision>`, in each webhook
    whose name ends in `sidecar-injector.istio.io` (`WebhookCertPatcher`, pkg/webhooks/webhookpatch.go,
    Istio 1.30.3), so a moved tag is re-patched by its new revision.
    """
    target = revisions.revision(revisions.tags[tag])
    client: dict[str, Any]
    if injection_url is not None:
        client = {"url": injection_url}
    else:
        path = DEFAULT_INJECTION_PATH if cluster.is_primary else f"/inject/cluster/{cluster.name}/net/{cluster.network}"
        client = {"service": {"name": target.istiod_service, "namespace": ISTIO_NAMESPACE, "path": path, "port": 443}}

    def webhook(prefix: str, namespace: list[dict[str, Any]], objects: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "name": f"{prefix}sidecar-injector.istio.io",
            "clientConfig": client,
            "sideEffects": "None",
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            "failurePolicy": "Fail",
            "reinvocationPolicy": "Never",
            "admissionReviewVersions": ["v1"],
            "namespaceSelector": {"matchExpressions": namespace},
            "objectSelector": {"matchExpressions": objects},
        }

    def absent(key: str) -> dict[str, Any]:
        return {"key": key, "operator": "DoesNotExist"}

    def among(key: str, *values: str) -> dict[str, Any]:
        return {"key": key, "operator": "In", "values": list(values)}

    def not_among(key: str, *values: str) -> dict[str, Any]:
        return {"key": key, "operator": "NotIn", "values": list(values)}

    rev, injection, inject = ISTIO_REVISION_LABEL, "istio-injection", "sidecar.istio.io/inject"
    webhooks = [
        webhook("rev.namespace.", [among(rev, tag), absent(injection)], [not_among(inject, "false")]),
        webhook("rev.object.", [absent(rev), absent(injection)], [not_among(inject, "false"), among(rev, tag)]),
    ]
    if tag == DEFAULT_REVISION:
        webhooks += [
            webhook("namespace.", [among(injection, "enabled")], [not_among(inject, "false")]),
            webhook("object.", [absent(injection), absent(rev)], [among(inject, "true"), absent(rev)]),
        ]
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": f"istio-revision-tag-{tag}",
            "labels": {
                "istio.io/tag": tag,
                ISTIO_REVISION_LABEL: target.name,
                "app": "sidecar-injector",
                "app.kubernetes.io/name": "istiod",
                "app.kubernetes.io/managed-by": "meshlib",
            },
        },
        "webhooks": webhooks,
    }
