"""GKE clusters for the mesh: one VPC per Istio network (`GcpNetwork`) and private clusters on it (`GkeCluster`).

Every GCP resource gets an explicit, deterministic name (`meshlib.spec.names`), unique per stack
and mesh, so that a second `pulumi preview` shows no changes and two stacks share a project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from meshlib.components.cluster import EastWestExposure, MeshCluster, child_opts
from meshlib.plan.credentials import exec_kubeconfig
from meshlib.spec.models import ClusterSpec
from meshlib.spec.names import GcpNetworkNames, GkeNames, too_long
from meshlib.spec.rules import network_of

__all__ = [
    "DEFAULT_MACHINE_TYPE",
    "IMPERSONATION_VARIABLE",
    "MESH_PORTS",
    "NAT_ADDRESSES_PER_REGION",
    "NODE_ROLES",
    "POD_RANGE",
    "SERVICE_RANGE",
    "GcpNetwork",
    "GcpNetworkArgs",
    "GkeCluster",
    "GkeClusterArgs",
]

POD_RANGE = "pods"
"""Name of every mesh subnetwork's secondary range for pods."""
SERVICE_RANGE = "services"
"""Name of every mesh subnetwork's secondary range for Kubernetes Services."""
DEFAULT_MACHINE_TYPE = "e2-standard-4"
MESH_PORTS = ("15012", "15017", "15021", "15443")
"""Istio ports the GKE control plane must reach on the nodes: xDS/CA, webhooks, health, mTLS."""
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
"""Project roles of the node service account: what GKE's least-privilege node SA needs, and image pulls."""
NAT_ADDRESSES_PER_REGION = 2
IMPERSONATION_VARIABLE = "CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT"
_CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def _role_suffix(role: str) -> str:
    return role.removeprefix("roles/").replace(".", "-").lower()


@dataclass(frozen=True)
class _GcpCluster:
    """The fields of a `cloud: gcp` ClusterSpec that must be set, checked once."""

    name: str
    project: str
    region: str
    node_cidr: str
    pod_cidr: str
    service_cidr: str
    master_cidr: str


def _gcp_fields(spec: ClusterSpec) -> _GcpCluster:
    if spec.cloud != "gcp":
        raise pulumi.RunError(f"cluster {spec.name!r} is a `{spec.cloud}` cluster, not `gcp`")
    missing = [
        key
        for key, value in (
            ("project", spec.project),
            ("region", spec.region),
            ("nodeCidr", spec.node_cidr),
            ("podCidr", spec.pod_cidr),
            ("serviceCidr", spec.service_cidr),
            ("masterCidr", spec.master_cidr),
        )
        if value is None
    ]
    if missing:
        raise pulumi.RunError(
            f"GKE cluster {spec.name!r} lacks {', '.join(missing)}: load the spec with "
            "meshlib.spec (it fills default CIDRs) or set them"
        )
    assert spec.project and spec.region and spec.node_cidr and spec.pod_cidr
    assert spec.service_cidr and spec.master_cidr
    return _GcpCluster(
        name=spec.name,
        project=spec.project,
        region=spec.region,
        node_cidr=str(spec.node_cidr),
        pod_cidr=str(spec.pod_cidr),
        service_cidr=str(spec.service_cidr),
        master_cidr=str(spec.master_cidr),
    )


@dataclass
class GcpNetworkArgs:
    """Inputs of `GcpNetwork`."""

    network: str
    """The Istio network this VPC carries."""
    project: str
    clusters: Sequence[ClusterSpec]
    """The `gcp` clusters of that network (one subnetwork each; any regions)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the resources that take them (addresses)."""
    name_prefix: str = ""
    """Starts every GCP name (`meshlib.spec.names.GcpNetworkNames`): unique per stack and mesh."""
    protect: bool = False
    """Pulumi `protect` on the VPC network and the NAT addresses."""


class GcpNetwork(pulumi.ComponentResource):
    """One VPC for one Istio network: a subnetwork per cluster, Cloud NAT on static IPs per region.

    Pods and nodes of all its clusters reach each other (one Istio network needs pod-to-pod routing).
    """

    network_id: pulumi.Output[str]
    self_link: pulumi.Output[str]
    egress_ips: pulumi.Output[list[str]]
    """The Cloud NAT addresses of every region, ordered by region."""
    egress_known: bool = True
    """Node egress goes only through the static NAT addresses above."""
    regions: tuple[str, ...]

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:GcpNetwork", name, None, opts)
        clusters = sorted((_gcp_fields(spec) for spec in args.clusters), key=lambda cluster: cluster.name)
        self._check(args, clusters)
        labels = dict(args.labels)
        self.regions = tuple(sorted({cluster.region for cluster in clusters}))
        names = GcpNetworkNames.of(args.name_prefix, args.network, self.regions)

        self.vpc = gcp.compute.Network(
            f"{name}-vpc",
            name=names.vpc,
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description=f"Istio network {args.network}",
            opts=child_opts(self, protect=args.protect),
        )
        self.network_id = self.vpc.id
        self.self_link = self.vpc.self_link

        self._subnetworks: dict[str, gcp.compute.Subnetwork] = {}
        for cluster in clusters:
            self._subnetworks[cluster.name] = gcp.compute.Subnetwork(
                f"{name}-{cluster.name}-subnet",
                name=GkeNames.of(args.name_prefix, cluster.name).subnetwork,
                project=args.project,
                region=cluster.region,
                network=self.vpc.self_link,
                ip_cidr_range=cluster.node_cidr,
                secondary_ip_ranges=[
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=POD_RANGE, ip_cidr_range=cluster.pod_cidr),
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(
                        range_name=SERVICE_RANGE, ip_cidr_range=cluster.service_cidr
                    ),
                ],
                private_ip_google_access=True,
                description=f"Nodes, pods and services of cluster {cluster.name}",
                opts=child_opts(self),
            )

        self._routers: dict[str, gcp.compute.Router] = {}
        self._nats: dict[str, gcp.compute.RouterNat] = {}
        self._nat_addresses: dict[str, list[gcp.compute.Address]] = {}
        for region in self.regions:
            router = gcp.compute.Router(
                f"{name}-{region}-router",
                name=names.router(region),
                project=args.project,
                region=region,
                network=self.vpc.self_link,
                opts=child_opts(self),
            )
            addresses = [
                gcp.compute.Address(
                    f"{name}-{region}-nat-{index}",
                    name=names.nat_address(region, index),
                    project=args.project,
                    region=region,
                    address_type="EXTERNAL",
                    network_tier="PREMIUM",
                    labels=labels or None,
                    description=f"Cloud NAT egress of Istio network {args.network} in {region}",
                    opts=child_opts(self, protect=args.protect),
                )
                for index in range(NAT_ADDRESSES_PER_REGION)
            ]
            self._routers[region] = router
            self._nat_addresses[region] = addresses
            self._nats[region] = gcp.compute.RouterNat(
                f"{name}-{region}-nat",
                name=names.nat(region),
                project=args.project,
                region=region,
                router=router.name,
                nat_ip_allocate_option="MANUAL_ONLY",
                nat_ips=[address.self_link for address in addresses],
                source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
                subnetworks=[
                    gcp.compute.RouterNatSubnetworkArgs(
                        name=self._subnetworks[cluster.name].self_link,
                        source_ip_ranges_to_nats=["ALL_IP_RANGES"],
                    )
                    for cluster in clusters
                    if cluster.region == region
                ],
                opts=child_opts(self),
            )

        self.internal_ranges = sorted(
            {cidr for cluster in clusters for cidr in (cluster.node_cidr, cluster.pod_cidr)}, key=_cidr_key
        )
        """Node and pod CIDRs of every cluster: the sources admitted by the internal firewall rule."""
        self.internal_firewall = gcp.compute.Firewall(
            f"{name}-internal",
            name=names.internal_firewall,
            project=args.project,
            network=self.vpc.self_link,
            direction="INGRESS",
            source_ranges=self.internal_ranges,
            allows=[gcp.compute.FirewallAllowArgs(protocol="all")],
            description=f"Nodes and pods of Istio network {args.network} reach each other",
            opts=child_opts(self),
        )

        self.egress_ips = self._addresses_of(self.regions)
        self.register_outputs({"networkId": self.network_id, "selfLink": self.self_link, "egressIps": self.egress_ips})

    @staticmethod
    def _check(args: GcpNetworkArgs, clusters: Sequence[_GcpCluster]) -> None:
        problems = []
        if not clusters:
            problems.append("it has no clusters")
        names = [cluster.name for cluster in clusters]
        problems += [f"cluster {n!r} is listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
        problems += [
            f"cluster {cluster.name!r} is in project {cluster.project!r}, not {args.project!r}"
            for cluster in clusters
            if cluster.project != args.project
        ]
        problems += [
            f"cluster {spec.name!r} is on network {network_of(spec)!r}"
            for spec in args.clusters
            if network_of(spec) != args.network
        ]
        if problems:
            raise pulumi.RunError(f"GcpNetwork for network {args.network!r}: " + "; ".join(problems))

    def _addresses_of(self, regions: Sequence[str]) -> pulumi.Output[list[str]]:
        addresses = [address.address for region in regions for address in self._nat_addresses[region]]
        return pulumi.Output.all(*addresses).apply(lambda found: [str(address) for address in found])

    def subnetwork(self, cluster_name: str) -> gcp.compute.Subnetwork:
        """The subnetwork of `cluster_name`; its secondary ranges are `POD_RANGE` and `SERVICE_RANGE`."""
        try:
            return self._subnetworks[cluster_name]
        except KeyError:
            raise pulumi.RunError(
                f"cluster {cluster_name!r} has no subnetwork in this GcpNetwork (it has: "
                f"{', '.join(self._subnetworks)}); pass it in GcpNetworkArgs.clusters"
            ) from None

    def router(self, region: str) -> gcp.compute.Router:
        """The Cloud Router of `region`."""
        return self._routers[region]

    def nat(self, region: str) -> gcp.compute.RouterNat:
        """The Cloud NAT of `region`."""
        return self._nats[region]

    def egress_path(self, region: str) -> list[pulumi.Resource]:
        """What nodes in `region` reach the internet through (the Cloud NAT): Kubernetes resources follow it."""
        return [self._nats[region]]

    def egress_ips_in(self, region: str) -> pulumi.Output[list[str]]:
        """The Cloud NAT addresses nodes in `region` reach the internet from."""
        return self._addresses_of([region])


def _cidr_key(cidr: str) -> tuple[int, ...]:
    address, _, prefix = cidr.partition("/")
    return (*(int(octet) for octet in address.split(".")), int(prefix or 32))


class GcpSubnetworkLike(Protocol):
    """What a GKE cluster uses of its subnetwork."""

    @property
    def self_link(self) -> pulumi.Output[str]: ...


class GcpNetworkLike(Protocol):
    """What `GkeCluster` uses of its network: a `GcpNetwork`, or a fleet stack's view of one."""

    @property
    def self_link(self) -> pulumi.Output[str]: ...

    @property
    def egress_known(self) -> bool: ...

    def subnetwork(self, cluster_name: str) -> GcpSubnetworkLike: ...

    def egress_path(self, region: str) -> list[pulumi.Resource]: ...

    def egress_ips_in(self, region: str) -> pulumi.Output[list[str]]: ...


@dataclass
class GkeClusterArgs:
    """Inputs of `GkeCluster`."""

    spec: ClusterSpec
    """A `cloud: gcp` cluster with its CIDRs filled (`meshlib.spec` does that)."""
    network: GcpNetworkLike | None = None
    """The VPC of the cluster's Istio network; None creates one for this cluster alone."""
    east_west_gateway: bool = True
    """Reserve the east-west gateway's regional address."""
    api_access_cidrs: pulumi.Input[Sequence[str]] = ()
    """Master authorized networks: admin CIDRs plus the /32 egress IPs of the istiods watching this cluster."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """GCP labels for the cluster, its nodes and its addresses."""
    name_prefix: str = ""
    """Starts every GCP name (`meshlib.spec.names.GkeNames`): unique per stack and mesh."""
    impersonate_service_account: str | None = None
    """Service account `gke-gcloud-auth-plugin` impersonates in the kubeconfig; default the stack's
    `gcp:impersonateServiceAccount` (what the GCP provider deploys as)."""


class GkeCluster(MeshCluster):
    """A private, VPC-native, Workload Identity GKE cluster with one autoscaled node pool.

    Nodes have no public IPs and leave through the network's Cloud NAT; the public API endpoint
    admits only `api_access_cidrs`; the control plane may reach the nodes on the Istio ports.
    """

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:GkeCluster", name, None, opts)
        spec = args.spec
        fields = _gcp_fields(spec)
        names = GkeNames.of(args.name_prefix, spec.name)
        problems = list(too_long(names))
        if problems:
            raise pulumi.RunError(f"GKE cluster {spec.name!r}: " + "; ".join(problems))
        labels = dict(args.labels)
        protect = spec.deletion_protection
        self.cluster_name = spec.name
        self.cloud = "gcp"
        self.network = network_of(spec)

        net: GcpNetworkLike
        if args.network is None:
            net = GcpNetwork(
                f"{name}-network",
                GcpNetworkArgs(
                    network=self.network,
                    project=fields.project,
                    clusters=[spec],
                    labels=labels,
                    name_prefix=args.name_prefix,
                    protect=protect,
                ),
                child_opts(self),
            )
        else:
            net = args.network
        self.gcp_network = net
        subnet = net.subnetwork(spec.name)

        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-node-sa",
            account_id=names.service_account,
            project=fields.project,
            display_name=f"GKE nodes of {spec.name}",
            opts=child_opts(self),
        )
        node_roles = [
            gcp.projects.IAMMember(
                f"{name}-node-sa-{_role_suffix(role)}",
                project=fields.project,
                role=role,
                member=self.node_service_account.member,
                opts=child_opts(self),
            )
            for role in NODE_ROLES
        ]

        self.api_access_cidrs: pulumi.Output[list[str]] = _access_cidrs(args.api_access_cidrs, spec.name)
        authorized = self.api_access_cidrs.apply(
            lambda cidrs: [
                gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(cidr_block=cidr, display_name=cidr)
                for cidr in cidrs
            ]
        )

        # The release channel always applies (GKE upgrades within it); a configured Kubernetes
        # version becomes the minimum master version, which must be offered by that channel.
        self.gke = gcp.container.Cluster(
            f"{name}-cluster",
            name=names.cluster,
            project=fields.project,
            location=fields.region,
            network=net.self_link,
            subnetwork=subnet.self_link,
            remove_default_node_pool=True,
            initial_node_count=1,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=POD_RANGE,
                services_secondary_range_name=SERVICE_RANGE,
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=spec.release_channel),
            min_master_version=spec.kubernetes_version,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{fields.project}.svc.id.goog"
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=False,
                master_ipv4_cidr_block=fields.master_cidr,
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=authorized,
                gcp_public_cidrs_access_enabled=False,
            ),
            deletion_protection=protect,
            resource_labels=labels or None,
            opts=child_opts(self, protect=protect),
        )

        self.node_tag = names.node_tag
        """The network tag on every node: what the control-plane firewall rule targets."""
        self.node_pool = gcp.container.NodePool(
            f"{name}-nodes",
            # Machine type and disk change in place (GKE rolls the nodes by surge upgrade): terraform-provider-google
            # >= 5.10 `node_config.go` updates machine_type/disk_size_gb/disk_type through UpdateNodePool.
            name="mesh-nodes",
            project=fields.project,
            location=fields.region,
            cluster=self.gke.name,
            initial_node_count=max(spec.nodes.min, 1),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=spec.nodes.min,
                max_node_count=spec.nodes.max,
                location_policy="BALANCED",
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=spec.nodes.instance_type or DEFAULT_MACHINE_TYPE,
                disk_size_gb=spec.nodes.disk_size_gb,
                disk_type="pd-balanced",
                service_account=self.node_service_account.email,
                oauth_scopes=[_CLOUD_PLATFORM],
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                tags=[self.node_tag],
                resource_labels=labels or None,
            ),
            # Raising `nodes.min` later must not replace the pool: the autoscaler follows the new minimum.
            opts=child_opts(self, depends_on=node_roles, ignore_changes=["initialNodeCount"]),
        )

        self.control_plane_firewall = gcp.compute.Firewall(
            f"{name}-control-plane",
            name=names.control_plane_firewall,
            project=fields.project,
            network=net.self_link,
            direction="INGRESS",
            source_ranges=[fields.master_cidr],
            target_tags=[self.node_tag],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=list(MESH_PORTS))],
            description=f"GKE control plane of {spec.name} reaches Istio webhooks and mesh ports on its nodes",
            opts=child_opts(self),
        )

        self.east_west_address: gcp.compute.Address | None = None
        self.east_west: EastWestExposure | None = None
        if args.east_west_gateway:
            internal = spec.east_west_internal
            self.east_west_address = gcp.compute.Address(
                f"{name}-east-west",
                name=names.east_west_address,
                project=fields.project,
                region=fields.region,
                address_type="INTERNAL" if internal else "EXTERNAL",
                subnetwork=subnet.self_link if internal else None,
                network_tier=None if internal else "PREMIUM",
                labels=labels or None,
                description=f"Istio east-west gateway of cluster {spec.name}",
                opts=child_opts(self, protect=protect),
            )
            address = self.east_west_address.address
            self.east_west = EastWestExposure(
                addresses=address.apply(lambda found: [found]),
                annotations=dict(load_balancer_annotations_of(internal)),
                load_balancer_ip=address,
            )

        self.endpoint = self.gke.endpoint.apply(lambda host: f"https://{host}")
        self.certificate_authority = self.gke.master_auth.apply(lambda auth: auth.cluster_ca_certificate or "")
        plugin_env = _impersonation(args)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.endpoint, self.certificate_authority).apply(
                lambda found: exec_kubeconfig(spec.name, found[0], found[1], "gke-gcloud-auth-plugin", [], plugin_env)
            )
        )
        # Through the node pool (and the NAT that pulls images), every Kubernetes resource waits for
        # nodes on create and is deleted before them on destroy.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=spec.name,
            # Secrets change in place (a renewed intermediate in `cacerts`, a rotated token) rather than being
            # deleted and re-created (pulumi-kubernetes `diff.go` replaces a Secret on any data change otherwise).
            enable_secret_mutable=True,
            opts=child_opts(self, depends_on=[self.node_pool, *net.egress_path(fields.region)]),
        )
        self.egress_ips = net.egress_ips_in(fields.region)
        self.egress_known = net.egress_known
        """Nodes leave only through the region's static NAT addresses (`egress_ips`)."""
        self.control_plane_egress_known = False
        self.register_outputs(self.mesh_outputs())

    def load_balancer_annotations(self, internal: bool) -> dict[str, str]:
        """GKE's own load balancer: external by default, or internal with global access."""
        return load_balancer_annotations_of(internal)


def _impersonation(args: GkeClusterArgs) -> dict[str, str]:
    """The auth plugin's environment: impersonate the service account the GCP provider deploys as.

    gke-gcloud-auth-plugin takes its credentials from gcloud, which reads this variable
    (gcloud's `auth/impersonate_service_account` property).
    """
    account = args.impersonate_service_account or pulumi.Config("gcp").get("impersonateServiceAccount")
    return {IMPERSONATION_VARIABLE: account} if account else {}


def load_balancer_annotations_of(internal: bool) -> dict[str, str]:
    if not internal:
        return {}
    # Global access: clusters of other regions (over VPN/Interconnect or peering) reach the gateway too.
    return {
        "networking.gke.io/load-balancer-type": "Internal",
        "networking.gke.io/internal-load-balancer-allow-global-access": "true",
    }


def _access_cidrs(cidrs: pulumi.Input[Sequence[str]], cluster: str) -> pulumi.Output[list[str]]:
    """The master authorized networks in the order given, without duplicates; warns when there are none."""

    def dedupe(found: Sequence[str]) -> list[str]:
        unique = list(dict.fromkeys(str(cidr) for cidr in found))
        if not unique:
            pulumi.log.warn(
                f"GKE cluster {cluster}: its API server admits only the egress IPs of the istiods that watch it, "
                "and none were given, so neither you nor Pulumi can reach it. Set `mesh:adminCidrs` to admit "
                "your and CI's addresses; 0.0.0.0/0 is never admitted by default."
            )
        return unique

    given: pulumi.Input[Sequence[str]] = list(cidrs) if isinstance(cidrs, (list, tuple)) else cidrs
    return pulumi.Output.from_input(given).apply(dedupe)
