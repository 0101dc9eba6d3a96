"""`MultiClusterMesh`: one Istio mesh across clusters, from a validated spec."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pydantic import TypeAdapter, ValidationError

from meshlib.components.applications import ClusterApplications, ClusterApplicationsArgs
from meshlib.components.aws import (
    AwsClusterInputs,
    AwsNetwork,
    AwsNetworkArgs,
    AwsNetworkLike,
    EksCluster,
    EksClusterArgs,
)
from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.control_plane import IstioControlPlane, IstioControlPlaneArgs
from meshlib.components.east_west import EastWestGateway, EastWestGatewayArgs
from meshlib.components.existing import ExistingCluster, ExistingClusterArgs
from meshlib.components.failover import ServiceFailover, ServiceFailoverArgs
from meshlib.components.federation import ServiceFederation, ServiceFederationArgs
from meshlib.components.gcp import GcpNetwork, GcpNetworkArgs, GcpNetworkLike, GkeCluster, GkeClusterArgs
from meshlib.components.reader import RemoteReader, RemoteReaderArgs
from meshlib.components.remote_secret import RemoteSecret, RemoteSecretArgs
from meshlib.components.trust import ClusterCa, MeshTrust, MeshTrustArgs
from meshlib.components.verify import MeshVerification, MeshVerificationArgs
from meshlib.plan.applications import namespaces_of
from meshlib.plan.capacity import capacity_warnings
from meshlib.plan.failover import failover_rules
from meshlib.plan.revisions import plan_revisions
from meshlib.plan.topology import ClusterPlan, MeshPlan, plan_mesh
from meshlib.spec.loader import NAMESPACE
from meshlib.spec.models import Cidr, ClusterSpec, MeshSpec
from meshlib.spec.problems import ConfigError, Problem, key_path
from meshlib.spec.rules import admin_warnings, deployer_access

__all__ = [
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "RootCa",
    "api_cidrs",
    "checked_admin_cidrs",
    "cluster_cas_of",
    "root_ca_pems",
]


@dataclass
class RootCa:
    """Your own root CA as PEMs, e.g. outputs of other resources or stacks."""

    certificate_pem: pulumi.Input[str]
    """The root certificate."""
    private_key_pem: pulumi.Input[str]
    """Its private key (kept secret)."""


@dataclass
class MultiClusterMeshArgs:
    """Inputs of `MultiClusterMesh`."""

    spec: MeshSpec
    """A validated spec (`meshlib.load_spec()` or `meshlib.parse_spec(...)`)."""
    clusters: Mapping[str, MeshCluster] = field(default_factory=dict)
    """Clusters you built yourself, by spec name; the mesh builds the others from the spec."""
    aws_inputs: Mapping[str, AwsClusterInputs] = field(default_factory=dict)
    """Per `aws` cluster name: VPC and subnet ids from other resources or stacks, in place of the spec's."""
    kubeconfigs: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Per `existing` cluster name: the kubeconfig's content, in place of its `kubeconfig.secret` config key."""
    admin_cidrs: pulumi.Input[Sequence[str]] | None = None
    """In place of `spec.admin_cidrs`, e.g. another stack's output: checked as the spec checks them once known
    (each an IPv4 network, not empty unless `pulumiInsideNetworks`), its warnings logged then."""
    root_ca: RootCa | None = None
    """In place of `spec.root_ca` (which names config keys): the root's PEMs themselves."""


class MultiClusterMesh(pulumi.ComponentResource):
    """Clusters, shared trust, control planes, east-west gateways, remote secrets, exported services.

    ```python
    spec = meshlib.load_spec()
    mesh = MultiClusterMesh(spec.mesh_id, MultiClusterMeshArgs(spec=spec))
    ```
    Every decision comes from `meshlib.plan.plan_mesh(spec)`; this component only wires it.
    """

    plan: MeshPlan
    clusters: dict[str, MeshCluster]
    trust: MeshTrust
    control_planes: dict[str, IstioControlPlane]
    gateways: dict[str, EastWestGateway]
    readers: dict[str, RemoteReader]
    remote_secrets: list[RemoteSecret]
    federations: dict[str, ServiceFederation]
    applications: dict[str, ClusterApplications]

    def __init__(self, name: str, args: MultiClusterMeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = args.spec
        built = set(args.clusters)
        # Refused before anything registers: a first `up` would otherwise build clusters for
        # 15-20 minutes and then fail at the first Helm release it cannot reach.
        pending = _pending(args.admin_cidrs)
        admin: pulumi.Input[Sequence[str]] = [str(cidr) for cidr in spec.admin_cidrs]
        admin_warned: list[str] = []  # with a pending value: logged once known, by the apply below
        if args.admin_cidrs is None:
            unreachable = deployer_access(spec, built=built)
            if unreachable:
                raise ConfigError(unreachable)
            admin_warned = admin_warnings(spec)
        elif pending is None:
            admin, admin_warned = checked_admin_cidrs(spec, args.admin_cidrs, built)
        super().__init__("meshlib:index:MultiClusterMesh", name, None, opts)
        if pending is not None:
            admin = pending.apply(lambda known: self._admin_when_known(spec, known, built))
        self.plan = plan = plan_mesh(spec)
        child = pulumi.ResourceOptions(parent=self)
        for warning in [*admin_warned, *capacity_warnings(spec, plan, built=built)]:
            pulumi.log.warn(warning, self)

        aws_networks, gcp_networks = self.networks(name, spec, args.clusters, child, args.aws_inputs)
        egress = {
            cluster.name: self._egress_of(cluster, args.clusters, aws_networks, gcp_networks)
            for cluster in spec.clusters
        }

        self.clusters = {}
        for cluster in spec.clusters:
            if cluster.name in args.clusters:
                self.clusters[cluster.name] = args.clusters[cluster.name]
                continue
            watchers = plan.watchers_of(cluster.name)
            unknown = [watcher for watcher in watchers if egress[watcher] is None]
            if unknown and cluster.cloud != "existing":
                pulumi.log.warn(
                    f"the egress IPs of {', '.join(unknown)} are unknown: add them to mesh:adminCidrs, or "
                    f"their istiod cannot reach the API server of {cluster.name!r}"
                )
            api_access = api_cidrs(admin, [egress[w] for w in watchers])
            self.clusters[cluster.name] = self.build_cluster(
                name, cluster, plan, aws_networks, gcp_networks, api_access, child, args.kubeconfigs.get(cluster.name)
            )

        self.trust = MeshTrust(
            f"{name}-trust",
            MeshTrustArgs(
                clusters=list(self.clusters),
                protect=any(c.deletion_protection for c in spec.clusters if c.cloud != "existing"),
                **root_ca_pems(spec, args.root_ca),
                cluster_cas=cluster_cas_of(spec),
            ),
            child,
        )

        self.control_planes = {}
        for cluster_plan in sorted(plan.clusters, key=lambda c: not c.is_primary):  # primaries first
            primary = None if cluster_plan.is_primary else plan.cluster(cluster_plan.config_cluster)
            primary_exposure = self.clusters[primary.name].east_west if primary else None
            self.control_planes[cluster_plan.name] = IstioControlPlane(
                f"{name}-{cluster_plan.name}-istio",
                IstioControlPlaneArgs(
                    spec=spec,
                    plan=cluster_plan,
                    cluster=self.clusters[cluster_plan.name],
                    cacerts=self.trust.cacerts(cluster_plan.name),
                    primary_address=primary_exposure.address if primary_exposure else None,
                    primary_address_is_hostname=bool(primary_exposure and primary_exposure.is_hostname),
                ),
                child,
            )

        self.readers = {
            watched.name: RemoteReader(
                f"{name}-{watched.name}-reader",
                RemoteReaderArgs(
                    cluster=self.clusters[watched.name],
                    plan=watched,
                    revisions=plan_revisions(spec),
                    depends_on=[self.control_planes[watched.name].namespace],
                ),
                child,
            )
            for watched in plan.clusters
            if plan.watchers_of(watched.name)
        }
        self.remote_secrets = [
            RemoteSecret(
                f"{name}-{cluster_plan.name}-watches-{watched}",
                RemoteSecretArgs(
                    watched=self.clusters[watched],
                    watcher=self.clusters[cluster_plan.name],
                    reader_account_ready=self.readers[watched].ready,
                    watcher_ready=[self.control_planes[cluster_plan.name].namespace],
                    token_generation=spec.reader_token_generation,
                ),
                child,
            )
            for cluster_plan in plan.clusters
            for watched in cluster_plan.watches
        ]

        self.gateways = {}
        egress_known = {n: c.egress_known for n, c in self.clusters.items()}
        control_plane_known = {n: c.control_plane_egress_known for n, c in self.clusters.items()}
        gateway_revision = plan_revisions(spec).gateway.name

        def gateway_needs(cluster_plan: ClusterPlan) -> list[pulumi.Resource]:
            """What a gateway's pods need first: the webhook and istiod of the revision that injects them."""
            injector = self.control_planes[cluster_plan.config_cluster].istiods[gateway_revision]
            needs: list[pulumi.Resource] = list(
                dict.fromkeys([self.control_planes[cluster_plan.name].istiods[gateway_revision], injector])
            )
            if not cluster_plan.is_primary:
                # A remote's webhook calls its primary's istiod, through the primary's gateway, and
                # istiod serves the remote's proxies once it watches the remote.
                needs.append(self.gateways[cluster_plan.config_cluster])
                needs += [s for s in self.remote_secrets if s.watched == cluster_plan.name]  # one per watcher
            return needs

        for cluster_plan in sorted(plan.clusters, key=lambda c: not c.is_primary):
            if not cluster_plan.east_west_gateway:
                continue
            own_istiod = self.control_planes[cluster_plan.config_cluster].istiod
            needs = gateway_needs(cluster_plan)
            source_ranges = None
            peers = plan.gateway_peers(cluster_plan.name, egress_known, control_plane_known)
            if spec.restrict_east_west_sources and peers is not None:
                source_ranges = api_cidrs([], [egress[peer] for peer in peers])
            exposure = plan.gateway_exposure(
                cluster_plan.name, egress_known, control_plane_known, spec.restrict_east_west_sources
            )
            if exposure:
                pulumi.log.warn(exposure)
            self.gateways[cluster_plan.name] = EastWestGateway(
                f"{name}-{cluster_plan.name}-eastwest",
                EastWestGatewayArgs(
                    spec=spec,
                    plan=cluster_plan,
                    cluster=self.clusters[cluster_plan.name],
                    source_ranges=source_ranges,
                    depends_on=needs,
                    config_depends_on=[own_istiod],
                ),
                child,
            )

        specs = {cluster.name: cluster for cluster in spec.clusters}
        self.applications = {
            cluster_plan.name: ClusterApplications(
                f"{name}-{cluster_plan.name}-apps",
                ClusterApplicationsArgs(
                    plan=plan,
                    cluster_name=cluster_plan.name,
                    cluster=self.clusters[cluster_plan.name],
                    tags=self.control_planes[cluster_plan.name].tags,
                    default_injector=self.control_planes[cluster_plan.name].istiod,
                    gateway_depends_on=gateway_needs(cluster_plan),
                ),
                child,
            )
            for cluster_plan in plan.clusters
            if namespaces_of(spec, cluster_plan.name) or specs[cluster_plan.name].ingress_gateway
        }

        self.federations = {
            cluster_plan.name: ServiceFederation(
                f"{name}-{cluster_plan.name}-federation",
                ServiceFederationArgs(
                    plan=cluster_plan,
                    cluster=self.clusters[cluster_plan.name],
                    exporters={
                        imported.exporter: _exposure(self.clusters[imported.exporter])
                        for imported in cluster_plan.imports
                    },
                    depends_on=[self.control_planes[cluster_plan.name].istiod],
                ),
                child,
            )
            for cluster_plan in plan.clusters
            if cluster_plan.imports
        }
        self.failovers = {
            holder: ServiceFailover(
                f"{name}-{holder}-failover",
                ServiceFailoverArgs(
                    rules=rules,
                    cluster=self.clusters[holder],
                    depends_on=[self.control_planes[holder].istiod],
                ),
                child,
            )
            for holder, rules in failover_rules(plan).items()
        }
        # Last: the checks `pulumi up` awaits, each after what it verifies (docs/verify.md).
        self.verification = (
            MeshVerification(
                f"{name}-verify",
                MeshVerificationArgs(
                    plan=plan,
                    clusters=self.clusters,
                    prefix=name,
                    istiods={n: cp.istiod for n, cp in self.control_planes.items()},
                    gateways=self.gateways,
                    remote_secrets={(s.watcher, s.watched): s for s in self.remote_secrets},
                    federations=self.federations,
                    applications=self.applications,
                    control_namespaces={n: cp.namespace for n, cp in self.control_planes.items()},
                ),
                child,
            )
            if spec.verify.enabled
            else None
        )
        self.register_outputs({"clusters": self.cluster_outputs(), "summary": self.summary()})

    def _admin_when_known(self, spec: MeshSpec, cidrs: object, built: Collection[str]) -> list[str]:
        """`cidrs` checked once known; their warnings logged on this mesh."""
        checked, warnings = checked_admin_cidrs(spec, cidrs, built)
        for warning in warnings:
            pulumi.log.warn(warning, self)
        return checked

    def cluster_outputs(self) -> dict[str, dict[str, object]]:
        """Per cluster: cloud, network, role, API endpoint, east-west address, Istio revisions (and the stable one).

        Kubeconfigs are left out: they are secret, and a secret inside makes the whole output secret.
        """
        revisions = plan_revisions(self.plan.spec)
        return {
            cluster_plan.name: {
                "cloud": cluster_plan.cloud,
                "network": cluster_plan.network,
                "role": cluster_plan.role,
                "endpoint": self.clusters[cluster_plan.name].endpoint,
                "eastWestAddress": (
                    self.clusters[cluster_plan.name].east_west.address  # type: ignore[union-attr]
                    if cluster_plan.east_west_gateway
                    else None
                ),
                "istioRevision": revisions.stable.name,
                "istioRevisions": [revision.name for revision in revisions.revisions],
            }
            for cluster_plan in self.plan.clusters
        }

    def summary(self) -> dict[str, object]:
        """What the mesh is made of, for humans reading stack outputs."""
        plan = self.plan
        revisions = plan_revisions(plan.spec)
        return {
            "meshId": plan.spec.mesh_id,
            "mode": plan.spec.mode,
            "istioVersion": revisions.stable.version,
            "istioRevisions": {revision.name: revision.version for revision in revisions.revisions},
            "revisionTags": dict(revisions.tags),
            "gatewayRevision": revisions.gateway.name,
            "networks": list(plan.networks),
            "primaries": [c.name for c in plan.clusters if c.is_primary],
            "remotes": [c.name for c in plan.clusters if not c.is_primary],
            "eastWestGateways": [c.name for c in plan.clusters if c.east_west_gateway],
            "remoteSecrets": plan.remote_secret_count,
            "exportedServices": [
                f"{imported.host} -> {cluster.name}" for cluster in plan.clusters for imported in cluster.imports
            ],
        }

    @staticmethod
    def networks(
        name: str,
        spec: MeshSpec,
        prebuilt: Mapping[str, MeshCluster],
        opts: pulumi.ResourceOptions,
        inputs: Mapping[str, AwsClusterInputs] | None = None,
    ) -> tuple[dict[str, AwsNetwork], dict[str, GcpNetwork]]:
        """One VPC per Istio network and cloud, shared by the clusters the mesh builds on it."""
        grouped: dict[tuple[str, str], list[ClusterSpec]] = {}
        for cluster in spec.clusters:
            if cluster.name not in prebuilt and cluster.cloud in ("aws", "gcp"):
                grouped.setdefault((cluster.cloud, str(cluster.network)), []).append(cluster)
        prefix = str(spec.name_prefix)
        aws = {
            network: AwsNetwork(
                f"{name}-{network}",
                AwsNetworkArgs(
                    network=network,
                    region=str(members[0].region),
                    clusters=members,
                    vpc_cidr=_network_block(spec, network),
                    name_prefix=prefix,
                    protect=any(member.deletion_protection for member in members),
                    inputs={m.name: (inputs or {})[m.name] for m in members if m.name in (inputs or {})},
                ),
                opts,
            )
            for (cloud, network), members in grouped.items()
            if cloud == "aws"
        }
        gcp = {
            network: GcpNetwork(
                f"{name}-{network}",
                GcpNetworkArgs(
                    network=network,
                    project=str(members[0].project),
                    clusters=members,
                    name_prefix=prefix,
                    protect=any(member.deletion_protection for member in members),
                ),
                opts,
            )
            for (cloud, network), members in grouped.items()
            if cloud == "gcp"
        }
        return aws, gcp

    @staticmethod
    def _egress_of(
        cluster: ClusterSpec,
        prebuilt: Mapping[str, MeshCluster],
        aws: Mapping[str, AwsNetworkLike],
        gcp: Mapping[str, GcpNetwork],
    ) -> pulumi.Output[list[str]] | None:
        """The public IPs a cluster's istiod calls out from, or None when unknown."""
        if cluster.name in prebuilt:
            handle = prebuilt[cluster.name]
            return handle.egress_ips if handle.egress_known else None
        if cluster.cloud == "aws":
            network = aws[str(cluster.network)]
            return network.egress_ips if network.egress_known else None
        if cluster.cloud == "gcp":
            return gcp[str(cluster.network)].egress_ips
        return None

    @staticmethod
    def build_cluster(
        name: str,
        cluster: ClusterSpec,
        plan: MeshPlan,
        aws: Mapping[str, AwsNetworkLike],
        gcp: Mapping[str, GcpNetworkLike],
        api_access: pulumi.Output[list[str]],
        opts: pulumi.ResourceOptions,
        kubeconfig: pulumi.Input[str] | None = None,
    ) -> MeshCluster:
        """The cluster component `cluster`'s cloud calls for, on its network (`networks`), named `<name>-<cluster>`."""
        gateway = plan.cluster(cluster.name).east_west_gateway
        resource_name = f"{name}-{cluster.name}"
        if cluster.cloud == "aws":
            return EksCluster(
                resource_name,
                EksClusterArgs(
                    spec=cluster,
                    network=aws[str(cluster.network)],
                    east_west_gateway=gateway,
                    api_access_cidrs=api_access,
                    name_prefix=str(plan.spec.name_prefix),
                    admins=plan.spec.eks_admins,
                ),
                opts,
            )
        if cluster.cloud == "gcp":
            return GkeCluster(
                resource_name,
                GkeClusterArgs(
                    spec=cluster,
                    network=gcp[str(cluster.network)],
                    east_west_gateway=gateway,
                    api_access_cidrs=api_access,
                    name_prefix=str(plan.spec.name_prefix),
                ),
                opts,
            )
        return ExistingCluster(resource_name, ExistingClusterArgs(spec=cluster, kubeconfig=kubeconfig), opts)


def _exposure(cluster: MeshCluster) -> EastWestExposure:
    if cluster.east_west is None:
        raise pulumi.RunError(f"cluster {cluster.cluster_name!r} exports a service but has no east-west address")
    return cluster.east_west


def api_cidrs(
    admin: pulumi.Input[Sequence[str]], egress: Sequence[pulumi.Output[list[str]] | None]
) -> pulumi.Output[list[str]]:
    """`admin` CIDRs plus the given egress IPs as /32s, sorted and unique."""
    known = [ips for ips in egress if ips is not None]
    return pulumi.Output.all(pulumi.Output.from_input(admin), *known).apply(
        lambda lists: sorted({*lists[0], *(f"{ip}/32" for ips in lists[1:] for ip in ips)})
    )


def _pending(cidrs: pulumi.Input[Sequence[str]] | None) -> pulumi.Output[Sequence[str]] | None:
    """`cidrs` as one Output when some of it is not a plain value yet, else None."""
    if cidrs is None:
        return None
    if isinstance(cidrs, (list, tuple)) and not any(isinstance(c, pulumi.Output) for c in cidrs):
        return None
    return pulumi.Output.from_input(cidrs)


_ADMIN_CIDRS: TypeAdapter[list[Cidr]] = TypeAdapter(list[Cidr])


def checked_admin_cidrs(spec: MeshSpec, cidrs: object, built: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """Admin CIDRs given apart from `spec` (once known), checked as the spec checks its own; and their warnings.

    Raises `ConfigError` keyed `mesh:adminCidrs[<i>]` for an item that is not an IPv4 network, and the
    spec's deployer-access problem for an empty list the mesh cannot do without.
    """
    try:
        networks = _ADMIN_CIDRS.validate_python(cidrs)
    except ValidationError as error:
        raise ConfigError(
            sorted(
                Problem(key_path(("adminCidrs", *item["loc"])), item["msg"].removeprefix("Value error, "))
                for item in error.errors(include_url=False)
            )
        ) from None
    known = spec.model_copy(update={"admin_cidrs": networks})
    unreachable = deployer_access(known, built=built)
    if unreachable:
        raise ConfigError(unreachable)
    return [str(network) for network in networks], admin_warnings(known)


def _network_block(spec: MeshSpec, network: str) -> str | None:
    settings = spec.networks.get(network)
    return str(settings.vpc_cidr) if settings is not None and settings.vpc_cidr is not None else None


def root_ca_pems(spec: MeshSpec, given: RootCa | None = None) -> dict[str, pulumi.Input[str]]:
    """The root's PEMs: `given` ones first, else those the config keys `spec.root_ca` names; the key secret."""
    if given is not None:
        return {
            "root_certificate_pem": given.certificate_pem,
            "root_private_key_pem": pulumi.Output.secret(given.private_key_pem),
        }
    if spec.root_ca is None:
        return {}
    config = pulumi.Config(NAMESPACE)
    return {
        "root_certificate_pem": config.require(spec.root_ca.certificate),
        "root_private_key_pem": config.require_secret(spec.root_ca.private_key),
    }


def cluster_cas_of(spec: MeshSpec) -> dict[str, ClusterCa] | None:
    """The CAs your PKI issued the clusters (`mesh:clusterCas`), read from config; the keys as secrets."""
    if spec.cluster_cas is None:
        return None
    config = pulumi.Config(NAMESPACE)
    return {
        cluster: ClusterCa(
            certificate_pem=config.require(ca.certificate),
            private_key_pem=config.require_secret(ca.private_key),
            root_certificate_pem=config.require(ca.root),
            chain_pem=config.require(ca.chain) if ca.chain is not None else None,
        )
        for cluster, ca in spec.cluster_cas.items()
    }
