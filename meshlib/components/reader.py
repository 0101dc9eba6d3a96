"""`RemoteReader`: the account whose tokens a watched cluster hands to the istiods that watch it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.plan.reader import READER, READER_NAMESPACE, cluster_role_rules, namespace_role_rules
from meshlib.plan.revisions import RevisionPlan
from meshlib.plan.topology import ClusterPlan

__all__ = ["RemoteReader", "RemoteReaderArgs"]


@dataclass
class RemoteReaderArgs:
    """Inputs of `RemoteReader`."""

    cluster: MeshCluster
    """The watched cluster."""
    plan: ClusterPlan
    revisions: RevisionPlan
    """The Istio revisions and tags of the watching istiods (name the mesh ConfigMaps and injectors they use)."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What creates `istio-system` in the watched cluster."""


class RemoteReader(pulumi.ComponentResource):
    """`meshlib-reader` in a watched cluster: a ServiceAccount with exactly what watching istiods use.

    See `meshlib.plan.reader` for every rule and why it is there. Token Secrets of this account
    are made per watcher by `RemoteSecret`, after `ready`.
    """

    ready: list[pulumi.Resource]
    """The account and its bindings: a token Secret made before them would be deleted by Kubernetes."""

    def __init__(self, name: str, args: RemoteReaderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:RemoteReader", name, None, opts)
        on_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.cluster.provider, depends_on=list(args.depends_on)
        )
        namespaced = k8s.meta.v1.ObjectMetaArgs(name=READER, namespace=READER_NAMESPACE)
        subject = k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=READER, namespace=READER_NAMESPACE)
        account = k8s.core.v1.ServiceAccount(f"{name}-account", metadata=namespaced, opts=on_cluster)
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=READER),
            rules=_policy(cluster_role_rules(args.plan, args.revisions)),
            opts=on_cluster,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=namespaced,
            rules=_policy(namespace_role_rules(args.plan, args.revisions)),
            opts=on_cluster,
        )
        self.ready = [
            account,
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-cluster-role-binding",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=READER),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=cluster_role.metadata.name
                ),
                subjects=[subject],
                opts=on_cluster,
            ),
            k8s.rbac.v1.RoleBinding(
                f"{name}-role-binding",
                metadata=namespaced,
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
                ),
                subjects=[subject],
                opts=on_cluster,
            ),
        ]
        self.register_outputs({"account": account.metadata.name})


def _policy(rules: list[dict[str, Any]]) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    return [
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=rule["apiGroups"],
            resources=rule["resources"],
            verbs=rule["verbs"],
            resource_names=rule.get("resourceNames"),
        )
        for rule in rules
    ]
