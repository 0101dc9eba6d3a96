"""What an offline plan shows: resource tree, Helm values, Istio manifests, diagram, summary.

Secrets are masked (`[secret]`) and values known only at deploy time shown as
`(computed)`, as `pulumi preview` shows them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import pulumi
import yaml

from meshlib.offline.engine import Registered, Run, is_secret
from meshlib.plan.credentials import certificate_lifetimes
from meshlib.plan.topology import plan_mesh
from meshlib.spec.models import MeshSpec

__all__ = [
    "COMPUTED",
    "SECRET",
    "cluster_of",
    "istio_manifests",
    "masked",
    "mermaid",
    "plan_document",
    "release_values",
    "resource_tree",
    "summary_line",
]

SECRET = "[secret]"
COMPUTED = "(computed)"
_RELEASE = "kubernetes:helm.sh/v3:Release"
_ISTIO_TYPES = re.compile(r"^kubernetes:(networking|security)\.istio\.io/")


def masked(value: Any) -> Any:
    """`value` with secrets replaced by `[secret]`, unknowns by `(computed)`, and keys sorted.

    The engine hands maps over in no fixed order; sorted keys keep plans byte-for-byte stable.
    """
    if is_secret(value):
        return SECRET
    if isinstance(value, pulumi.output.Unknown):
        return COMPUTED
    if isinstance(value, dict):
        return {key: masked(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def cluster_of(resource: Registered, spec: MeshSpec) -> str:
    """The cluster a resource belongs to: its Kubernetes provider's, else the one its name starts with."""
    prefix = f"{spec.mesh_id}-"
    if resource.provider_name.endswith("-k8s"):
        return resource.provider_name.removeprefix(prefix).removesuffix("-k8s")
    names = sorted((c.name for c in spec.clusters), key=len, reverse=True)
    for name in names:
        if resource.name.startswith(f"{prefix}{name}-") or resource.name == f"{prefix}{name}":
            return name
    return "(mesh)"


def _inputs(resource: Registered) -> Any:
    inputs = masked(resource.inputs)
    if resource.type == "pulumi:providers:kubernetes" and "kubeconfig" in inputs:
        inputs["kubeconfig"] = SECRET  # a path or credentials: never part of a reviewable plan
    return inputs


def plan_document(stack: str, spec: MeshSpec, run: Run) -> dict[str, Any]:
    """The whole plan as JSON-able data (what `diff` compares), resources sorted by type and name."""
    resources = sorted(run.resources, key=lambda r: (r.type, r.name))
    return {
        "stack": stack,
        "meshId": spec.mesh_id,
        "summary": _summary(spec, run),
        "certificates": certificate_lifetimes(spec),
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": r.parent_name,
                "provider": r.provider_name,
                "cluster": cluster_of(r, spec),
                "inputs": _inputs(r),
            }
            for r in resources
        ],
    }


def resource_tree(run: Run) -> str:
    """Resources as `pulumi preview` lists them: `+ type name`, indented under their parent."""
    children: dict[str, list[Registered]] = defaultdict(list)
    names = {r.name for r in run.resources}
    for resource in run.resources:
        parent = resource.parent_name if resource.parent_name in names else ""
        children[parent].append(resource)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            lines.append(f"{'    ' * depth}+ {resource.type:<55} {resource.name}")
            walk(resource.name, depth + 1)

    walk("", 0)
    return "\n".join(lines) + "\n"


def release_values(spec: MeshSpec, run: Run) -> list[dict[str, Any]]:
    """Each Helm release: cluster, release name, chart, version and values."""
    releases = sorted(run.mocks.of_type(_RELEASE), key=lambda r: (cluster_of(r, spec), r.name))
    return [
        {
            "cluster": cluster_of(r, spec),
            "release": masked(r.inputs.get("name")),
            "chart": masked(r.inputs.get("chart")),
            "version": masked(r.inputs.get("version")),
            "values": masked(r.inputs.get("values", {})),
        }
        for r in releases
    ]


def istio_manifests(spec: MeshSpec, run: Run) -> dict[str, list[dict[str, Any]]]:
    """Istio resources per cluster, as `kubectl apply` takes them."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in sorted(run.resources, key=lambda r: (r.type, r.name)):
        if _ISTIO_TYPES.match(resource.type):
            inputs = masked(resource.inputs)
            manifest = {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec") if key in inputs}
            found[cluster_of(resource, spec)].append(manifest)
    return dict(found)


def yaml_documents(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML."""
    return "".join(f"---\n{yaml.safe_dump(document, sort_keys=False)}" for document in documents)


def mermaid(spec: MeshSpec) -> str:
    """A Mermaid flowchart: clusters by cloud and network, control-plane links, gateways, services."""
    plan = plan_mesh(spec)
    lines = ["flowchart LR"]
    clouds: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cluster in plan.clusters:
        clouds[cluster.cloud][cluster.network].append(cluster.name)
    labels = {"aws": "AWS (EKS)", "gcp": "Google Cloud (GKE)", "existing": "Adopted clusters"}
    for cloud, networks in clouds.items():
        lines.append(f'  subgraph cloud_{_id(cloud)}["{labels[cloud]}"]')
        for network, members in networks.items():
            lines.append(f'    subgraph net_{_id(network)}["network {network}"]')
            for name in members:
                cluster = plan.cluster(name)
                shape = f'(["{name}<br/>remote"])' if not cluster.is_primary else f'["{name}<br/>primary (istiod)"]'
                lines.append(f"      {_id(name)}{shape}")
                if cluster.east_west_gateway:
                    lines.append(f'      gw_{_id(name)}{{{{"east-west gateway<br/>{name}"}}}}')
                    lines.append(f"      {_id(name)} --- gw_{_id(name)}")
            lines.append("    end")
        lines.append("  end")
    for cluster in plan.clusters:
        for remote in cluster.remotes:
            lines.append(f"  {_id(cluster.name)} ==>|controls| {_id(remote)}")
        for watched in cluster.watches:
            if watched not in cluster.remotes:
                lines.append(f"  {_id(cluster.name)} -.->|watches| {_id(watched)}")
    for index, service in enumerate(spec.services):
        node = f"svc_{index}"
        lines.append(f'  {node}[/"{service.name}.{service.namespace}<br/>from {service.cluster}"/]')
        lines.append(f"  {_id(service.cluster)} --> {node}")
        for consumer in service.consumers:
            lines.append(
                f"  {node} -->|{service.name}.{service.namespace}.svc.{service.cluster}.local| {_id(consumer)}"
            )
    return "\n".join(lines) + "\n"


def _id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _summary(spec: MeshSpec, run: Run) -> dict[str, Any]:
    kinds = Counter(r.type.split(":")[0] if r.custom else "component" for r in run.resources)
    secrets = sum(1 for r in run.resources if any(is_secret(v) for v in r.inputs.values()))
    return {
        "clusters": len(spec.clusters),
        "primaries": sum(1 for c in spec.clusters if c.role == "primary"),
        "remotes": sum(1 for c in spec.clusters if c.role == "remote"),
        "resources": len(run.resources),
        "byKind": dict(sorted(kinds.items())),
        "withSecretInputs": secrets,
    }


def summary_line(spec: MeshSpec, run: Run) -> str:
    """One line: clusters, resources by kind, secrets."""
    summary = _summary(spec, run)
    kinds = ", ".join(f"{count} {kind}" for kind, count in summary["byKind"].items())
    return (
        f"{summary['clusters']} clusters ({summary['primaries']} primary, {summary['remotes']} remote), "
        f"{summary['resources']} resources ({kinds}), {summary['withSecretInputs']} with secret inputs"
    )
