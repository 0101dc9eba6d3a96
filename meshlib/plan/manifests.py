"""Istio custom resources as plain dicts, as `kubectl apply` would take them.

Addresses known only at deploy time are parameters (strings, or Pulumi Outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meshlib.plan.revisions import Revision, plan_revisions
from meshlib.plan.topology import ClusterPlan, ServiceImport
from meshlib.plan.values import EAST_WEST_SELECTOR
from meshlib.spec.models import MeshSpec

__all__ = [
    "ISTIO_NAMESPACE",
    "Manifest",
    "cluster_manifests",
    "cross_network_gateway",
    "destination_rule",
    "istiod_gateway",
    "istiod_virtual_services",
    "namespace_metadata",
    "peer_authentication",
    "service_entry",
]

ISTIO_NAMESPACE = "istio-system"
NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"
CROSS_NETWORK_PORT = 15443
ISTIOD_PORTS = {15012: 15012, 15017: 443}
"""Port on the east-west gateway -> port on istiod (15017 carries the webhooks to istiod:443)."""

Manifest = dict[str, Any]


def _object(api_version: str, kind: str, name: str, spec: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": ISTIO_NAMESPACE},
        "spec": spec,
    }


def namespace_metadata(cluster: ClusterPlan) -> dict[str, dict[str, str]]:
    """Labels and annotations of `istio-system`: the network, and a remote's control plane."""
    metadata = {"labels": {"topology.istio.io/network": cluster.network}, "annotations": {}}
    if not cluster.is_primary:
        metadata["annotations"]["topology.istio.io/controlPlaneClusters"] = cluster.config_cluster
    return metadata


def cross_network_gateway(hosts: Sequence[str] = ("*.local",)) -> Manifest:
    """Istio's `expose-services` Gateway: mTLS passthrough on 15443 for `hosts` (every `*.local` by default)."""
    return _object(
        NETWORKING,
        "Gateway",
        "cross-network-gateway",
        {
            "selector": dict(EAST_WEST_SELECTOR),
            "servers": [
                {
                    "port": {"number": CROSS_NETWORK_PORT, "name": "tls", "protocol": "TLS"},
                    "tls": {"mode": "AUTO_PASSTHROUGH"},
                    "hosts": list(hosts),
                }
            ],
        },
    )


def istiod_gateway() -> Manifest:
    """Istio's `expose-istiod` Gateway: xDS/CA (15012) and webhooks (15017) passed through."""
    names = {15012: "tls-istiod", 15017: "tls-istiodwebhook"}
    return _object(
        NETWORKING,
        "Gateway",
        "istiod-gateway",
        {
            "selector": dict(EAST_WEST_SELECTOR),
            "servers": [
                {
                    "port": {"name": names[port], "number": port, "protocol": "tls"},
                    "tls": {"mode": "PASSTHROUGH"},
                    "hosts": ["*"],
                }
                for port in ISTIOD_PORTS
            ],
        },
    )


def istiod_virtual_services(spec: MeshSpec) -> list[Manifest]:
    """Route the istiod Gateway's ports to istiod: every SNI to the one revision, or each revision by its SNI.

    With several revisions, a remote's proxies and API server reach `istiod-<rev>.istio-system.svc`
    (the remote profile's Service of that name points at this gateway), which is the SNI each
    revision's route matches: Istio's `expose-istiod-rev` sample.
    """
    revisions = plan_revisions(spec)
    if not revisions.routes_istiod_by_sni:
        return [_istiod_route("istiod-vs", revisions.revisions[0], ["*"])]
    return [
        _istiod_route(
            f"istiod-vs-{revision.name}",
            revision,
            [
                f"{revision.istiod_service}.{ISTIO_NAMESPACE}.svc",
                f"{revision.istiod_service}.{ISTIO_NAMESPACE}.svc.cluster.local",
            ],
        )
        for revision in revisions.revisions
    ]


def _istiod_route(name: str, revision: Revision, sni_hosts: list[str]) -> Manifest:
    host = f"{revision.istiod_service}.{ISTIO_NAMESPACE}.svc.cluster.local"
    return _object(
        NETWORKING,
        "VirtualService",
        name,
        {
            "hosts": ["*"],
            "gateways": ["istiod-gateway"],
            "tls": [
                {
                    "match": [{"port": port, "sniHosts": list(sni_hosts)}],
                    "route": [{"destination": {"host": host, "port": {"number": target}}}],
                }
                for port, target in ISTIOD_PORTS.items()
            ],
        },
    )


def peer_authentication(spec: MeshSpec) -> Manifest:
    """The mesh-wide mTLS mode (a PeerAuthentication in the root namespace)."""
    return _object(SECURITY, "PeerAuthentication", "default", {"mtls": {"mode": spec.mtls_mode}})


def service_entry(service: ServiceImport, addresses: Sequence[Any], address_is_hostname: bool) -> Manifest:
    """The ServiceEntry that names an exported service in a consumer's config cluster.

    Endpoints are the exporter's east-west gateway `addresses`, every port sent to 15443.
    """
    return _object(
        NETWORKING,
        "ServiceEntry",
        service.host,
        {
            "hosts": [service.host],
            "location": "MESH_INTERNAL",
            "resolution": "DNS" if address_is_hostname else "STATIC",
            "ports": [{"number": port.number, "name": port.name, "protocol": port.protocol} for port in service.ports],
            "endpoints": [
                {"address": address, "ports": {port.name: CROSS_NETWORK_PORT for port in service.ports}}
                for address in addresses
            ],
        },
    )


def destination_rule(service: ServiceImport) -> Manifest:
    """Istio mTLS with the SNI the exporter's gateway routes on (what makes the entry route)."""

    def tls(port: int) -> dict[str, str]:
        return {"mode": "ISTIO_MUTUAL", "sni": service.sni(port)}

    if len(service.ports) == 1:
        policy: dict[str, Any] = {"tls": tls(service.ports[0].number)}
    else:
        policy = {
            "portLevelSettings": [{"port": {"number": port.number}, "tls": tls(port.number)} for port in service.ports]
        }
    return _object(NETWORKING, "DestinationRule", service.host, {"host": service.host, "trafficPolicy": policy})


def cluster_manifests(
    spec: MeshSpec,
    cluster: ClusterPlan,
    exporter_addresses: dict[str, Sequence[Any]],
    exporter_is_hostname: dict[str, bool],
) -> list[Manifest]:
    """Every Istio resource created in `cluster`, in apply order.

    A remote gets none: Istio reads configuration from its primary only.
    `exporter_addresses` maps each exporting cluster to its east-west addresses.
    """
    if not cluster.is_primary:
        return []
    manifests = [peer_authentication(spec)]
    if cluster.configures_cross_network_gateway:
        # Also configures the east-west gateways of this primary's remotes.
        manifests.append(cross_network_gateway(cluster.passthrough_hosts))
    if cluster.exposes_istiod:
        manifests += [istiod_gateway(), *istiod_virtual_services(spec)]
    for service in cluster.imports:
        addresses = exporter_addresses[service.exporter]
        manifests += [
            service_entry(service, addresses, exporter_is_hostname[service.exporter]),
            destination_rule(service),
        ]
    return manifests
