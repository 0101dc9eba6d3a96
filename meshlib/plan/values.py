"""Helm values of the `base`, `istiod` (per revision) and `gateway` (east-west, ingress) releases.

The istiod chart has no values schema: Helm ignores a misspelt key without a word.
Every path set here is listed in `meshlib.plan.value_paths.PATHS` (checked against the
charts of `meshlib.spec.models.DEFAULT_ISTIO_VERSION`); `tests/test_chart_values.py`
fails when a path strays from that list.
Deploy-time values (a gateway address, a load-balancer IP) are parameters: plain
strings in tests, Pulumi Outputs in components.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshlib.plan.revisions import Revision, plan_revisions
from meshlib.plan.topology import ClusterPlan
from meshlib.spec.models import IngressGatewaySpec, MeshSpec

__all__ = [
    "EAST_WEST_GATEWAY_NAME",
    "EAST_WEST_SELECTOR",
    "HA_REPLICAS",
    "base_values",
    "gateway_values",
    "ingress_values",
    "injection_path",
    "istiod_service_name",
    "istiod_values",
]

HA_REPLICAS = 2
"""istiod and every gateway run at least this many pods, spread across zones: a node drain, a zone
outage or a rollout leaves one serving (the charts' PodDisruptionBudgets then let drains proceed)."""
ZONE = "topology.kubernetes.io/zone"
EAST_WEST_GATEWAY_NAME = "istio-eastwestgateway"
EAST_WEST_SELECTOR = {"istio": "eastwestgateway"}
"""The gateway chart labels pods `istio: <name without 'istio-'>`; the Gateways select that."""

Values = dict[str, Any]


def istiod_service_name(spec: MeshSpec) -> str:
    """`istiod`, or `istiod-<revision>`, of the revision that serves the defaults (see `RevisionPlan.stable`)."""
    return plan_revisions(spec).stable.istiod_service


def injection_path(cluster: ClusterPlan) -> str:
    """The path a remote's injection webhook calls on its primary's istiod."""
    return f"/inject/cluster/{cluster.name}/net/{cluster.network}"


def base_values(
    spec: MeshSpec,
    cluster: ClusterPlan,
    primary_address: Any = None,
    primary_address_is_hostname: bool = False,
) -> Values:
    """Values of the `base` chart (CRDs, reader RBAC, default validating webhook).

    `primary_address` is used only for a remote whose primary is reached by hostname.
    """
    revisions = plan_revisions(spec)
    reader_switch = _reader_switch(revisions.newest)
    values: Values = {"global": reader_switch} if reader_switch else {}
    stable = revisions.stable.chart_revision
    if stable:  # the default validating webhook calls this revision's istiod
        values["defaultRevision"] = stable
    if not cluster.is_primary:
        values["profile"] = "remote"
        if primary_address_is_hostname:
            values["base"] = {"validationURL": _webhook_url(primary_address, "/validate")}
    return values


def istiod_values(
    spec: MeshSpec,
    cluster: ClusterPlan,
    primary_address: Any = None,
    primary_address_is_hostname: bool = False,
    *,
    revision: Revision | None = None,
) -> Values:
    """Values of the `istiod` chart for `revision` (default: the stable one): a control plane, or the remote profile.

    `primary_address` (a remote's primary's east-west address) is required for a remote.
    """
    revision = revision or plan_revisions(spec).stable
    values: Values = {}
    if revision.chart_revision:
        values["revision"] = revision.chart_revision
    if cluster.is_primary:
        global_values: Values = {
            "meshID": spec.mesh_id,
            "multiCluster": {"clusterName": cluster.name},
            "network": cluster.network,
            **_reader_switch(revision),
        }
        if cluster.remotes:
            global_values["externalIstiod"] = True
        values["global"] = global_values
        values["meshConfig"] = _mesh_config(spec)
        # The chart's HPA starts at autoscaleMin (replicaCount counts only with autoscaling off);
        # its PodDisruptionBudget (minAvailable 1) then lets node drains proceed one pod at a time.
        values["autoscaleMin"] = HA_REPLICAS
        values["replicaCount"] = HA_REPLICAS
        values["topologySpreadConstraints"] = _spread({"app": "istiod", "istio.io/rev": revision.name})
        return values
    if primary_address is None:
        raise ValueError(f"remote {cluster.name!r} needs its primary's east-west address")
    values["profile"] = "remote"
    values["global"] = {
        "multiCluster": {"clusterName": cluster.name},
        "network": cluster.network,
        "configCluster": True,
        "remotePilotAddress": primary_address,
        **_reader_switch(revision),
    }
    if primary_address_is_hostname:
        # A hostname becomes an ExternalName Service the API server's webhook client refuses:
        # point the injection webhook at the primary's gateway by URL instead.
        values["istiodRemote"] = {"injectionURL": injection_url(primary_address, cluster)}
        # With configCluster the chart renders its own validator too, which reads the same value as `base`.
        values["base"] = {"validationURL": _webhook_url(primary_address, "/validate")}
    else:
        values["istiodRemote"] = {"injectionPath": injection_path(cluster)}
    return values


def gateway_values(
    spec: MeshSpec,
    cluster: ClusterPlan,
    annotations: Any = None,
    load_balancer_ip: Any = None,
    source_ranges: Any = None,
) -> Values:
    """Values of the east-west `gateway` chart (its schema refuses unknown keys).

    `annotations` (a mapping, or a deploy-time value standing for one) and `load_balancer_ip` come
    from the cluster component (how its cloud pins the load balancer's address); `source_ranges`
    restricts who may connect.
    """
    service: Values = {}
    if isinstance(annotations, Mapping):
        if annotations:
            service["annotations"] = dict(annotations)
    elif annotations is not None:  # a deploy-time value standing for them all (a fleet stack's)
        service["annotations"] = annotations
    if load_balancer_ip is not None:
        service["loadBalancerIP"] = load_balancer_ip
    if source_ranges:  # a list, or a deploy-time value standing for one
        service["loadBalancerSourceRanges"] = (
            list(source_ranges) if isinstance(source_ranges, Sequence) else source_ranges
        )
    values = _ha_gateway(spec, EAST_WEST_GATEWAY_NAME, EAST_WEST_SELECTOR)
    values["networkGateway"] = cluster.network
    if service:
        values["service"] = service
    return values


def ingress_values(spec: MeshSpec, ingress: IngressGatewaySpec, annotations: Mapping[str, Any]) -> Values:
    """Values of an ingress `gateway` release: HA like the east-west one; `annotations` from the cloud and config."""
    values = _ha_gateway(spec, ingress.name, ingress_selector(ingress))
    merged = {**annotations, **ingress.annotations}
    if merged:
        values["service"] = {"annotations": merged}
    return values


def ingress_selector(ingress: IngressGatewaySpec) -> dict[str, str]:
    """The label the chart puts on the ingress pods: `istio: <name without 'istio-'>`."""
    return {"istio": ingress.name.removeprefix("istio-")}


def _ha_gateway(spec: MeshSpec, name: str, selector: Mapping[str, str]) -> Values:
    """A gateway of `gatewayRevision`, `HA_REPLICAS` pods spread across zones, drained one at a time."""
    values: Values = {
        "name": name,
        "replicaCount": HA_REPLICAS,
        "autoscaling": {"minReplicas": HA_REPLICAS},
        # The chart creates no PodDisruptionBudget unless asked (and only with more than one replica).
        "podDisruptionBudget": {"minAvailable": 1},
        "topologySpreadConstraints": _spread(dict(selector)),
    }
    revision = plan_revisions(spec).gateway.chart_revision
    if revision:
        values["revision"] = revision
    return values


def injection_url(primary_address: Any, cluster: ClusterPlan) -> Any:
    """The URL a remote's injection webhooks call when its primary is reached by hostname."""
    return _webhook_url(primary_address, injection_path(cluster))


def _reader_switch(revision: Revision) -> Values:
    """`enableReaderRBAC: false` where the chart reads it: meshlib's `meshlib-reader` instead (`meshlib.plan.reader`).

    Istio 1.29's charts have no such switch: they always install Istio's `istio-reader-service-account`
    and its ClusterRole, which meshlib's remote secrets do not use (docs/security.md).
    """
    return {} if revision.minor == "1.29" else {"enableReaderRBAC": False}


def _spread(labels: dict[str, str]) -> list[Values]:
    """Spread the pods matching `labels` across zones, and across nodes within a zone.

    `ScheduleAnyway`: a cluster left with one zone (or one node) still runs every replica.
    """
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels},
        }
        for key in (ZONE, "kubernetes.io/hostname")
    ]


def _mesh_config(spec: MeshSpec) -> Values:
    mesh_config: Values = {"trustDomain": spec.trust_domain}
    if spec.dns_capture:
        mesh_config["defaultConfig"] = {"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}}
    return mesh_config


def _webhook_url(address: Any, path: str) -> Any:
    if isinstance(address, str):
        return f"https://{address}:15017{path}"
    return address.apply(lambda resolved: f"https://{resolved}:15017{path}")
