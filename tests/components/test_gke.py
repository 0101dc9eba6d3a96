"""GcpNetwork and GkeCluster under the mock engine: what they register, and how."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pulumi
import pytest
import yaml

from meshlib.components.gcp import (
    MESH_PORTS,
    NODE_ROLES,
    GcpNetwork,
    GcpNetworkArgs,
    GkeCluster,
    GkeClusterArgs,
)
from meshlib.spec.models import ClusterSpec
from tests import fakes
from tests.fakes_gcp import FAKE_CA_PEM
from tests.mocks import Registered, Run, run_program

PROJECT = "mesh-project"
NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
ADDRESS = "gcp:compute/address:Address"
FIREWALL = "gcp:compute/firewall:Firewall"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
K8S_PROVIDER = "pulumi:providers:kubernetes"

# Clusters a, b, c with non-overlapping ranges, as meshlib.spec's defaults would fill them.
_RANGES = {
    "a": ("10.0.0.0/20", "10.1.0.0/16", "10.0.16.0/20", "10.0.32.0/28"),
    "b": ("10.2.0.0/20", "10.3.0.0/16", "10.2.16.0/20", "10.2.32.0/28"),
    "c": ("10.4.0.0/20", "10.5.0.0/16", "10.4.16.0/20", "10.4.32.0/28"),
}


def gcp_spec(name: str = "a", region: str = "us-central1", network: str | None = None, **extra: Any) -> ClusterSpec:
    node, pod, service, master = _RANGES[name]
    return ClusterSpec.model_validate(
        {
            "name": name,
            "cloud": "gcp",
            "project": PROJECT,
            "region": region,
            "network": network or name,
            "nodeCidr": node,
            "podCidr": pod,
            "serviceCidr": service,
            "masterCidr": master,
            **extra,
        }
    )


def run_cluster(
    spec: ClusterSpec | None = None, *, preview: bool = False, name: str = "gke", **args: Any
) -> tuple[Run, dict[str, GkeCluster]]:
    built: dict[str, GkeCluster] = {}
    args.setdefault("api_access_cidrs", ["198.51.100.0/24"])

    def build() -> None:
        cluster = GkeCluster(name, GkeClusterArgs(spec=spec or gcp_spec(), **args))
        built["cluster"] = cluster
        pulumi.export("endpoint", cluster.endpoint)
        pulumi.export("ca", cluster.certificate_authority)
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("egress", cluster.egress_ips)
        if cluster.east_west is not None:
            pulumi.export("eastWest", cluster.east_west.address)
            pulumi.export("loadBalancerIp", cluster.east_west.load_balancer_ip)

    return run_program(build, preview=preview), built


def of_type(run: Run, type_: str) -> list[Registered]:
    return [r for r in run.resources if r.type == type_]


def only(run: Run, type_: str) -> Registered:
    found = of_type(run, type_)
    assert len(found) == 1, f"{len(found)} {type_}"
    return found[0]


def state(resource: Registered) -> dict[str, Any]:
    """The resource's inputs plus the outputs the (fake) provider computed for it."""
    return {**resource.plain, **fakes.outputs(resource.type, resource.name, resource.plain)}


def assert_owned_by(run: Run, component: str) -> None:
    """Every other resource descends from `component` and carries its name as a prefix."""
    by_name = {r.name: r for r in run.resources}
    for resource in run.resources:
        if resource.name == component:
            continue
        assert resource.name.startswith(f"{component}-"), resource.name
        parent = resource.parent_name
        while parent and parent != component:
            parent = by_name[parent].parent_name
        assert parent == component, f"{resource.name} is not under {component}"


# -- ownership and naming ---------------------------------------------------------------------------


def test_every_child_is_parented_and_prefixed() -> None:
    run, _ = run_cluster()
    assert {r.type for r in run.resources} >= {
        "meshlib:index:GkeCluster",
        "meshlib:index:GcpNetwork",
        NETWORK,
        CLUSTER,
        NODE_POOL,
        K8S_PROVIDER,
    }
    assert_owned_by(run, "gke")


def test_gcp_names_are_explicit_valid_and_stable() -> None:
    run, _ = run_cluster()
    named = [r for r in run.resources if r.type.startswith("gcp:") and r.type != "gcp:projects/iAMMember:IAMMember"]
    for resource in named:
        key = "accountId" if resource.type == "gcp:serviceaccount/account:Account" else "name"
        value = resource.plain[key]
        assert value and value[0].isalpha() and len(value) <= 63, (resource.name, value)
    prefixed, _ = run_cluster(name_prefix="mesh1-prod")
    assert {r.plain["name"] for r in prefixed.resources if r.type == CLUSTER} == {"mesh1-prod-a"}
    assert {r.plain["accountId"] for r in prefixed.resources if r.type == "gcp:serviceaccount/account:Account"} == {
        "mesh1-prod-a"
    }


def test_a_name_over_a_gcp_limit_is_refused_not_cut() -> None:
    with pytest.raises(pulumi.RunError, match="GKE cluster name 'p{39}-a' has 41 characters, over the limit of 40"):
        run_cluster(name_prefix="p" * 39)


# -- Kubernetes provider ---------------------------------------------------------------------------


def test_provider_kubeconfig_is_exec_based_secret_and_waits_for_nodes() -> None:
    run, _ = run_cluster()
    provider = only(run, K8S_PROVIDER)
    assert provider.name == "gke-k8s"
    assert provider.is_secret("kubeconfig")
    text = provider.plain["kubeconfig"]
    assert "token:" not in text
    config = yaml.safe_load(text)
    (user,) = config["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    (cluster,) = config["clusters"]
    gke = only(run, CLUSTER)
    assert cluster["cluster"]["server"] == f"https://{state(gke)['endpoint']}"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode() == FAKE_CA_PEM
    assert provider.plain["clusterIdentifier"] == "a"
    pool = only(run, NODE_POOL)
    assert pool.urn in provider.dependencies
    assert only(run, NAT).urn in provider.dependencies
    assert "kubeconfig" in run.secret_outputs
    assert run.outputs["endpoint"] == cluster["cluster"]["server"]
    assert run.outputs["ca"] == cluster["cluster"]["certificate-authority-data"]


# -- firewall rules ---------------------------------------------------------------------------------


def test_firewall_rules_open_only_mesh_ports_to_the_control_plane_and_internal_ranges() -> None:
    run, _ = run_cluster()
    rules = {r.name: r.plain for r in of_type(run, FIREWALL)}
    assert set(rules) == {"gke-control-plane", "gke-network-internal"}
    for rule in rules.values():
        assert "0.0.0.0/0" not in rule.get("sourceRanges", [])
        assert rule["direction"] == "INGRESS"
    control_plane = rules["gke-control-plane"]
    assert control_plane["sourceRanges"] == ["10.0.32.0/28"]
    assert control_plane["allows"] == [{"protocol": "tcp", "ports": ["15012", "15017", "15021", "15443"]}]
    assert sorted(MESH_PORTS) == control_plane["allows"][0]["ports"]
    assert control_plane["targetTags"] == only(run, NODE_POOL).plain["nodeConfig"]["tags"]
    internal = rules["gke-network-internal"]
    assert internal["sourceRanges"] == ["10.0.0.0/20", "10.1.0.0/16"]
    assert internal["allows"] == [{"protocol": "all"}]


# -- API server access ----------------------------------------------------------------------------


def test_master_authorized_networks_are_exactly_what_was_passed() -> None:
    given = ["198.51.100.0/24", pulumi.Output.from_input("203.0.113.7/32")]
    run, built = run_cluster(api_access_cidrs=given)
    config = only(run, CLUSTER).plain["masterAuthorizedNetworksConfig"]
    assert [block["cidrBlock"] for block in config["cidrBlocks"]] == ["198.51.100.0/24", "203.0.113.7/32"]
    assert config["gcpPublicCidrsAccessEnabled"] is False
    assert not [warning for warning in run.warnings if "mesh:adminCidrs" in warning]


def test_output_access_list_is_accepted() -> None:
    run, _ = run_cluster(api_access_cidrs=pulumi.Output.from_input(["192.0.2.1/32", "192.0.2.1/32"]))
    blocks = only(run, CLUSTER).plain["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    assert [block["cidrBlock"] for block in blocks] == ["192.0.2.1/32"]


def test_empty_access_list_warns_once_and_opens_nothing() -> None:
    run, _ = run_cluster(api_access_cidrs=[])
    config = only(run, CLUSTER).plain["masterAuthorizedNetworksConfig"]
    assert config.get("cidrBlocks", []) == []
    warnings = [warning for warning in run.warnings if "mesh:adminCidrs" in warning]
    assert len(warnings) == 1
    assert "0.0.0.0/0" not in str(only(run, CLUSTER).plain)


def test_private_vpc_native_workload_identity_cluster() -> None:
    run, _ = run_cluster(gcp_spec(kubernetesVersion="1.33", releaseChannel="STABLE"))
    gke = only(run, CLUSTER).plain
    assert gke["name"] == "a"
    assert gke["location"] == "us-central1"
    assert gke["project"] == PROJECT
    assert gke["removeDefaultNodePool"] is True
    assert gke["initialNodeCount"] == 1
    assert gke["networkingMode"] == "VPC_NATIVE"
    assert gke["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
    assert gke["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert gke["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": False,
        "masterIpv4CidrBlock": "10.0.32.0/28",
    }
    assert gke["releaseChannel"] == {"channel": "STABLE"}
    assert gke["minMasterVersion"] == "1.33"
    subnet = state(only(run, SUBNETWORK))
    assert gke["network"] == state(only(run, NETWORK))["selfLink"]
    assert gke["subnetwork"] == subnet["selfLink"]


def test_no_kubernetes_version_means_the_channel_default() -> None:
    run, _ = run_cluster()
    gke = only(run, CLUSTER).plain
    assert "minMasterVersion" not in gke
    assert gke["releaseChannel"] == {"channel": "REGULAR"}


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_follows_config(protected: bool) -> None:
    run, _ = run_cluster(gcp_spec(deletionProtection=protected))
    assert only(run, CLUSTER).plain["deletionProtection"] is protected


# -- nodes ---------------------------------------------------------------------------------------


def test_node_pool_and_least_privilege_service_account() -> None:
    run, _ = run_cluster(gcp_spec(nodes={"min": 1, "max": 3, "diskSizeGb": 100}))
    pool = only(run, NODE_POOL)
    account = state(only(run, "gcp:serviceaccount/account:Account"))
    assert account["accountId"] == "a-nodes"
    config = pool.plain["nodeConfig"]
    assert pool.plain["autoscaling"]["minNodeCount"] == 1
    assert pool.plain["autoscaling"]["maxNodeCount"] == 3
    assert pool.plain["location"] == "us-central1"
    assert pool.plain["cluster"] == "a"
    assert config["machineType"] == "e2-standard-4"
    assert config["diskSizeGb"] == 100
    assert config["serviceAccount"] == account["email"]
    assert config["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    members = of_type(run, "gcp:projects/iAMMember:IAMMember")
    assert sorted(m.plain["role"] for m in members) == sorted(NODE_ROLES)
    assert {m.plain["member"] for m in members} == {f"serviceAccount:{account['email']}"}
    assert {m.urn for m in members} <= set(pool.dependencies)


def test_machine_type_from_spec() -> None:
    run, _ = run_cluster(gcp_spec(nodes={"instanceType": "n2-standard-8"}))
    assert only(run, NODE_POOL).plain["nodeConfig"]["machineType"] == "n2-standard-8"


# -- east-west address ----------------------------------------------------------------------------


def test_external_east_west_address_is_a_reserved_ip() -> None:
    run, built = run_cluster()
    address = state(run.mocks.named("gke-east-west"))
    assert address["addressType"] == "EXTERNAL"
    assert address["region"] == "us-central1"
    assert "subnetwork" not in address
    ipaddress.IPv4Address(run.outputs["eastWest"])
    assert run.outputs["eastWest"] == address["address"] == run.outputs["loadBalancerIp"]
    exposure = built["cluster"].east_west
    assert exposure is not None and exposure.annotations == {} and not exposure.is_hostname


def test_internal_east_west_address_lives_in_the_cluster_subnetwork() -> None:
    run, built = run_cluster(gcp_spec(eastWestInternal=True))
    address = state(run.mocks.named("gke-east-west"))
    assert address["addressType"] == "INTERNAL"
    assert address["subnetwork"] == state(only(run, SUBNETWORK))["selfLink"]
    assert ipaddress.IPv4Address(run.outputs["eastWest"]).is_private
    exposure = built["cluster"].east_west
    assert exposure is not None
    assert exposure.annotations["networking.gke.io/load-balancer-type"] == "Internal"


def test_no_east_west_gateway_no_address() -> None:
    run, built = run_cluster(east_west_gateway=False)
    assert [r.name for r in of_type(run, ADDRESS)] == ["gke-network-us-central1-nat-0", "gke-network-us-central1-nat-1"]
    assert built["cluster"].east_west is None
    assert "eastWest" not in run.outputs


# -- network --------------------------------------------------------------------------------------


def test_own_network_has_nat_on_two_static_addresses() -> None:
    run, built = run_cluster()
    network = only(run, NETWORK).plain
    assert network["autoCreateSubnetworks"] is False
    assert network["name"] == "a-vpc"
    subnet = state(only(run, SUBNETWORK))
    assert subnet["ipCidrRange"] == "10.0.0.0/20"
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": "10.1.0.0/16"},
        {"rangeName": "services", "ipCidrRange": "10.0.16.0/20"},
    ]
    assert subnet["privateIpGoogleAccess"] is True
    nat = only(run, NAT).plain
    nat_addresses = [state(r) for r in of_type(run, ADDRESS) if "-nat-" in r.name]
    assert len(nat_addresses) == 2
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat["natIps"] == [a["selfLink"] for a in nat_addresses]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [{"name": subnet["selfLink"], "sourceIpRangesToNats": ["ALL_IP_RANGES"]}]
    assert run.outputs["egress"] == [a["address"] for a in nat_addresses]
    assert built["cluster"].control_plane_egress_known is False
    assert built["cluster"].cloud == "gcp" and built["cluster"].network == "a"


def test_clusters_of_one_network_share_the_vpc_and_one_router_per_region() -> None:
    specs = [
        gcp_spec("a", network="shared"),
        gcp_spec("b", network="shared"),
        gcp_spec("c", region="europe-west1", network="shared"),
    ]

    def build() -> None:
        net = GcpNetwork("shared", GcpNetworkArgs(network="shared", project=PROJECT, clusters=specs))
        for spec in specs:
            GkeCluster(f"mesh-{spec.name}", GkeClusterArgs(spec=spec, network=net, api_access_cidrs=["192.0.2.0/24"]))
        pulumi.export("egress", net.egress_ips)

    run = run_program(build)
    network = only(run, NETWORK)
    assert network.plain["name"] == "shared-vpc"
    assert len(of_type(run, "meshlib:index:GcpNetwork")) == 1
    assert {r.plain["network"] for r in of_type(run, CLUSTER)} == {state(network)["selfLink"]}
    routers = of_type(run, ROUTER)
    assert sorted(r.plain["region"] for r in routers) == ["europe-west1", "us-central1"]
    nats = {r.plain["region"]: r.plain for r in of_type(run, NAT)}
    subnets = {r.name: state(r)["selfLink"] for r in of_type(run, SUBNETWORK)}
    assert [s["name"] for s in nats["us-central1"]["subnetworks"]] == [
        subnets["shared-a-subnet"],
        subnets["shared-b-subnet"],
    ]
    assert [s["name"] for s in nats["europe-west1"]["subnetworks"]] == [subnets["shared-c-subnet"]]
    assert len(run.outputs["egress"]) == 4
    internal = run.mocks.named("shared-internal").plain
    assert internal["sourceRanges"] == [
        "10.0.0.0/20",
        "10.1.0.0/16",
        "10.2.0.0/20",
        "10.3.0.0/16",
        "10.4.0.0/20",
        "10.5.0.0/16",
    ]
    for component in ("shared", "mesh-a", "mesh-b", "mesh-c"):
        members = [r for r in run.resources if r.parent_name == component]
        assert members and all(r.name.startswith(f"{component}-") for r in members)


def test_network_refuses_a_cluster_of_another_network() -> None:
    def build() -> None:
        GcpNetwork("n", GcpNetworkArgs(network="n", project=PROJECT, clusters=[gcp_spec("a", network="other")]))

    with pytest.raises(pulumi.RunError, match="'a' is on network 'other'"):
        run_program(build)


def test_cluster_missing_from_the_given_network_is_refused() -> None:
    def build() -> None:
        net = GcpNetwork("n", GcpNetworkArgs(network="n", project=PROJECT, clusters=[gcp_spec("a", network="n")]))
        GkeCluster("b", GkeClusterArgs(spec=gcp_spec("b", network="n"), network=net))

    with pytest.raises(pulumi.RunError, match="'b' has no subnetwork"):
        run_program(build)


def test_non_gcp_spec_is_refused() -> None:
    spec = ClusterSpec(name="x", cloud="existing")
    with pytest.raises(pulumi.RunError, match="not `gcp`"):
        run_program(lambda: GkeCluster("x", GkeClusterArgs(spec=spec)))


# -- stability ------------------------------------------------------------------------------------


def test_same_build_twice_registers_identical_inputs() -> None:
    def snapshot() -> dict[tuple[str, str], Any]:
        run, _ = run_cluster(gcp_spec(eastWestInternal=True))
        found = {(r.type, r.name): r.plain for r in run.resources}
        assert len(found) == len(run.resources)
        return found

    assert snapshot() == snapshot()


def test_preview_does_not_fail() -> None:
    run, built = run_cluster(preview=True)
    assert only(run, CLUSTER).plain["name"] == "a"
    assert only(run, K8S_PROVIDER).name == "gke-k8s"
    assert built["cluster"].east_west is not None
