"""Who does what in the mesh: control planes, gateways, remote secrets, service imports.

Pure decisions from a validated `MeshSpec`; DESIGN.md section 4 says why each holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from meshlib.spec.models import ClusterSpec, MeshSpec, ServicePortSpec, is_ipv4

__all__ = ["ClusterPlan", "MeshPlan", "ServiceImport", "plan_mesh"]

LOCAL_CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class ServiceImport:
    """An exported service as seen from one config cluster: one ServiceEntry + DestinationRule."""

    name: str
    namespace: str
    exporter: str
    consumers: tuple[str, ...]
    """The consumer clusters served by this import (the config cluster and/or its remotes)."""
    ports: tuple[ServicePortSpec, ...]

    @property
    def host(self) -> str:
        """The name consumers call: `<svc>.<ns>.svc.<exporting-cluster>.local`."""
        return f"{self.name}.{self.namespace}.svc.{self.exporter}.local"

    def sni(self, port: int) -> str:
        """The SNI the exporter's AUTO_PASSTHROUGH listener routes on: the service as the exporter knows it."""
        return f"outbound_.{port}_._.{self.name}.{self.namespace}.svc.{LOCAL_CLUSTER_DOMAIN}"


@dataclass(frozen=True)
class ClusterPlan:
    """Every decision about one cluster."""

    name: str
    cloud: Literal["aws", "gcp", "existing"]
    network: str
    role: Literal["primary", "remote"]
    config_cluster: str
    """Where Istio configuration for this cluster's workloads lives: itself, or its primary."""
    remotes: tuple[str, ...]
    """The remotes this primary controls."""
    east_west_gateway: bool
    """Runs an east-west gateway (networkGateway on 15443, plus istiod ports when `exposes_istiod`)."""
    watches: tuple[str, ...]
    """Clusters whose API servers this cluster's istiod reads: one remote secret each, held here."""
    imports: tuple[ServiceImport, ...]
    """Exported services configured here (ServiceEntry + DestinationRule), for itself and its remotes."""
    address_is_hostname: bool
    """The east-west address is a DNS name (only a configured one can be), not an IP."""
    passthrough_hosts: tuple[str, ...] = ()
    """Hosts the `cross-network-gateway` of this config cluster passes through on 15443: every `*.local`
    with endpoint discovery; in the federated model exactly the services exported from it and its remotes,
    as their own cluster knows them (a hand-written ServiceEntry elsewhere reaches nothing else)."""

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @property
    def configures_cross_network_gateway(self) -> bool:
        """This primary holds the `cross-network-gateway` (for its own gateway and its remotes')."""
        return self.is_primary and self.east_west_gateway and bool(self.passthrough_hosts)

    @property
    def exposes_istiod(self) -> bool:
        """A primary with remotes exposes istiod (15012, 15017) through its east-west gateway."""
        return bool(self.remotes)


@dataclass(frozen=True)
class MeshPlan:
    """The decisions for the whole mesh, clusters in config order."""

    spec: MeshSpec
    clusters: tuple[ClusterPlan, ...]

    def cluster(self, name: str) -> ClusterPlan:
        """The plan of cluster `name`."""
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    @property
    def networks(self) -> tuple[str, ...]:
        """The mesh's networks, in order of first appearance."""
        return tuple(dict.fromkeys(cluster.network for cluster in self.clusters))

    @property
    def remote_secret_count(self) -> int:
        """How many remote secrets the mesh holds in all."""
        return sum(len(cluster.watches) for cluster in self.clusters)

    def watchers_of(self, name: str) -> tuple[str, ...]:
        """The primaries whose istiod reads cluster `name`'s API server."""
        return self._watchers.get(name, ())

    @cached_property
    def _watchers(self) -> dict[str, tuple[str, ...]]:
        watchers: dict[str, list[str]] = {}
        for cluster in self.clusters:
            for watched in cluster.watches:
                watchers.setdefault(watched, []).append(cluster.name)
        return {name: tuple(found) for name, found in watchers.items()}

    def gateway_peers(
        self, name: str, egress_known: Mapping[str, bool], control_plane_egress_known: Mapping[str, bool]
    ) -> tuple[str, ...] | None:
        """Clusters whose egress IPs an east-west gateway must admit, or None if it cannot be restricted.

        Every other cluster may send mesh traffic to 15443; a remote's nodes reach istiod
        on 15012 and its API server calls the injection webhook on 15017. Where one of
        those sources is unknown (an adopted cluster; GKE's control plane), restricting
        would break the mesh, so the gateway stays open (DESIGN.md section 5).
        """
        cluster = self.cluster(name)
        peers = tuple(other.name for other in self.clusters if other.name != name)
        if not all(egress_known[peer] for peer in peers):
            return None
        if not all(control_plane_egress_known[remote] for remote in cluster.remotes):
            return None
        return peers

    def gateway_exposure(
        self,
        name: str,
        egress_known: Mapping[str, bool],
        control_plane_egress_known: Mapping[str, bool],
        restrict: bool = True,
    ) -> str | None:
        """What the plan says of an east-west gateway's ports that stay open wider than their users.

        None when every port admits exactly who needs it.
        """
        cluster = self.cluster(name)
        ports = "15443 (mesh traffic)" + (" and 15012/15017 (istiod)" if cluster.exposes_istiod else "")
        if not restrict:
            return f"east-west gateway of {name!r}: ports {ports} are open to every source (restrictEastWestSources)"
        unknown = [peer for peer in self.clusters if peer.name != name and not egress_known[peer.name]]
        blind = [remote for remote in cluster.remotes if not control_plane_egress_known[remote]]
        if unknown or blind:
            reasons = [f"the egress of {', '.join(p.name for p in unknown)} (adopted)"] if unknown else []
            reasons += [f"the API server of {', '.join(blind)} calling istiod's webhooks"] if blind else []
            return (
                f"east-west gateway of {name!r}: ports {ports} stay open to every source; the addresses of "
                f"{' and '.join(reasons)} are not known in advance"
            )
        if cluster.exposes_istiod:
            return (
                f"east-west gateway of {name!r}: 15012/15017 (istiod) admit the egress of every peer admitted to "
                f"15443, not only of its remotes ({', '.join(cluster.remotes)}): one load balancer has one source "
                "list; istiod still authenticates every caller"
            )
        return None


def plan_mesh(spec: MeshSpec) -> MeshPlan:
    """Decide every cluster's role, gateway, remote secrets and imports.

    `spec` must come from `meshlib.spec.parse_spec` (defaults filled).
    """
    specs = {cluster.name: cluster for cluster in spec.clusters}
    config_cluster = {
        cluster.name: cluster.name if cluster.role == "primary" else str(cluster.primary) for cluster in spec.clusters
    }
    remotes = {name: tuple(c.name for c in spec.clusters if c.role == "remote" and c.primary == name) for name in specs}
    exporters = {service.cluster for service in spec.services}
    multi_network = len({cluster.network for cluster in spec.clusters}) > 1

    def needs_gateway(cluster: ClusterSpec) -> bool:
        if remotes[cluster.name] or cluster.name in exporters:
            return True
        if not multi_network:
            return False
        # A remote on its primary's network reaches other networks through the primary's gateway.
        return cluster.role == "primary" or specs[str(cluster.primary)].network != cluster.network

    def watched_by(cluster: ClusterSpec) -> tuple[str, ...]:
        if cluster.role == "remote":
            return ()
        if spec.endpoint_discovery:
            return tuple(name for name in specs if name != cluster.name)
        return remotes[cluster.name]

    imports = _imports(spec, config_cluster)
    passthrough: dict[str, set[str]] = {}
    for service in spec.services:
        host = f"{service.name}.{service.namespace}.svc.{LOCAL_CLUSTER_DOMAIN}"
        passthrough.setdefault(config_cluster[service.cluster], set()).add(host)
    plans = tuple(
        ClusterPlan(
            name=cluster.name,
            cloud=cluster.cloud,
            network=str(cluster.network),
            role=cluster.role,
            config_cluster=config_cluster[cluster.name],
            remotes=remotes[cluster.name],
            east_west_gateway=needs_gateway(cluster),
            watches=watched_by(cluster),
            imports=imports.get(cluster.name, ()),
            address_is_hostname=cluster.east_west_address is not None and not is_ipv4(cluster.east_west_address),
            passthrough_hosts=("*.local",)
            if spec.endpoint_discovery
            else tuple(sorted(passthrough.get(cluster.name, ()))),
        )
        for cluster in spec.clusters
    )
    return MeshPlan(spec=spec, clusters=plans)


def _imports(spec: MeshSpec, config_cluster: dict[str, str]) -> dict[str, tuple[ServiceImport, ...]]:
    """Group each service's consumers by the config cluster that must hold its ServiceEntry."""
    by_cluster: dict[str, list[ServiceImport]] = {}
    for service in spec.services:
        consumers_by_config: dict[str, list[str]] = {}
        for consumer in service.consumers:
            consumers_by_config.setdefault(config_cluster[consumer], []).append(consumer)
        for holder, consumers in consumers_by_config.items():
            by_cluster.setdefault(holder, []).append(
                ServiceImport(
                    name=service.name,
                    namespace=service.namespace,
                    exporter=service.cluster,
                    consumers=tuple(consumers),
                    ports=tuple(service.ports),
                )
            )
    return {name: tuple(found) for name, found in by_cluster.items()}
