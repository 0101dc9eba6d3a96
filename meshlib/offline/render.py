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
from meshlib.plan.overrides import user_paths
from meshlib.plan.revisions import plan_revisions
from meshlib.plan.topology import ClusterPlan, MeshPlan, ServiceImport, plan_mesh
from meshlib.plan.values import EAST_WEST_GATEWAY_NAME
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
    "resource_key",
    "resource_tree",
    "revisions_text",
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
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine carries every number as a double: ports are whole
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
                "dependsOn": sorted({resource_key(urn) for urn in r.dependencies}),
                "inputsFrom": {
                    key: sorted({resource_key(urn) for urn in urns})
                    for key, urns in sorted(r.property_dependencies.items())
                    if urns
                },
                **({"read": True} if r.read else {}),
            }
            for r in resources
        ],
    }


def resource_key(urn: str) -> str:
    """`type::name` of the resource a URN names (how plan documents refer to resources)."""
    *_, qualified_type, name = urn.split("::")
    return f"{qualified_type.split('$')[-1]}::{name}"


def resource_tree(run: Run) -> str:
    """Resources as `pulumi preview` lists them, indented under their parent: `+ type name`, `> type name` a read."""
    children: dict[str, list[Registered]] = defaultdict(list)
    names = {r.name for r in run.resources}
    for resource in run.resources:
        parent = resource.parent_name if resource.parent_name in names else ""
        children[parent].append(resource)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            glyph = ">" if resource.read else "+"
            lines.append(
                f"{'    ' * depth}{glyph} {resource.type:<55} {resource.name}{' (read)' if resource.read else ''}"
            )
            walk(resource.name, depth + 1)

    walk("", 0)
    return "\n".join(lines) + "\n"


def release_values(spec: MeshSpec, run: Run) -> list[dict[str, Any]]:
    """Each Helm release: cluster, release name, chart, version and values, and which values came from config."""
    releases = sorted(run.mocks.of_type(_RELEASE), key=lambda r: (cluster_of(r, spec), r.name))
    documents = []
    for r in releases:
        cluster, chart = cluster_of(r, spec), r.inputs.get("chart")
        document = {
            "cluster": cluster,
            "release": masked(r.inputs.get("name")),
            "chart": masked(chart),
            "version": masked(r.inputs.get("version")),
            "values": masked(r.inputs.get("values", {})),
        }
        overrides = _override_key(chart, r.inputs.get("name"))
        if overrides and any(c.name == cluster for c in spec.clusters):
            if from_config := sorted(user_paths(spec, overrides, cluster)):
                document["fromConfig"] = from_config  # `mesh:istio.values` / `clusters[].istioValues`
        documents.append(document)
    return documents


def _override_key(chart: Any, release: Any) -> str | None:
    """The `ChartValuesSpec` key whose overrides a release of Istio's `chart` takes (None: not Istio's)."""
    if chart == "gateway":
        return "gateway" if release == EAST_WEST_GATEWAY_NAME else "ingressGateway"
    return chart if chart in ("base", "istiod") else None


def revisions_text(spec: MeshSpec) -> str:
    """The control-plane revisions, their tags and the gateways' revision, a line each."""
    revisions = plan_revisions(spec)
    lines = [
        f"  {revision.name}: Istio {revision.version}"
        + (f", tags {', '.join(revisions.tags_of(revision))}" if revisions.tags_of(revision) else "")
        + (", gateways" if revision == revisions.gateway else "")
        for revision in revisions.revisions
    ]
    return "\n".join(lines) + "\n"


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


_CLOUD_LABELS = {"aws": "AWS (EKS)", "gcp": "Google Cloud (GKE)", "existing": "Adopted clusters"}
_COLLAPSE_WATCHES = 3
"""A primary that watches every other cluster, and at least this many, says so in its label instead
of one dotted edge per watched cluster (a multi-primary mesh would draw N·(N-1) of them)."""


def mermaid(spec: MeshSpec) -> str:
    """A Mermaid flowchart of the mesh's traffic, clusters grouped by cloud, then network.

    Solid edges: a consumer calls an exported service through the exporter's east-west gateway
    (15443). Thick edges: a remote reaches its primary's istiod through the primary's gateway
    (15012/15017). Dotted edges: which primary's istiod watches which cluster's API server.
    """
    plan = plan_mesh(spec)
    ids = _NodeIds()
    clouds: dict[str, dict[str, list[ClusterPlan]]] = {}
    for cluster in plan.clusters:
        clouds.setdefault(cluster.cloud, {}).setdefault(cluster.network, []).append(cluster)
    services: dict[tuple[str, str, str], ServiceImport] = {}
    calls: dict[tuple[str, str], None] = {}  # (consumer, exporter), in plan order
    for cluster in plan.clusters:
        for imported in cluster.imports:
            services.setdefault((imported.exporter, imported.namespace, imported.name), imported)
            calls.update(dict.fromkeys((consumer, imported.exporter) for consumer in imported.consumers))

    lines = ["flowchart LR"]
    for cloud, networks in clouds.items():
        lines.append(f'  subgraph {ids.of("cloud", cloud)}["{_CLOUD_LABELS.get(cloud, cloud)}"]')
        for network, members in networks.items():
            lines.append(f'    subgraph {ids.of("net", network, within=cloud)}["network {network}"]')
            for cluster in members:
                lines.append(f"      {ids.of('c', cluster.name)}{_cluster_shape(plan, cluster)}")
                if cluster.east_west_gateway:
                    lines.append(f'      {ids.of("gw", cluster.name)}{{{{"{cluster.name}<br/>east-west gateway"}}}}')
            for (exporter, namespace, name), _ in services.items():
                if plan.cluster(exporter).network == network and plan.cluster(exporter).cloud == cloud:
                    lines.append(
                        f'      {ids.of("svc", exporter, namespace, name)}[/"{name}.{namespace}<br/>in {exporter}"/]'
                    )
            lines.append("    end")
        lines.append("  end")

    def gateway(name: str) -> str:  # every exporter and every primary with remotes runs one
        return ids.of("gw", name) if plan.cluster(name).east_west_gateway else ids.of("c", name)

    for consumer, exporter in calls:
        lines.append(f'  {ids.of("c", consumer)} -->|"15443"| {gateway(exporter)}')
    for (exporter, namespace, name), service in services.items():
        ports = ", ".join(str(port.number) for port in service.ports)
        lines.append(f'  {gateway(exporter)} -->|"{ports}"| {ids.of("svc", exporter, namespace, name)}')
    for cluster in plan.clusters:
        if cluster.exposes_istiod:
            for remote in cluster.remotes:
                lines.append(f'  {ids.of("c", remote)} ==>|"15012/15017"| {gateway(cluster.name)}')
            if cluster.east_west_gateway:
                lines.append(f'  {gateway(cluster.name)} ==>|"istiod"| {ids.of("c", cluster.name)}')
    for cluster in plan.clusters:
        if not _watches_all(plan, cluster):
            for watched in cluster.watches:
                lines.append(f'  {ids.of("c", cluster.name)} -.->|"watches"| {ids.of("c", watched)}')

    classes = {
        "primary": [ids.of("c", c.name) for c in plan.clusters if c.is_primary],
        "remote": [ids.of("c", c.name) for c in plan.clusters if not c.is_primary],
        "gateway": [ids.of("gw", c.name) for c in plan.clusters if c.east_west_gateway],
        "service": [ids.of("svc", *key) for key in services],
    }
    lines += [
        "  classDef primary fill:#e8f0fe,stroke:#1a73e8,color:#0b1f3a",
        "  classDef remote fill:#fef7e0,stroke:#e37400,color:#3a2500",
        "  classDef gateway fill:#e6f4ea,stroke:#188038,color:#0d2e17",
        "  classDef service fill:#fce8e6,stroke:#c5221f,color:#3a0b0a",
    ]
    lines += [f"  class {','.join(members)} {name}" for name, members in classes.items() if members]
    return "\n".join(lines) + "\n"


def _cluster_shape(plan: MeshPlan, cluster: ClusterPlan) -> str:
    if not cluster.is_primary:
        return f'(["{cluster.name}<br/>remote of {cluster.config_cluster}"])'
    note = f"<br/>watches all {len(plan.clusters) - 1} others" if _watches_all(plan, cluster) else ""
    return f'["{cluster.name}<br/>primary: istiod{note}"]'


def _watches_all(plan: MeshPlan, cluster: ClusterPlan) -> bool:
    others = {c.name for c in plan.clusters if c.name != cluster.name}
    return len(others) >= _COLLAPSE_WATCHES and set(cluster.watches) == others


class _NodeIds:
    """Mermaid ids: `<kind>_<name>` with anything but letters, digits and `_` as `_`; unique, and the
    same for the same spec (a clash after sanitizing takes `_2`, `_3`, ... in config order)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], str] = {}
        self._taken: set[str] = set()

    def of(self, kind: str, *names: str, within: str = "") -> str:
        """The id of `kind` `names` (in `within`, which tells apart equal names but stays out of the id)."""
        key = (kind, *names, within)
        if key not in self._ids:
            base = re.sub(r"[^A-Za-z0-9_]", "_", "_".join((kind, *names)))
            found, suffix = base, 1
            while found in self._taken:
                suffix += 1
                found = f"{base}_{suffix}"
            self._ids[key] = found
            self._taken.add(found)
        return self._ids[key]


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
