"""What one fleet stack builds: its part of the mesh, from the same spec, reading earlier stacks' outputs.

Every stack builds under a root component of the single-stack mesh's type and name, and gives
each component the name `MultiClusterMesh` gives it, so each resource has the URN it has in a
single-stack mesh of the same config (a mesh moves into a fleet with `pulumi state move`,
docs/fleet.md). Within a stack, resources depend on each other as in the single-stack mesh;
across stacks, the layers order them (`meshlib.fleet.layout`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.applications import ClusterApplications, ClusterApplicationsArgs
from meshlib.components.aws import AwsNetwork
from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.control_plane import IstioControlPlane, IstioControlPlaneArgs
from meshlib.components.east_west import EastWestGateway, EastWestGatewayArgs
from meshlib.components.failover import ServiceFailover, ServiceFailoverArgs
from meshlib.components.federation import ServiceFederation, ServiceFederationArgs
from meshlib.components.gcp import GcpNetwork
from meshlib.components.mesh import MultiClusterMesh, api_cidrs, cluster_cas_of, root_ca_pems
from meshlib.components.reader import RemoteReader, RemoteReaderArgs
from meshlib.components.remote_secret import RemoteSecret, RemoteSecretArgs
from meshlib.components.trust import MeshTrust, MeshTrustArgs
from meshlib.components.verify import MeshVerification, MeshVerificationArgs
from meshlib.fleet.layout import FleetLayout, FleetStack, plan_fleet
from meshlib.fleet.references import (
    AwsNetworkView,
    GcpNetworkView,
    cluster_export,
    cluster_stand_in,
    east_west_of,
    network_export,
    pick,
)
from meshlib.plan.applications import namespaces_of
from meshlib.plan.failover import failover_rules
from meshlib.plan.revisions import plan_revisions
from meshlib.plan.topology import ClusterPlan
from meshlib.spec.loader import FLEET_BASE_KEY as FLEET_BASE_CONFIG_KEY
from meshlib.spec.models import ClusterSpec, MeshSpec

__all__ = ["FLEET_BASE_KEY", "FLEET_STACK_KEY", "build_fleet_stack", "fleet_stack_of"]

FLEET_STACK_KEY = "fleetStack"
"""Config key (namespace `meshlib`) naming the fleet stack a Pulumi stack is (`cluster-east`...)."""
FLEET_BASE_KEY = FLEET_BASE_CONFIG_KEY.removeprefix("meshlib:")
"""Config key (namespace `meshlib`) naming the fleet's base stack: its stacks are `<base>.<name>`."""
_CACERTS_KEYS = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")


def fleet_stack_of() -> tuple[str, str] | None:
    """(fleet stack, base) when the running Pulumi stack is a fleet stack, else None."""
    config = pulumi.Config("meshlib")
    stack = config.get(FLEET_STACK_KEY)
    return (stack, config.require(FLEET_BASE_KEY)) if stack else None


@dataclass(frozen=True)
class _ApiServer:
    """A watched cluster as the watcher's wiring stack knows it: its name and API server."""

    cluster_name: str
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    provider: k8s.Provider | None = None


class _Upstream:
    """The outputs of the stacks this one reads (`FleetStack.needs`), one StackReference each."""

    def __init__(self, base: str, stack: FleetStack) -> None:
        self._base = base
        self._allowed = set(stack.needs)
        self._refs: dict[str, pulumi.StackReference] = {}

    def output(self, stack: str, key: str) -> pulumi.Output[Any]:
        if stack not in self._allowed:  # the layout must list every read: it orders the deployment
            raise AssertionError(f"{stack!r} is not among the stacks this one reads: {sorted(self._allowed)}")
        if stack not in self._refs:
            qualified = f"{pulumi.get_organization()}/{pulumi.get_project()}/{self._base}.{stack}"
            self._refs[stack] = pulumi.StackReference(qualified)
        return self._refs[stack].require_output(key)


def build_fleet_stack(spec: MeshSpec, name: str, base: str) -> None:
    """Build fleet stack `name` of `spec`'s fleet (stacks named `<base>.<name>`) and export what later ones read."""
    layout = plan_fleet(spec)
    stack = layout.stack(name)
    builder = _Builder(spec, layout, stack, _Upstream(base, stack))
    _BUILD[stack.kind](builder)


class _Builder:
    def __init__(self, spec: MeshSpec, layout: FleetLayout, stack: FleetStack, upstream: _Upstream) -> None:
        self.spec, self.layout, self.stack, self.upstream = spec, layout, stack, upstream
        self.plan = layout.plan
        self.name = spec.mesh_id
        self.root = pulumi.ComponentResource("meshlib:index:MultiClusterMesh", spec.mesh_id)
        self.child = pulumi.ResourceOptions(parent=self.root)
        self.specs = {cluster.name: cluster for cluster in spec.clusters}
        self._stand_ins: dict[str, MeshCluster] = {}

    # -- reading earlier stacks --

    def cluster_facts(self, cluster: str) -> pulumi.Output[Any]:
        return self.upstream.output(f"cluster-{cluster}", "cluster")

    def network_of(self, cluster: ClusterSpec) -> AwsNetworkView | GcpNetworkView:
        exported = self.upstream.output(f"network-{cluster.network}", "network")
        if cluster.cloud == "aws":
            members = [c for c in self.spec.clusters if c.cloud == "aws" and c.network == cluster.network]
            return AwsNetworkView(exported, members)
        return GcpNetworkView(exported)

    def egress_of(self, cluster: ClusterSpec) -> pulumi.Output[list[str]] | None:
        """A cloud cluster's egress IPs from its network's stack; None when unknown (adopted VPC, existing)."""
        if cluster.cloud == "existing":
            return None
        network = self.network_of(cluster)
        if isinstance(network, AwsNetworkView):
            return network.egress_ips if network.egress_known else None
        return network.egress_ips_in(str(cluster.region))

    def stand_in(self, cluster: str) -> MeshCluster:
        """Cluster `cluster` with a Kubernetes provider of this stack's own (made once)."""
        if cluster not in self._stand_ins:
            self._stand_ins[cluster] = cluster_stand_in(
                f"{self.name}-{cluster}", self.specs[cluster], self.plan, self.cluster_facts(cluster), self.child
            )
        return self._stand_ins[cluster]

    def exposure(self, cluster: str) -> EastWestExposure:
        """Cluster `cluster`'s east-west addresses, from its stack (no provider needed)."""
        return east_west_of(self.specs[cluster], self.cluster_facts(cluster))

    # -- the units --

    def trust(self) -> None:
        trust = MeshTrust(
            f"{self.name}-trust",
            MeshTrustArgs(
                clusters=list(self.specs),
                protect=any(c.deletion_protection for c in self.spec.clusters if c.cloud != "existing"),
                **root_ca_pems(self.spec),
                cluster_cas=cluster_cas_of(self.spec),
            ),
            self.child,
        )
        pulumi.export("cacerts", pulumi.Output.secret({c: trust.cacerts(c) for c in self.specs}))
        pulumi.export("certificateExpiry", trust.expiry)

    def network(self) -> None:
        members = [c for c in self.spec.clusters if c.cloud in ("aws", "gcp") and c.network == self.stack.unit]
        only = self.spec.model_copy(update={"clusters": members})
        aws, gcp = MultiClusterMesh.networks(self.name, only, {}, self.child)
        network: AwsNetwork | GcpNetwork = next(iter(aws.values())) if aws else next(iter(gcp.values()))
        pulumi.export("network", network_export(network, members))

    def cluster(self) -> None:
        spec = self.specs[self.stack.unit]
        watchers = [self.specs[w] for w in self.plan.watchers_of(spec.name)]
        api_access = api_cidrs([str(c) for c in self.spec.admin_cidrs], [self.egress_of(w) for w in watchers])
        views = {str(spec.network): self.network_of(spec)} if spec.cloud in ("aws", "gcp") else {}
        aws = {k: v for k, v in views.items() if isinstance(v, AwsNetworkView)}
        gcp = {k: v for k, v in views.items() if isinstance(v, GcpNetworkView)}
        cluster = MultiClusterMesh.build_cluster(self.name, spec, self.plan, aws, gcp, api_access, self.child)
        pulumi.export("cluster", cluster_export(cluster))

    def istio(self) -> None:
        name, plan_c = self.stack.unit, self.plan.cluster(self.stack.unit)
        cluster = self.stand_in(name)
        cacerts = self.upstream.output("trust", "cacerts")
        primary = None if plan_c.is_primary else self.exposure(plan_c.config_cluster)
        control_plane = IstioControlPlane(
            f"{self.name}-{name}-istio",
            IstioControlPlaneArgs(
                spec=self.spec,
                plan=plan_c,
                cluster=cluster,
                cacerts={key: cacerts.apply(pick(name, key)) for key in _CACERTS_KEYS},
                primary_address=primary.address if primary else None,
                primary_address_is_hostname=bool(primary and primary.is_hostname),
            ),
            self.child,
        )
        tokens: dict[str, pulumi.Output[str]] = {}
        watchers = self.plan.watchers_of(name)
        if watchers:
            reader = RemoteReader(
                f"{self.name}-{name}-reader",
                RemoteReaderArgs(
                    cluster=cluster,
                    plan=plan_c,
                    revisions=plan_revisions(self.spec),
                    depends_on=[control_plane.namespace],
                ),
                self.child,
            )
            for watcher in watchers:
                half = RemoteSecret(
                    f"{self.name}-{watcher}-watches-{name}",
                    RemoteSecretArgs(
                        watched=cluster,
                        watcher=_ApiServer(watcher, pulumi.Output.from_input(""), pulumi.Output.from_input("")),
                        reader_account_ready=reader.ready,
                        token_generation=self.spec.reader_token_generation,
                        make_secret=False,
                    ),
                    self.child,
                )
                assert half.token is not None
                tokens[watcher] = half.token
        pulumi.export("readerTokens", pulumi.Output.secret(tokens))
        if plan_c.is_primary:
            self._gateway_and_applications(plan_c, cluster, control_plane.istiods, control_plane)

    def wiring(self) -> None:
        name, plan_c = self.stack.unit, self.plan.cluster(self.stack.unit)
        cluster = self.stand_in(name)
        for watched in plan_c.watches:
            facts = self.cluster_facts(watched)
            RemoteSecret(
                f"{self.name}-{name}-watches-{watched}",
                RemoteSecretArgs(
                    watched=_ApiServer(
                        watched,
                        facts.apply(pick("endpoint")),
                        facts.apply(pick("certificateAuthority")),
                    ),
                    watcher=cluster,
                    token=self.upstream.output(f"istio-{watched}", "readerTokens").apply(pick(name)),
                    token_generation=self.spec.reader_token_generation,
                ),
                self.child,
            )
        if plan_c.imports:
            ServiceFederation(
                f"{self.name}-{name}-federation",
                ServiceFederationArgs(
                    plan=plan_c,
                    cluster=cluster,
                    exporters={i.exporter: self.exposure(i.exporter) for i in plan_c.imports},
                ),
                self.child,
            )
        rules = failover_rules(self.plan).get(name)
        if rules:
            ServiceFailover(
                f"{self.name}-{name}-failover", ServiceFailoverArgs(rules=rules, cluster=cluster), self.child
            )
        if not plan_c.is_primary:
            self._gateway_and_applications(plan_c, cluster, None, None)
        if self.spec.verify.enabled and any(s.cluster == name and s.responder and s.verify for s in self.spec.services):
            MeshVerification(
                f"{self.name}-verify",
                MeshVerificationArgs(
                    plan=self.plan, clusters={name: cluster}, prefix=self.name, checks_in=(), responders_in=(name,)
                ),
                self.child,
            )

    def verify(self) -> None:
        name = self.stack.unit
        exporters = {s.cluster for s in self.spec.services if name in s.consumers}
        clusters = {c: self.stand_in(c) for c in sorted({name, *exporters})}
        MeshVerification(
            f"{self.name}-verify",
            MeshVerificationArgs(
                plan=self.plan, clusters=clusters, prefix=self.name, checks_in=(name,), responders_in=()
            ),
            self.child,
        )

    def _gateway_and_applications(
        self,
        plan_c: ClusterPlan,
        cluster: MeshCluster,
        istiods: Mapping[str, pulumi.Resource] | None,
        control_plane: IstioControlPlane | None,
    ) -> None:
        """A cluster's east-west gateway and applications: in its `istio-` stack (primary) or `wiring-` (remote)."""
        name = plan_c.name
        needs = [istiods[plan_revisions(self.spec).gateway.name]] if istiods else []
        if plan_c.east_west_gateway:
            peers = [self.specs[p.name] for p in self.plan.clusters if p.name != name]
            egress_known = {p.name: self._egress_known(p) for p in peers}
            control_known = {c.name: False for c in self.spec.clusters}  # no cloud's API server egress is known
            ranges = None
            if self.spec.restrict_east_west_sources and (
                self.plan.gateway_peers(name, egress_known, control_known) is not None
            ):
                ranges = api_cidrs([], [self.egress_of(p) for p in peers])
            EastWestGateway(
                f"{self.name}-{name}-eastwest",
                EastWestGatewayArgs(
                    spec=self.spec,
                    plan=plan_c,
                    cluster=cluster,
                    source_ranges=ranges,
                    depends_on=needs,
                    config_depends_on=[control_plane.istiod] if control_plane else [],
                ),
                self.child,
            )
        if namespaces_of(self.spec, name) or self.specs[name].ingress_gateway:
            ClusterApplications(
                f"{self.name}-{name}-apps",
                ClusterApplicationsArgs(
                    plan=self.plan,
                    cluster_name=name,
                    cluster=cluster,
                    tags=control_plane.tags if control_plane else {},
                    default_injector=control_plane.istiod if control_plane else None,
                    gateway_depends_on=needs,
                ),
                self.child,
            )

    def _egress_known(self, cluster: ClusterSpec) -> bool:
        return cluster.cloud == "gcp" or (
            cluster.cloud == "aws"
            and not any(c.vpc_id for c in self.spec.clusters if c.cloud == "aws" and c.network == cluster.network)
        )


_BUILD: dict[str, Callable[[_Builder], None]] = {
    "trust": _Builder.trust,
    "network": _Builder.network,
    "cluster": _Builder.cluster,
    "istio": _Builder.istio,
    "wiring": _Builder.wiring,
    "verify": _Builder.verify,
}
