"""Helm values of the `base`, `istiod` and east-west `gateway` releases, per cluster role.

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

from meshlib.plan.topology import ClusterPlan
from meshlib.spec.models import MeshSpec

__all__ = [
    "EAST_WEST_GATEWAY_NAME",
    "EAST_WEST_SELECTOR",
    "HA_REPLICAS",
    "base_values",
    "gateway_values",
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
    """`istiod`, or `istiod-<revision>` when a revision is configured."""
    return f"istiod-{spec.istio.revision}" if spec.istio.revision else "istiod"


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
    values: Values = {"global": {"enableReaderRBAC": False}}  # meshlib's own reader instead (plan.reader)
    if spec.istio.revision:
        values["defaultRevision"] = spec.istio.revision
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
) -> Values:
    """Values of the `istiod` chart: a full control plane, or the remote profile.

    `primary_address` (a remote's primary's east-west address) is required for a remote.
    """
    values: Values = {}
    if spec.istio.revision:
        values["revision"] = spec.istio.revision
    if cluster.is_primary:
        global_values: Values = {
            "meshID": spec.mesh_id,
            "multiCluster": {"clusterName": cluster.name},
            "network": cluster.network,
            "enableReaderRBAC": False,
        }
        if cluster.remotes:
            global_values["externalIstiod"] = True
        values["global"] = global_values
        values["meshConfig"] = _mesh_config(spec)
        # The chart's HPA starts at autoscaleMin (replicaCount counts only with autoscaling off);
        # its PodDisruptionBudget (minAvailable 1) then lets node drains proceed one pod at a time.
        values["autoscaleMin"] = HA_REPLICAS
        values["replicaCount"] = HA_REPLICAS
        values["topologySpreadConstraints"] = _spread(
            {"app": "istiod", "istio.io/rev": spec.istio.revision or "default"}
        )
        return values
    if primary_address is None:
        raise ValueError(f"remote {cluster.name!r} needs its primary's east-west address")
    values["profile"] = "remote"
    values["global"] = {
        "multiCluster": {"clusterName": cluster.name},
        "network": cluster.network,
        "configCluster": True,
        "remotePilotAddress": primary_address,
        "enableReaderRBAC": False,
    }
    if primary_address_is_hostname:
        # A hostname becomes an ExternalName Service the API server's webhook client refuses:
        # point the injection webhook at the primary's gateway by URL instead.
        values["istiodRemote"] = {"injectionURL": _webhook_url(primary_address, injection_path(cluster))}
        # With configCluster the chart renders its own validator too, which reads the same value as `base`.
        values["base"] = {"validationURL": _webhook_url(primary_address, "/validate")}
    else:
        values["istiodRemote"] = {"injectionPath": injection_path(cluster)}
    return values


def gateway_values(
    spec: MeshSpec,
    cluster: ClusterPlan,
    annotations: Mapping[str, Any] | None = None,
    load_balancer_ip: Any = None,
    source_ranges: Any = None,
) -> Values:
    """Values of the east-west `gateway` chart (its schema refuses unknown keys).

    `annotations` and `load_balancer_ip` come from the cluster component (how its cloud
    pins the load balancer's address); `source_ranges` restricts who may connect.
    """
    service: Values = {}
    if annotations:
        service["annotations"] = dict(annotations)
    if load_balancer_ip is not None:
        service["loadBalancerIP"] = load_balancer_ip
    if source_ranges:  # a list, or a deploy-time value standing for one
        service["loadBalancerSourceRanges"] = (
            list(source_ranges) if isinstance(source_ranges, Sequence) else source_ranges
        )
    values: Values = {
        "name": EAST_WEST_GATEWAY_NAME,
        "networkGateway": cluster.network,
        "replicaCount": HA_REPLICAS,
        "autoscaling": {"minReplicas": HA_REPLICAS},
        # The chart creates no PodDisruptionBudget unless asked (and only with more than one replica).
        "podDisruptionBudget": {"minAvailable": 1},
        "topologySpreadConstraints": _spread(dict(EAST_WEST_SELECTOR)),
    }
    if spec.istio.revision:
        values["revision"] = spec.istio.revision
    if service:
        values["service"] = service
    return values


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
