"""`AwsNetwork` and `EksCluster` under the mock engine: what they register, and how it is linked."""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from meshlib.components.aws import (
    LBC_CHART_VERSION,
    MESH_PORTS,
    AwsNetwork,
    AwsNetworkArgs,
    EksCluster,
    EksClusterArgs,
)
from meshlib.spec.defaults import default_network_block
from meshlib.spec.models import ClusterSpec
from tests.mocks import Registered, Run, run_program

REGION = "eu-west-1"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ADMIN = ["198.51.100.0/24", "203.0.113.7/32"]
LB = "service.beta.kubernetes.io/aws-load-balancer"


def spec(name: str = "east", vpc_cidr: str = "10.1.0.0/16", **extra: Any) -> ClusterSpec:
    fields: dict[str, Any] = {
        "name": name,
        "cloud": "aws",
        "region": REGION,
        "network": "net1",
        "vpc_cidr": vpc_cidr,
        "service_cidr": "10.200.0.0/20",
        "deletion_protection": False,
        **extra,
    }
    return ClusterSpec(**fields)


def single(
    cluster: ClusterSpec | None = None, api_access_cidrs: Sequence[str] = tuple(ADMIN), annotate: bool = False
) -> Any:
    """A program with one EksCluster `c1` (own network); exports its addresses and annotations."""

    def build() -> None:
        eks = EksCluster("c1", EksClusterArgs(spec=cluster or spec(), api_access_cidrs=api_access_cidrs))
        if eks.east_west is not None:
            pulumi.export("addresses", eks.east_west.addresses)
            pulumi.export("annotations", dict(eks.east_west.annotations))
            if annotate:  # stands in for the east-west gateway Service
                k8s.core.v1.ConfigMap(
                    "c1-probe",
                    metadata={"annotations": dict(eks.east_west.annotations)},
                    opts=pulumi.ResourceOptions(provider=eks.provider),
                )
        pulumi.export("egress", eks.egress_ips)
        pulumi.export("kubeconfig", eks.kubeconfig)
        pulumi.export("endpoint", eks.endpoint)

    return build


@pytest.fixture(scope="module")
def run() -> Run:
    return run_program(single(annotate=True))


def of_type(run: Run, type_: str) -> list[Registered]:
    return [r for r in run.resources if r.type == type_]


def one(run: Run, type_: str) -> Registered:
    found = of_type(run, type_)
    assert len(found) == 1, f"{len(found)} {type_}"
    return found[0]


def by_urn(run: Run) -> dict[str, Registered]:
    return {r.urn: r for r in run.resources}


# -- structure ------------------------------------------------------------------------------


def test_every_child_hangs_under_the_component_with_its_name(run: Run) -> None:
    urns = by_urn(run)
    component = one(run, "meshlib:index:EksCluster")
    children = [r for r in run.resources if r is not component and r.name != "c1-probe"]
    assert len(children) > 30
    for child in children:
        assert child.name.startswith("c1-"), child.name
        ancestor = child
        while ancestor.parent and ancestor.parent != component.urn:
            ancestor = urns[ancestor.parent]
        assert ancestor.parent == component.urn, f"{child.type} {child.name} is not under c1"
    network = one(run, "meshlib:index:AwsNetwork")
    assert network.name == "c1-network" and network.parent == component.urn


def test_network_layout(run: Run) -> None:
    # The VPC's primary block is the network's own (its NAT subnets); the cluster's vpcCidr is an added block.
    block = default_network_block("net1")
    assert str(block) == "10.112.0.0/24"
    vpc = one(run, "aws:ec2/vpc:Vpc").plain
    assert vpc["cidrBlock"] == str(block) and vpc["enableDnsHostnames"] and vpc["enableDnsSupport"]
    association = one(run, "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation")
    assert association.name == "c1-network-east-cidr"
    assert association.plain == {"vpcId": "c1-network-vpc-id", "cidrBlock": "10.1.0.0/16", "region": REGION}
    subnets = {r.name: r for r in of_type(run, "aws:ec2/subnet:Subnet")}
    cluster_subnets = [f"c1-network-east-{kind}-{zone}" for kind in ("private", "public") for zone in "ab"]
    assert sorted(subnets) == [*cluster_subnets, "c1-network-nat-a", "c1-network-nat-b"]
    assert {s.plain["availabilityZone"] for s in subnets.values()} == {f"{REGION}a", f"{REGION}b"}
    for name in cluster_subnets:  # in the cluster's block: they wait for its association
        subnet = subnets[name].plain
        assert ipaddress.IPv4Network(subnet["cidrBlock"]).subnet_of(ipaddress.IPv4Network("10.1.0.0/16"))
        assert association.urn in subnets[name].dependencies
        assert subnet["tags"]["kubernetes.io/cluster/east"] == "shared"
        role = "kubernetes.io/role/elb" if "-public-" in name else "kubernetes.io/role/internal-elb"
        assert subnet["tags"][role] == "1"
    # The NAT subnets are the halves of the network's block, belong to no cluster and host no load balancer.
    nat_subnets = {name: subnets[name].plain for name in ("c1-network-nat-a", "c1-network-nat-b")}
    assert [s["cidrBlock"] for s in nat_subnets.values()] == [str(half) for half in block.subnets(prefixlen_diff=1)]
    assert [s["availabilityZone"] for s in nat_subnets.values()] == [f"{REGION}a", f"{REGION}b"]
    assert all(set(s["tags"]) == {"Name"} for s in nat_subnets.values())
    nats = {r.name: r.plain["subnetId"] for r in of_type(run, "aws:ec2/natGateway:NatGateway")}
    assert nats == {"c1-network-nat-a": "c1-network-nat-a-id", "c1-network-nat-b": "c1-network-nat-b-id"}
    routes = sorted(
        (r.plain.get("gatewayId", ""), r.plain.get("natGatewayId", "")) for r in of_type(run, "aws:ec2/route:Route")
    )
    assert routes == [("", "c1-network-nat-a-id"), ("", "c1-network-nat-b-id"), ("c1-network-igw-id", "")]
    tables = {
        r.plain["subnetId"]: r.plain["routeTableId"]
        for r in of_type(run, "aws:ec2/routeTableAssociation:RouteTableAssociation")
    }
    assert tables == {
        "c1-network-nat-a-id": "c1-network-public-id",
        "c1-network-nat-b-id": "c1-network-public-id",
        "c1-network-east-public-a-id": "c1-network-public-id",
        "c1-network-east-public-b-id": "c1-network-public-id",
        "c1-network-east-private-a-id": "c1-network-private-a-id",
        "c1-network-east-private-b-id": "c1-network-private-b-id",
    }
    assert all(r.plain["region"] == REGION for r in run.resources if r.type.startswith("aws:ec2/"))


def test_egress_ips_are_the_nat_eips(run: Run) -> None:
    nat_eips = [r for r in of_type(run, "aws:ec2/eip:Eip") if "-nat-" in r.name]
    assert len(nat_eips) == 2
    assert len(run.outputs["egress"]) == 2
    for ip in run.outputs["egress"]:
        ipaddress.IPv4Address(ip)


def test_eks_cluster_inputs(run: Run) -> None:
    cluster = one(run, "aws:eks/cluster:Cluster").plain
    assert cluster["name"] == "east"
    assert cluster["region"] == REGION
    assert cluster["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert cluster["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "10.200.0.0/20"}
    assert cluster["deletionProtection"] is False
    assert "version" not in cluster
    vpc = cluster["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ADMIN
    assert "0.0.0.0/0" not in vpc["publicAccessCidrs"]
    assert vpc["subnetIds"] == ["c1-network-east-private-a-id", "c1-network-east-private-b-id"]


def test_no_access_cidrs_turns_the_public_endpoint_off() -> None:
    run = run_program(single(api_access_cidrs=()))
    vpc = one(run, "aws:eks/cluster:Cluster").plain["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert "0.0.0.0/0" not in json.dumps(vpc)
    warnings = [warning for warning in run.warnings if "mesh:adminCidrs" in warning]
    assert len(warnings) == 1, warnings


def test_node_group(run: Run) -> None:
    node_group = one(run, "aws:eks/nodeGroup:NodeGroup")
    group = node_group.plain
    # A name prefix, so that a replacement group is created before the old one is deleted.
    assert group["clusterName"] == "east" and group["nodeGroupNamePrefix"] == "east-"
    assert "nodeGroupName" not in group and not node_group.delete_before_replace
    assert group["subnetIds"] == ["c1-network-east-private-a-id", "c1-network-east-private-b-id"]
    assert group["instanceTypes"] == ["m6i.large"] and group["diskSize"] == 50
    assert group["scalingConfig"] == {"minSize": 2, "maxSize": 5, "desiredSize": 2}
    assert group["nodeRoleArn"].endswith(":role/east-eks-nodes")


def test_iam_roles_and_policies(run: Run) -> None:
    roles = {r.plain["name"]: json.loads(r.plain["assumeRolePolicy"]) for r in of_type(run, "aws:iam/role:Role")}
    assert set(roles) == {"east-eks-cluster", "east-eks-nodes", "east-aws-lbc"}
    assert roles["east-eks-cluster"]["Statement"][0]["Principal"]["Service"] == ["eks.amazonaws.com"]
    assert roles["east-eks-nodes"]["Statement"][0]["Principal"]["Service"] == ["ec2.amazonaws.com"]
    lbc = roles["east-aws-lbc"]["Statement"][0]
    assert lbc["Principal"]["Service"] == ["pods.eks.amazonaws.com"]
    assert sorted(lbc["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    attached = sorted(
        (r.plain["role"], r.plain["policyArn"].rsplit("/", 1)[1])
        for r in of_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    assert attached == [
        ("east-eks-cluster", "AmazonEKSClusterPolicy"),
        ("east-eks-nodes", "AmazonEC2ContainerRegistryReadOnly"),
        ("east-eks-nodes", "AmazonEKSWorkerNodePolicy"),
        ("east-eks-nodes", "AmazonEKS_CNI_Policy"),
    ]
    policy = one(run, "aws:iam/rolePolicy:RolePolicy")
    assert policy.plain["role"] == "c1-lbc-role-id"
    document = json.loads(policy.plain["policy"])
    service_linked = [s for s in document["Statement"] if "iam:CreateServiceLinkedRole" in s["Action"]]
    assert service_linked[0]["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
    }
    actions = {action for statement in document["Statement"] for action in statement["Action"]}
    assert {"elasticloadbalancing:CreateLoadBalancer", "ec2:DescribeSubnets", "ec2:CreateSecurityGroup"} <= actions
    assert len(policy.plain["policy"]) < 10_240  # IAM's inline-policy size limit


def test_security_group_rules_open_only_the_mesh_ports_to_the_vpc(run: Run) -> None:
    rules = {r.name: r.plain for r in of_type(run, INGRESS_RULE)}
    # one rule per port and cluster block of the VPC, named after the block's cluster
    assert sorted(rules) == sorted(f"c1-mesh-{port}-from-east" for port in MESH_PORTS)
    assert sorted((rule["fromPort"], rule["toPort"]) for rule in rules.values()) == [
        (port, port) for port in sorted(MESH_PORTS)
    ]
    for rule in rules.values():
        assert rule["ipProtocol"] == "tcp"
        assert rule["securityGroupId"].startswith("sg-")
        assert rule["cidrIpv4"] == "10.1.0.0/16"
        assert not any(key in rule for key in ("referencedSecurityGroupId", "cidrIpv6", "prefixListId"))
    assert not of_type(run, "aws:ec2/securityGroupRule:SecurityGroupRule")


def test_kubernetes_provider_is_exec_based_secret_and_waits_for_nodes(run: Run) -> None:
    provider = one(run, "pulumi:providers:kubernetes")
    assert provider.name == "c1-k8s"
    assert provider.is_secret("kubeconfig")
    kubeconfig = provider.plain["kubeconfig"]
    assert "token:" not in kubeconfig
    user = yaml.safe_load(kubeconfig)["users"][0]["user"]
    assert user["exec"]["command"] == "aws"
    ca = base64.b64decode(yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]["certificate-authority-data"])
    assert b"fake-ca-east" in ca
    assert user["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "east",
        "--region",
        REGION,
        "--output",
        "json",
    ]
    assert provider.plain["clusterIdentifier"] == "east"
    assert provider.plain["enableSecretMutable"] == "true"  # cacerts and tokens change in place (provider config: text)
    node_group = one(run, "aws:eks/nodeGroup:NodeGroup")
    assert node_group.urn in provider.dependencies
    assert "kubeconfig" in run.secret_outputs
    assert run.outputs["endpoint"].startswith("https://")


def test_east_west_addresses_are_the_reserved_eips(run: Run) -> None:
    eips = sorted((r for r in of_type(run, "aws:ec2/eip:Eip") if "-east-west-" in r.name), key=lambda r: r.name)
    assert [r.name for r in eips] == ["c1-east-west-a", "c1-east-west-b"]
    assert all(r.plain["domain"] == "vpc" for r in eips)
    addresses = run.outputs["addresses"]
    assert len(addresses) == 2
    for address in addresses:
        ipaddress.IPv4Address(address)
    annotations = run.outputs["annotations"]
    assert annotations[f"{LB}-type"] == "external"
    assert annotations[f"{LB}-nlb-target-type"] == "ip"
    assert annotations[f"{LB}-scheme"] == "internet-facing"
    assert annotations[f"{LB}-attributes"] == "load_balancing.cross_zone.enabled=true"  # each EIP reaches every zone
    assert annotations[f"{LB}-subnets"] == "c1-network-east-public-a-id,c1-network-east-public-b-id"
    allocations = annotations[f"{LB}-eip-allocations"].split(",")
    assert len(allocations) == 2 and all(a.startswith("eipalloc-") for a in allocations)


def test_load_balancer_controller_path(run: Run) -> None:
    urns = by_urn(run)
    agent = one(run, "aws:eks/addon:Addon")
    assert agent.plain["addonName"] == "eks-pod-identity-agent" and agent.plain["clusterName"] == "east"
    association = one(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.plain | {"tags": {}} == {
        "tags": {},
        "clusterName": "east",
        "namespace": "kube-system",
        "serviceAccount": "aws-load-balancer-controller",
        "roleArn": "arn:aws:iam::123456789012:role/east-aws-lbc",
        "region": REGION,
    }
    release = one(run, "kubernetes:helm.sh/v3:Release")
    assert release.provider_name == "c1-k8s"
    values = release.plain
    assert values["chart"] == "aws-load-balancer-controller" and values["version"] == LBC_CHART_VERSION == "3.5.0"
    assert values["name"] == "aws-load-balancer-controller" and values["namespace"] == "kube-system"
    assert values["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert values["values"] == {
        "clusterName": "east",
        "region": REGION,
        "vpcId": "c1-network-vpc-id",
        "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
    }
    needed = {urns[urn].type for urn in release.dependencies}
    assert {
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:eks/addon:Addon",
        "aws:iam/rolePolicy:RolePolicy",
    } <= needed


def test_services_using_the_annotations_are_deleted_before_the_controller(run: Run) -> None:
    probe = next(r for r in run.resources if r.name == "c1-probe")
    release = one(run, "kubernetes:helm.sh/v3:Release")
    assert release.urn in probe.dependencies
    assert probe.plain["metadata"]["annotations"] == run.outputs["annotations"]


def test_same_build_registers_the_same_inputs(run: Run) -> None:
    again = run_program(single(annotate=True))

    def inputs(of: Run) -> list[tuple[str, str, Any]]:  # registrations are concurrent: compare sorted
        return sorted(((r.type, r.name, r.plain) for r in of.resources), key=lambda item: item[:2])

    assert inputs(again) == inputs(run)
    assert again.outputs == run.outputs


def test_preview_succeeds() -> None:
    run = run_program(single(), preview=True)
    assert one(run, "aws:eks/cluster:Cluster").plain["name"] == "east"
    assert one(run, "pulumi:providers:kubernetes").name == "c1-k8s"


def test_internal_east_west_uses_fixed_private_addresses() -> None:
    run = run_program(single(spec(east_west_internal=True)))
    assert not [r for r in of_type(run, "aws:ec2/eip:Eip") if "-east-west-" in r.name]
    assert run.outputs["addresses"] == ["10.1.0.10", "10.1.64.10"]
    annotations = run.outputs["annotations"]
    assert annotations[f"{LB}-scheme"] == "internal"
    assert annotations[f"{LB}-attributes"] == "load_balancing.cross_zone.enabled=true"
    assert annotations[f"{LB}-subnets"] == "c1-network-east-private-a-id,c1-network-east-private-b-id"
    assert annotations[f"{LB}-private-ipv4-addresses"] == "10.1.0.10,10.1.64.10"
    assert f"{LB}-eip-allocations" not in annotations
    # Reserved before the cluster exists, so no node, pod or control-plane interface takes them.
    reservations = of_type(run, "aws:ec2/subnetCidrReservation:SubnetCidrReservation")
    assert sorted(r.plain["cidrBlock"] for r in reservations) == ["10.1.0.10/32", "10.1.64.10/32"]
    assert all(r.plain["reservationType"] == "explicit" for r in reservations)
    cluster = one(run, "aws:eks/cluster:Cluster")
    assert {r.urn for r in reservations} <= set(cluster.dependencies)


def test_without_east_west_gateway_no_controller_and_no_eips() -> None:
    def build() -> None:
        eks = EksCluster("c1", EksClusterArgs(spec=spec(), east_west_gateway=False, api_access_cidrs=ADMIN))
        assert eks.east_west is None and eks.load_balancer_controller is None

    run = run_program(build)
    assert not of_type(run, "kubernetes:helm.sh/v3:Release")
    assert not of_type(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert [r.name for r in of_type(run, "aws:ec2/eip:Eip")] == ["c1-network-nat-a", "c1-network-nat-b"]


def test_two_clusters_share_one_vpc_with_disjoint_subnets() -> None:
    east, west = spec("east", "10.1.0.0/16"), spec("west", "10.2.0.0/16")

    def build() -> None:
        network = AwsNetwork("net1", AwsNetworkArgs(network="net1", region=REGION, clusters=[east, west]))
        for cluster in (east, west):
            eks = EksCluster(cluster.name, EksClusterArgs(spec=cluster, network=network, api_access_cidrs=ADMIN))
            assert eks.control_plane_egress_known is False  # AWS-managed control-plane egress
        pulumi.export("cidrs", network.vpc_cidrs)

    run = run_program(build)
    block = str(default_network_block("net1"))
    assert [r.plain["cidrBlock"] for r in of_type(run, "aws:ec2/vpc:Vpc")] == [block]  # the network's own
    nats = {r.name: r.plain["subnetId"] for r in of_type(run, "aws:ec2/natGateway:NatGateway")}
    assert nats == {"net1-nat-a": "net1-nat-a-id", "net1-nat-b": "net1-nat-b-id"}  # in no cluster's subnets
    # every cluster, the first too, adds its block: none of them holds what the network needs
    associations = {r.name: r for r in of_type(run, "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation")}
    assert {name: a.plain["cidrBlock"] for name, a in associations.items()} == {
        "net1-east-cidr": "10.1.0.0/16",
        "net1-west-cidr": "10.2.0.0/16",
    }
    assert all(a.plain["vpcId"] == "net1-vpc-id" for a in associations.values())
    subnets = of_type(run, "aws:ec2/subnet:Subnet")
    assert len(subnets) == 10  # two NAT subnets, four per cluster
    networks = [ipaddress.IPv4Network(s.plain["cidrBlock"]) for s in subnets]
    for index, first in enumerate(networks):
        assert not any(first.overlaps(other) for other in networks[index + 1 :])
    for cluster in ("east", "west"):
        own = [s for s in subnets if s.name.startswith(f"net1-{cluster}-")]
        assert len(own) == 4
        assert all(s.plain["vpcId"] == "net1-vpc-id" for s in own)
        assert all(associations[f"net1-{cluster}-cidr"].urn in s.dependencies for s in own)
    clusters = {r.plain["name"]: r.plain["vpcConfig"]["subnetIds"] for r in of_type(run, "aws:eks/cluster:Cluster")}
    assert clusters == {
        "east": ["net1-east-private-a-id", "net1-east-private-b-id"],
        "west": ["net1-west-private-a-id", "net1-west-private-b-id"],
    }
    rules = of_type(run, INGRESS_RULE)
    # the mesh ports from each cluster block of the VPC, one rule per port and block
    mesh = {rule.name: rule.plain for rule in rules if "-mesh-" in rule.name}
    blocks = {"east": "10.1.0.0/16", "west": "10.2.0.0/16"}
    assert {name: (rule["fromPort"], rule["cidrIpv4"]) for name, rule in mesh.items()} == {
        f"{cluster}-mesh-{port}-from-{owner}": (port, cidr)
        for cluster in ("east", "west")
        for port in MESH_PORTS
        for owner, cidr in blocks.items()
    }
    assert all(rule["ipProtocol"] == "tcp" and rule["toPort"] == rule["fromPort"] for rule in mesh.values())
    # same-network clusters reach each other's pods and private API endpoint: all ports, peers only
    peers = {rule.name: rule.plain for rule in rules if "-mesh-" not in rule.name}
    assert {name: rule["cidrIpv4"] for name, rule in peers.items()} == {
        "east-from-west-a": "10.2.0.0/18",
        "east-from-west-b": "10.2.64.0/18",
        "west-from-east-a": "10.1.0.0/18",
        "west-from-east-b": "10.1.64.0/18",
    }
    assert all(rule["ipProtocol"] == "-1" and "fromPort" not in rule for rule in peers.values())
    assert run.outputs["cidrs"] == [block, "10.1.0.0/16", "10.2.0.0/16"]
    for name in ("east", "west"):
        component = next(r for r in run.resources if r.type == "meshlib:index:EksCluster" and r.name == name)
        children = [r for r in run.resources if r.parent == component.urn]
        assert children and all(child.name.startswith(f"{name}-") for child in children)


def test_adopted_vpc_creates_no_network() -> None:
    adopted = spec(
        "east",
        vpc_cidr=None,
        vpc_id="vpc-0abc",
        public_subnet_ids=["subnet-pub1", "subnet-pub2"],
        private_subnet_ids=["subnet-priv1", "subnet-priv2"],
    )

    def build() -> None:
        eks = EksCluster("c1", EksClusterArgs(spec=adopted, api_access_cidrs=ADMIN))
        assert eks.aws_network.adopted and eks.control_plane_egress_known is False
        assert eks.egress_known is False  # an adopted VPC's NAT addresses are not known
        assert eks.east_west is not None
        pulumi.export("egress", eks.egress_ips)
        pulumi.export("addresses", eks.east_west.addresses)

    run = run_program(build)
    assert not [
        r
        for r in run.resources
        if r.type.startswith("aws:ec2/") and "securityGroupRule" not in r.type and "/eip:" not in r.type
    ]
    assert run.outputs["egress"] == []
    assert len(run.outputs["addresses"]) == 2
    cluster = one(run, "aws:eks/cluster:Cluster").plain
    assert cluster["vpcConfig"]["subnetIds"] == ["subnet-priv1", "subnet-priv2"]
    assert one(run, "kubernetes:helm.sh/v3:Release").plain["values"]["vpcId"] == "vpc-0abc"
    rules = {rule.name: rule.plain["cidrIpv4"] for rule in of_type(run, INGRESS_RULE)}
    assert rules == {f"c1-mesh-{port}-from-vpc": "10.200.0.0/16" for port in MESH_PORTS}  # the VPC's own block


def test_refuses_clusters_that_cannot_share_the_network() -> None:
    def build() -> None:
        AwsNetwork("net2", AwsNetworkArgs(network="net2", region=REGION, clusters=[spec()]))

    with pytest.raises(Exception, match="not an aws cluster of network 'net2'"):
        run_program(build)
