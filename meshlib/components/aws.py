"""AWS pieces of the mesh: the VPC of an Istio network (`AwsNetwork`) and an EKS cluster (`EksCluster`).

East-west gateways get their address from the AWS Load Balancer Controller (LBC):
the cluster reserves one Elastic IP per public subnet up front, and the gateway Service
carries the LBC annotations that put an internet-facing NLB on exactly those EIPs
(`aws-load-balancer-eip-allocations` + `aws-load-balancer-subnets`). The addresses are
therefore plain IPs known before the Service exists, which istiod's `remotePilotAddress`
needs (a hostname would become an ExternalName Service that the API server's webhook
client refuses). The LBC is the documented, maintained path and reconciles these
annotations on every change; the in-tree cloud provider also reads EIP allocations, but
only when it first creates the load balancer, and only for instance targets. The LBC
gets its AWS permissions through EKS Pod Identity (no OIDC provider, no IRSA annotation).

With `east_west_internal` the NLB is internal instead and pinned to fixed private
addresses (`aws-load-balancer-private-ipv4-addresses`, the 10th host of each private
subnet, reserved before the cluster exists), for networks joined by peering, a transit
gateway or a VPN.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from meshlib.components.cluster import EastWestExposure, MeshCluster, child_opts
from meshlib.plan.credentials import exec_kubeconfig
from meshlib.spec.defaults import default_network_block
from meshlib.spec.models import ClusterSpec
from meshlib.spec.names import EksNames, join

__all__ = [
    "DEFAULT_INSTANCE_TYPE",
    "EKS_UNSUPPORTED_ZONE_IDS",
    "LBC_CHART",
    "LBC_CHART_REPOSITORY",
    "LBC_CHART_VERSION",
    "LBC_IAM_POLICY",
    "LBC_SERVICE_ACCOUNT",
    "CROSS_ZONE",
    "MESH_PORTS",
    "READINESS_GATE_LABEL",
    "AwsClusterInputs",
    "AwsNetwork",
    "AwsNetworkArgs",
    "EksCluster",
    "EksClusterArgs",
    "token_command",
]

DEFAULT_INSTANCE_TYPE = "m6i.large"
MESH_PORTS: tuple[int, ...] = (15012, 15017, 15021, 15443)
"""istiod xDS/CA, istiod webhooks, gateway health, cross-network mTLS."""
EKS_UNSUPPORTED_ZONE_IDS: tuple[str, ...] = ("use1-az3", "usw1-az2", "cac1-az3")
"""Zones where EKS cannot place control-plane network interfaces (EKS user guide, "Subnet requirements")."""

LBC_CHART = "aws-load-balancer-controller"
LBC_CHART_VERSION = "3.5.0"
LBC_CHART_REPOSITORY = "https://aws.github.io/eks-charts"
LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller"
_LBC_NAMESPACE = "kube-system"
_LB = "service.beta.kubernetes.io/aws-load-balancer"
_ELB_ROLE = "kubernetes.io/role/elb"
_INTERNAL_ELB_ROLE = "kubernetes.io/role/internal-elb"

CROSS_ZONE = "load_balancing.cross_zone.enabled=true"
"""NLB attribute: each EIP reaches gateway pods in every zone, so none goes dark with its zone's pods."""
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
"""Namespace label: the controller injects a readiness gate that waits for the pod's NLB target to be healthy."""

_ELB_TAG = "aws:RequestTag/elbv2.k8s.aws/cluster"
_ELB_RESOURCE_TAG = "aws:ResourceTag/elbv2.k8s.aws/cluster"
_LB_ARNS = [
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
]

LBC_IAM_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:GetCoipPoolUsage",
                "ec2:DescribeCoipPools",
                "ec2:GetSecurityGroupsForVpc",
                "ec2:DescribeIpamPools",
                "ec2:DescribeRouteTables",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeCapacityReservation",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "cognito-idp:DescribeUserPoolClient",
                "acm:ListCertificates",
                "acm:DescribeCertificate",
                "iam:ListServerCertificates",
                "iam:GetServerCertificate",
                "waf-regional:GetWebACL",
                "waf-regional:GetWebACLForResource",
                "waf-regional:AssociateWebACL",
                "waf-regional:DisassociateWebACL",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:AssociateWebACL",
                "wafv2:DisassociateWebACL",
                "shield:GetSubscriptionState",
                "shield:DescribeProtection",
                "shield:CreateProtection",
                "shield:DeleteProtection",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": ["ec2:CreateSecurityGroup"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": "arn:aws:ec2:*:*:security-group/*",
            "Condition": {
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                "Null": {_ELB_TAG: "false"},
            },
        },
        {
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
            "Resource": "arn:aws:ec2:*:*:security-group/*",
            "Condition": {"Null": {_ELB_TAG: "true", _ELB_RESOURCE_TAG: "false"}},
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
            ],
            "Resource": "*",
            "Condition": {"Null": {_ELB_RESOURCE_TAG: "false"}},
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            "Resource": "*",
            "Condition": {"Null": {_ELB_TAG: "false"}},
        },
        {
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            "Resource": _LB_ARNS,
            "Condition": {"Null": {_ELB_TAG: "true", _ELB_RESOURCE_TAG: "false"}},
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            "Resource": [
                "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
                "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
                "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
                "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
            ],
        },
        {
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyCapacityReservation",
                "elasticloadbalancing:ModifyIpPools",
            ],
            "Resource": "*",
            "Condition": {"Null": {_ELB_RESOURCE_TAG: "false"}},
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:AddTags"],
            "Resource": _LB_ARNS,
            "Condition": {
                "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
                "Null": {_ELB_TAG: "false"},
            },
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:SetWebAcl",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
            ],
            "Resource": "*",
        },
    ],
}
"""The controller's permissions: kubernetes-sigs/aws-load-balancer-controller v3.5.0 `docs/install/iam_policy.json`."""


# -- small pure helpers ---------------------------------------------------------------------


def _partition(region: str) -> str:
    """The ARN partition of `region`."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _in_partition(document: dict[str, Any], partition: str) -> str:
    """`document` as JSON, its `arn:aws:` ARNs moved to `partition`."""
    return json.dumps(document, sort_keys=True).replace('"arn:aws:', f'"arn:{partition}:')


def _managed_policy(region: str, policy: str) -> str:
    return f"arn:{_partition(region)}:iam::aws:policy/{policy}"


def _trust(*principals: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """An assume-role policy admitting AWS service `principals`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": list(principals)},
                    "Action": list(actions),
                }
            ],
        },
        sort_keys=True,
    )


CREATED_ZONES = 2
"""Zones of a VPC meshlib creates: a public and a private subnet in each."""


def subnet_count(cluster: ClusterSpec, public: bool) -> int:
    """How many public (or private) subnets a cluster has, known before deployment: one per listed id in an
    adopted VPC, else one per zone of the VPC meshlib creates."""
    if cluster.vpc_id:
        return len(cluster.public_subnet_ids if public else cluster.private_subnet_ids)
    return CREATED_ZONES


def nlb_annotations(internal: bool) -> dict[str, str]:
    """An NLB from the AWS Load Balancer Controller, targeting pods, across zones (every gateway's; the
    east-west gateway's adds its subnets and fixed addresses)."""
    return {
        f"{_LB}-type": "external",
        f"{_LB}-nlb-target-type": "ip",
        f"{_LB}-attributes": CROSS_ZONE,
        f"{_LB}-scheme": "internal" if internal else "internet-facing",
    }


def _zone_letter(index: int) -> str:
    return chr(ord("a") + index)


def _fixed_host(cidr: str) -> str:
    """The address the internal east-west NLB takes in a subnet: its 10th host."""
    return str(ipaddress.IPv4Network(cidr).network_address + 10)


def token_command(cluster: str, region: str, profile: str | None, role_arn: str | None) -> list[str]:
    """`aws eks get-token` arguments, as the identity Pulumi deploys with."""
    args = ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"]
    if profile:
        args += ["--profile", profile]
    if role_arn:
        args += ["--role-arn", role_arn]
    return args


def _deployer_identity(args: EksClusterArgs) -> tuple[str | None, str | None]:
    """The profile and role of the kubeconfig: given, else the `aws` provider's stack config."""
    if args.aws_profile is not None or args.aws_role_arn is not None:
        return args.aws_profile, args.aws_role_arn
    config = pulumi.Config("aws")
    roles = config.get_object("assumeRoles") or []  # pulumi-aws 7: a chain; the last role is the one used
    role = roles[-1].get("roleArn") if isinstance(roles, list) and roles and isinstance(roles[-1], dict) else None
    return config.get("profile"), role


def _nth(values: pulumi.Output[list[str]], index: int) -> pulumi.Output[str]:
    return values.apply(lambda found: found[index])


def _desired_size(minimum: int, maximum: int) -> int:
    return min(max(minimum, 1), maximum)


def _after(resource: pulumi.Resource, value: pulumi.Input[str]) -> pulumi.Output[str]:
    """`value`, carrying a dependency on `resource` (whoever uses it is deleted before `resource`)."""
    return resource.urn.apply(lambda _: value)


# -- AwsNetwork -----------------------------------------------------------------------------


@dataclass
class AwsClusterInputs:
    """A cluster's adopted VPC and subnet ids as Pulumi Inputs (another resource's or stack's outputs).

    They replace the spec's `vpcId` and subnet ids, which then only stand in for validation. The
    subnet lists are plain lists (their items may be Outputs): how many there are must be known
    at plan time, as it decides how many east-west addresses are reserved.
    """

    vpc_id: pulumi.Input[str] | None = None
    public_subnet_ids: Sequence[pulumi.Input[str]] | None = None
    private_subnet_ids: Sequence[pulumi.Input[str]] | None = None


@dataclass
class AwsNetworkArgs:
    """One Istio network on AWS: the EKS clusters that share its VPC (all in `region`)."""

    network: str
    region: str
    clusters: Sequence[ClusterSpec]
    """The network's `aws` clusters, defaults filled: each with a `vpc_cidr`, or all with one `vpc_id`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    zones: Sequence[str] = ()
    """Two availability-zone names to use; default the region's first two (sorted) where EKS runs."""
    vpc_cidr: str | None = None
    """The VPC's primary block, the network's own (its NAT subnets); default from the network's name
    (`meshlib.spec.defaults.default_network_block`), as the spec fills `mesh:networks.<name>.vpcCidr`."""
    name_prefix: str = ""
    """Starts the `Name` tags, and the EKS cluster names in the subnets' `kubernetes.io/cluster/` tags."""
    protect: bool = False
    """Pulumi `protect` on the VPC and the NAT Elastic IPs (refused at preview, before anything is deleted)."""
    inputs: Mapping[str, AwsClusterInputs] = field(default_factory=dict)
    """Per cluster name: ids from other resources or stacks, in place of the spec's (adopted VPCs only)."""


@dataclass
class _Subnets:
    public: pulumi.Output[list[str]]
    private: pulumi.Output[list[str]]
    private_cidrs: pulumi.Output[list[str]]
    public_count: int
    private_count: int
    egress: list[pulumi.Resource] = field(default_factory=list)
    """What the cluster's private subnets reach the internet through (NAT gateways, routes, IGW)."""


class AwsNetwork(pulumi.ComponentResource):
    """The VPC of one Istio network: per cluster a public and a private subnet in two zones, NAT egress.

    Given clusters that name an existing `vpc_id` and subnets, it adopts them and creates nothing.
    """

    network: str
    region: str
    adopted: bool
    """True when the VPC and subnets already existed (nothing created)."""
    vpc_id: pulumi.Output[str]
    cidrs: list[str]
    """VPC CIDRs known from the spec (created VPC: all of them; adopted: those the spec declares)."""
    vpc_cidrs: pulumi.Output[list[str]]
    """Every CIDR block of the VPC (looked up for an adopted VPC)."""
    egress_ips: pulumi.Output[list[str]]
    """Public IPs of the NAT gateways; empty for an adopted VPC (unknown)."""
    egress_known: bool

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:AwsNetwork", name, None, opts)
        _check_network(args)
        self.network = args.network
        self.region = args.region
        self._subnets: dict[str, _Subnets] = {}
        adopt = any(cluster.vpc_id for cluster in args.clusters)
        self.adopted = adopt
        if adopt:
            self._adopt(args)
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "cidrs": self.vpc_cidrs,
                "egressIps": self.egress_ips,
                "publicSubnetIds": {cluster: subnets.public for cluster, subnets in self._subnets.items()},
                "privateSubnetIds": {cluster: subnets.private for cluster, subnets in self._subnets.items()},
            }
        )

    # -- public API --

    def public_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]:
        """`cluster_name`'s public subnets, one per zone (load balancers, NAT gateways)."""
        return self._of(cluster_name).public

    def private_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]:
        """`cluster_name`'s private subnets, one per zone (nodes, pods, control-plane interfaces)."""
        return self._of(cluster_name).private

    def private_subnet_cidrs(self, cluster_name: str) -> pulumi.Output[list[str]]:
        """CIDRs of `cluster_name`'s private subnets, in the order of `private_subnet_ids`."""
        return self._of(cluster_name).private_cidrs

    def peer_cidrs(self, cluster_name: str) -> pulumi.Output[list[str]]:
        """Private-subnet CIDRs of the network's other clusters (their nodes, pods and API endpoints)."""
        self._of(cluster_name)
        others = [subnets.private_cidrs for name, subnets in self._subnets.items() if name != cluster_name]
        return pulumi.Output.all(*others).apply(lambda lists: [cidr for found in lists for cidr in found])

    @property
    def cluster_names(self) -> list[str]:
        """The clusters on this network, in the order given."""
        return list(self._subnets)

    def public_subnet_count(self, cluster_name: str) -> int:
        """How many public subnets `cluster_name` has (known before deployment)."""
        return self._of(cluster_name).public_count

    def private_subnet_count(self, cluster_name: str) -> int:
        """How many private subnets `cluster_name` has (known before deployment)."""
        return self._of(cluster_name).private_count

    def egress_path(self, cluster_name: str) -> list[pulumi.Resource]:
        """The resources `cluster_name`'s nodes reach AWS APIs and the internet through (empty when adopted).

        Whatever talks to AWS from inside the cluster (the load balancer controller removing its
        NLB on destroy) must be deleted before these: make it depend on them.
        """
        return list(self._of(cluster_name).egress)

    def ingress_cidrs(self, cluster_name: str) -> dict[str, pulumi.Input[str]]:
        """The VPC blocks the cluster's nodes admit the mesh ports from, by the cluster owning each
        (`vpc` for an adopted VPC's own block): a fixed set, known before deployment."""
        self._of(cluster_name)
        if self.adopted and not self.cidrs:
            return {"vpc": self._adopted_block}
        return dict(self._cidr_owners)

    def _of(self, cluster_name: str) -> _Subnets:
        try:
            return self._subnets[cluster_name]
        except KeyError:
            raise ValueError(
                f"cluster {cluster_name!r} is not on AWS network {self.network!r} "
                f"(its clusters: {', '.join(self._subnets)})"
            ) from None

    # -- building --

    def _adopt(self, args: AwsNetworkArgs) -> None:
        first = args.inputs.get(args.clusters[0].name, AwsClusterInputs())
        vpc_id: pulumi.Input[str] | None = first.vpc_id if first.vpc_id is not None else args.clusters[0].vpc_id
        assert vpc_id is not None  # _check_network
        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.cidrs = [str(cluster.vpc_cidr) for cluster in args.clusters if cluster.vpc_cidr is not None]
        self._cidr_owners = {c.name: str(c.vpc_cidr) for c in args.clusters if c.vpc_cidr is not None}
        vpc = aws.ec2.get_vpc_output(id=vpc_id, region=args.region, opts=pulumi.InvokeOutputOptions(parent=self))
        self._adopted_block: pulumi.Output[str] = vpc.cidr_block
        self.vpc_cidrs = vpc.cidr_block_associations.apply(lambda blocks: [block.cidr_block for block in blocks])
        self.egress_ips = pulumi.Output.from_input([])
        self.egress_known = False
        for cluster in args.clusters:
            given = args.inputs.get(cluster.name, AwsClusterInputs())
            public: Sequence[pulumi.Input[str]] = (
                cluster.public_subnet_ids if given.public_subnet_ids is None else given.public_subnet_ids
            )
            private: Sequence[pulumi.Input[str]] = (
                cluster.private_subnet_ids if given.private_subnet_ids is None else given.private_subnet_ids
            )
            private_cidrs = [
                aws.ec2.get_subnet_output(
                    id=subnet, region=args.region, opts=pulumi.InvokeOutputOptions(parent=self)
                ).cidr_block
                for subnet in private
            ]
            self._subnets[cluster.name] = _Subnets(
                public=pulumi.Output.all(*public).apply(list),
                private=pulumi.Output.all(*private).apply(list),
                private_cidrs=pulumi.Output.all(*private_cidrs).apply(lambda cidrs: [str(cidr) for cidr in cidrs]),
                public_count=len(public),
                private_count=len(private),
            )

    def _create(self, name: str, args: AwsNetworkArgs) -> None:
        """A VPC whose primary block belongs to the network (NAT subnets), one more block per cluster.

        Nothing the network needs hangs on one of its clusters, so clusters come and go
        (the first one too) without replacing the VPC or its NAT gateways.
        """
        region = args.region
        protect = pulumi.ResourceOptions(protect=args.protect)

        def tags(label: str, **extra: str) -> dict[str, str]:
            return {**args.tags, **extra, "Name": join(args.name_prefix, args.network, label)}

        block = ipaddress.IPv4Network(args.vpc_cidr or str(default_network_block(args.network)))
        self.cidrs = [str(cluster.vpc_cidr) for cluster in args.clusters]
        self._cidr_owners = {cluster.name: str(cluster.vpc_cidr) for cluster in args.clusters}
        self.vpc_cidrs = pulumi.Output.from_input([str(block), *self.cidrs])

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(block),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            region=region,
            tags=tags("vpc"),
            opts=child_opts(self, protect=args.protect),
        )
        self.vpc_id = vpc.id
        # Subnets of a cluster take their VPC id from its block's association, so they wait for it.
        vpc_for = {
            cluster.name: aws.ec2.VpcIpv4CidrBlockAssociation(
                f"{name}-{cluster.name}-cidr",
                vpc_id=vpc.id,
                cidr_block=str(cluster.vpc_cidr),
                region=region,
                opts=child_opts(self),
            ).vpc_id
            for cluster in args.clusters
        }

        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, region=region, tags=tags("igw"), opts=child_opts(self)
        )
        zones = self._zones(args)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, region=region, tags=tags("public"), opts=child_opts(self)
        )
        internet = aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            region=region,
            opts=child_opts(self),
        )
        egress: list[pulumi.Resource] = [gateway, internet]

        def public_subnet(
            label: str, cidr: ipaddress.IPv4Network, index: int, vpc_id: pulumi.Input[str], **extra: str
        ) -> tuple[aws.ec2.Subnet, aws.ec2.RouteTableAssociation]:
            subnet = aws.ec2.Subnet(
                f"{name}-{label}",
                vpc_id=vpc_id,
                cidr_block=str(cidr),
                availability_zone=zones[index],
                region=region,
                tags=tags(label, **extra),
                opts=child_opts(self),
            )
            association = aws.ec2.RouteTableAssociation(
                f"{name}-{label}-routes",
                route_table_id=public_routes.id,
                subnet_id=subnet.id,
                region=region,
                opts=child_opts(self),
            )
            return subnet, association

        # One NAT gateway per zone, in the network's own subnets; every cluster's private subnets
        # leave through the NAT gateway of their zone.
        nat_ips: list[pulumi.Output[str]] = []
        private_routes: list[aws.ec2.RouteTable] = []
        for index, cidr in enumerate(block.subnets(new_prefix=block.prefixlen + 1)):
            letter = _zone_letter(index)
            subnet, association = public_subnet(f"nat-{letter}", cidr, index, vpc.id)
            address = aws.ec2.Eip(
                f"{name}-nat-{letter}",
                domain="vpc",
                region=region,
                tags=tags(f"nat-{letter}"),
                opts=pulumi.ResourceOptions.merge(child_opts(self, depends_on=[gateway]), protect),
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{letter}",
                allocation_id=address.allocation_id,
                subnet_id=subnet.id,
                region=region,
                tags=tags(f"nat-{letter}"),
                opts=child_opts(self, depends_on=[gateway, association]),
            )
            nat_ips.append(address.public_ip)
            routes = aws.ec2.RouteTable(
                f"{name}-private-{letter}",
                vpc_id=vpc.id,
                region=region,
                tags=tags(f"private-{letter}"),
                opts=child_opts(self),
            )
            route = aws.ec2.Route(
                f"{name}-private-{letter}-nat",
                route_table_id=routes.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                region=region,
                opts=child_opts(self),
            )
            private_routes.append(routes)
            egress += [nat, route]
        self.egress_ips = pulumi.Output.all(*nat_ips).apply(lambda ips: [str(ip) for ip in ips])
        self.egress_known = True

        for cluster in args.clusters:
            assert cluster.vpc_cidr is not None  # _check_network
            quarters = list(cluster.vpc_cidr.subnets(new_prefix=cluster.vpc_cidr.prefixlen + 2))
            # Private subnets take the first half (pods get VPC addresses), public ones (load balancers) the second.
            owner = {f"kubernetes.io/cluster/{EksNames.of(args.name_prefix, cluster.name).cluster}": "shared"}
            public, private, own_egress = [], [], []
            for index, cidr in enumerate(quarters[2:4]):
                label = f"{cluster.name}-public-{_zone_letter(index)}"
                subnet, _ = public_subnet(label, cidr, index, vpc_for[cluster.name], **{_ELB_ROLE: "1"}, **owner)
                public.append(subnet)
            for index, cidr in enumerate(quarters[0:2]):
                label = f"{cluster.name}-private-{_zone_letter(index)}"
                subnet = aws.ec2.Subnet(
                    f"{name}-{label}",
                    vpc_id=vpc_for[cluster.name],
                    cidr_block=str(cidr),
                    availability_zone=zones[index],
                    region=region,
                    tags=tags(label, **{_INTERNAL_ELB_ROLE: "1"}, **owner),
                    opts=child_opts(self),
                )
                own_egress.append(
                    aws.ec2.RouteTableAssociation(
                        f"{name}-{cluster.name}-private-{_zone_letter(index)}-routes",
                        route_table_id=private_routes[index].id,
                        subnet_id=subnet.id,
                        region=region,
                        opts=child_opts(self),
                    )
                )
                private.append(subnet)
            self._subnets[cluster.name] = _Subnets(
                public=pulumi.Output.all(*[subnet.id for subnet in public]).apply(_strings),
                private=pulumi.Output.all(*[subnet.id for subnet in private]).apply(_strings),
                private_cidrs=pulumi.Output.from_input([str(cidr) for cidr in quarters[0:2]]),
                public_count=subnet_count(cluster, public=True),
                private_count=subnet_count(cluster, public=False),
                egress=[*egress, *own_egress],
            )

    def _zones(self, args: AwsNetworkArgs) -> list[pulumi.Output[str]]:
        if args.zones:
            return [pulumi.Output.from_input(zone) for zone in args.zones]
        found = aws.get_availability_zones_output(
            state="available",
            exclude_zone_ids=list(EKS_UNSUPPORTED_ZONE_IDS),
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            region=args.region,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        names = found.names.apply(_two_zones)
        return [names.apply(lambda zones: zones[0]), names.apply(lambda zones: zones[1])]


def _strings(values: list[Any]) -> list[str]:
    return [str(value) for value in values]


def _two_zones(names: list[str]) -> list[str]:
    zones = sorted(names)
    if len(zones) < 2:
        raise ValueError(f"EKS needs two availability zones, the region offers {zones}")
    return zones[:2]


def _check_network(args: AwsNetworkArgs) -> None:
    """Refuse clusters that cannot share one VPC (validation normally guarantees all of this)."""
    if not args.clusters:
        raise ValueError(f"AWS network {args.network!r} has no clusters")
    if len(args.zones) not in (0, 2):
        raise ValueError(f"AWS network {args.network!r}: give exactly two zones, not {list(args.zones)}")
    for cluster in args.clusters:
        if cluster.cloud != "aws" or cluster.region != args.region or cluster.network != args.network:
            raise ValueError(
                f"cluster {cluster.name!r} (cloud {cluster.cloud}, region {cluster.region}, network "
                f"{cluster.network}) is not an aws cluster of network {args.network!r} in {args.region}"
            )
    vpc_ids = {cluster.vpc_id for cluster in args.clusters}
    if vpc_ids != {None}:
        if None in vpc_ids or len(vpc_ids) != 1:
            raise ValueError(f"clusters of network {args.network!r} must all adopt the same vpcId or none")
        for cluster in args.clusters:
            if not cluster.private_subnet_ids:
                raise ValueError(f"cluster {cluster.name!r} adopts {cluster.vpc_id}: set privateSubnetIds")
        return
    for cluster in args.clusters:
        if cluster.vpc_cidr is None:
            raise ValueError(f"cluster {cluster.name!r} has no vpcCidr (fill the spec defaults first)")
        if not 16 <= cluster.vpc_cidr.prefixlen <= 26:
            raise ValueError(
                f"cluster {cluster.name!r}: vpcCidr {cluster.vpc_cidr} must be a /16 to /26 (AWS allows /16 to /28 "
                "per block, and each block is cut into four subnets)"
            )
    block = ipaddress.IPv4Network(args.vpc_cidr or str(default_network_block(args.network)))
    for cluster in args.clusters:
        if cluster.vpc_cidr is not None and cluster.vpc_cidr.overlaps(block):
            raise ValueError(
                f"AWS network {args.network!r}: its own block {block} overlaps cluster {cluster.name!r}'s vpcCidr "
                f"{cluster.vpc_cidr}; give AwsNetworkArgs.vpc_cidr"
            )


# -- EksCluster -----------------------------------------------------------------------------


class AwsNetworkLike(Protocol):
    """What `EksCluster` uses of its network: an `AwsNetwork`, or a fleet stack's view of one."""

    @property
    def region(self) -> str: ...

    @property
    def vpc_id(self) -> pulumi.Output[str]: ...

    @property
    def egress_ips(self) -> pulumi.Output[list[str]]: ...

    @property
    def egress_known(self) -> bool: ...

    @property
    def cluster_names(self) -> list[str]: ...

    def public_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]: ...

    def private_subnet_ids(self, cluster_name: str) -> pulumi.Output[list[str]]: ...

    def private_subnet_cidrs(self, cluster_name: str) -> pulumi.Output[list[str]]: ...

    def public_subnet_count(self, cluster_name: str) -> int: ...

    def private_subnet_count(self, cluster_name: str) -> int: ...

    def egress_path(self, cluster_name: str) -> list[pulumi.Resource]: ...

    def ingress_cidrs(self, cluster_name: str) -> dict[str, pulumi.Input[str]]: ...


@dataclass
class EksClusterArgs:
    """One EKS cluster of the mesh."""

    spec: ClusterSpec
    """The cluster (`cloud: aws`, defaults filled)."""
    network: AwsNetworkLike | None = None
    """The VPC of the cluster's Istio network; None: a VPC of its own, as a child."""
    east_west_gateway: bool = True
    """Reserve the east-west gateway's address and install the AWS Load Balancer Controller."""
    api_access_cidrs: pulumi.Input[Sequence[str]] = ()
    """CIDRs admitted to the public API endpoint (admin CIDRs, /32 NAT IPs of watching istiods).
    Empty: the public endpoint is switched off (VPC-only access)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    name_prefix: str = ""
    """Starts the cluster's AWS names (`meshlib.spec.names.EksNames`): unique per stack and mesh."""
    admins: Sequence[str] = ()
    """IAM role or user ARNs given cluster-admin through access entries, besides the cluster's creator."""
    aws_profile: str | None = None
    """Profile `aws eks get-token` runs with in the kubeconfig; default `aws:profile` of the stack."""
    aws_role_arn: str | None = None
    """Role `aws eks get-token` assumes in the kubeconfig; default the stack's `aws:assumeRoles` (last one)."""


class EksCluster(MeshCluster):
    """An EKS cluster with a managed node group, ready for Istio: mesh ports open, east-west EIPs and LBC."""

    aws_network: AwsNetworkLike
    cluster: aws.eks.Cluster
    node_group: aws.eks.NodeGroup
    security_group_id: pulumi.Output[str]
    """The EKS cluster security group (control plane and managed nodes)."""
    load_balancer_controller: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:EksCluster", name, None, opts)
        spec = args.spec
        if spec.cloud != "aws" or spec.region is None or spec.network is None or spec.service_cidr is None:
            raise ValueError(f"cluster {spec.name!r} needs cloud aws, a region and filled defaults")
        if spec.nodes.min > spec.nodes.max:
            raise ValueError(f"cluster {spec.name!r}: nodes.min {spec.nodes.min} exceeds nodes.max {spec.nodes.max}")
        region = spec.region
        tags = dict(args.tags)
        names = EksNames.of(args.name_prefix, spec.name)
        protect = spec.deletion_protection
        network: AwsNetworkLike = args.network or AwsNetwork(
            f"{name}-network",
            AwsNetworkArgs(
                network=spec.network,
                region=region,
                clusters=[spec],
                tags=tags,
                name_prefix=args.name_prefix,
                protect=protect,
            ),
            opts=child_opts(self),
        )
        if network.region != region:
            raise ValueError(f"cluster {spec.name!r} is in {region}, its network in {network.region}")
        self.aws_network = network
        private_subnets = network.private_subnet_ids(spec.name)

        # -- IAM --
        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            name=names.cluster_role,
            assume_role_policy=_trust("eks.amazonaws.com"),
            tags=tags,
            opts=child_opts(self),
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-role-eks",
            role=cluster_role.name,
            policy_arn=_managed_policy(region, "AmazonEKSClusterPolicy"),
            opts=child_opts(self),
        )
        node_role = aws.iam.Role(
            f"{name}-node-role",
            name=names.node_role,
            assume_role_policy=_trust("ec2.amazonaws.com"),
            tags=tags,
            opts=child_opts(self),
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-role-{suffix}",
                role=node_role.name,
                policy_arn=_managed_policy(region, policy),
                opts=child_opts(self),
            )
            for suffix, policy in (
                ("worker", "AmazonEKSWorkerNodePolicy"),
                ("cni", "AmazonEKS_CNI_Policy"),
                ("ecr", "AmazonEC2ContainerRegistryReadOnly"),
            )
        ]

        # -- internal east-west addresses, kept free before anything takes addresses in the subnets --
        reservations = []
        if args.east_west_gateway and spec.east_west_internal:
            ids, cidrs = network.private_subnet_ids(spec.name), network.private_subnet_cidrs(spec.name)
            reservations = [
                aws.ec2.SubnetCidrReservation(
                    f"{name}-east-west-{_zone_letter(index)}",
                    subnet_id=_nth(ids, index),
                    cidr_block=_nth(cidrs, index).apply(lambda cidr: f"{_fixed_host(cidr)}/32"),
                    reservation_type="explicit",
                    description=f"east-west gateway of {spec.name}",
                    region=region,
                    opts=child_opts(self),
                )
                for index in range(network.private_subnet_count(spec.name))
            ]

        # -- control plane --
        public_access = pulumi.Output.from_input(args.api_access_cidrs).apply(
            lambda cidrs: self._checked_access(spec.name, list(cidrs))
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=names.cluster,
            role_arn=cluster_role.arn,
            version=spec.kubernetes_version,
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True
            ),
            # Private subnets only: EKS puts its control-plane interfaces there, not beside the NAT gateways.
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=private_subnets,
                endpoint_private_access=True,
                endpoint_public_access=public_access.apply(bool),
                public_access_cidrs=public_access.apply(lambda cidrs: cidrs or None),
            ),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=str(spec.service_cidr)
            ),
            deletion_protection=protect,
            region=region,
            tags=tags,
            opts=child_opts(self, depends_on=[cluster_policy, *reservations], protect=protect),
        )
        self._admin_access(name, args.admins, region, tags)
        self.security_group_id = self.cluster.vpc_config.apply(lambda config: str(config.cluster_security_group_id))

        # Managed nodes carry the cluster security group: admit the mesh ports from the VPC
        # (NLB health checks and targets with client IPs not preserved). Traffic between members of the
        # group (control plane -> LBC webhook on 9443, -> istiod on 15017) is already allowed
        # by the group's own self-referencing rule. One rule per port and range: a cluster joining
        # or leaving the network adds or removes rules and replaces none.
        for port in MESH_PORTS:
            for owner, cidr in network.ingress_cidrs(spec.name).items():
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-mesh-{port}-from-{owner}",
                    security_group_id=self.security_group_id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"Istio {port} from the {spec.network} VPC",
                    region=region,
                    opts=child_opts(self),
                )
        # Clusters of one Istio network reach each other directly: sidecars connect to the
        # other cluster's pod IPs on application ports, and a primary's istiod reads the other
        # API server through its private endpoint (inside the shared VPC the endpoint's name
        # resolves to the private interfaces, which carry this security group).
        for peer in network.cluster_names:
            if peer == spec.name:
                continue
            cidrs = network.private_subnet_cidrs(peer)
            for index in range(network.private_subnet_count(peer)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-from-{peer}-{_zone_letter(index)}",
                    security_group_id=self.security_group_id,
                    ip_protocol="-1",
                    cidr_ipv4=_nth(cidrs, index),
                    description=f"Cluster {peer} on Istio network {spec.network}",
                    region=region,
                    opts=child_opts(self),
                )

        # -- nodes --
        nodes = spec.nodes
        self.node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=self.cluster.name,
            # A prefix, not a name: a change that replaces the group (instance type, disk) creates the
            # new group before deleting the old one, so istiod, gateways and CoreDNS always have nodes.
            node_group_name_prefix=names.node_group_prefix,
            node_role_arn=node_role.arn,
            subnet_ids=private_subnets,
            instance_types=[nodes.instance_type or DEFAULT_INSTANCE_TYPE],
            disk_size=nodes.disk_size_gb,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=nodes.min, max_size=nodes.max, desired_size=_desired_size(nodes.min, nodes.max)
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            region=region,
            tags=tags,
            opts=child_opts(self, depends_on=node_policies),
        )

        # -- Kubernetes access --
        cluster_name = spec.name
        token_args = token_command(names.cluster, region, *_deployer_identity(args))
        self.endpoint = self.cluster.endpoint
        self.certificate_authority = self.cluster.certificate_authority.apply(lambda ca: str(ca.data))
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.endpoint, self.certificate_authority).apply(
                lambda found: exec_kubeconfig(cluster_name, str(found[0]), str(found[1]), "aws", token_args)
            )
        )
        # Through its provider every Kubernetes resource waits for the nodes and for the network's
        # egress path, and on destroy goes first: the load balancer controller still reaches the
        # ELB API through the NAT gateways while it removes the east-west NLB.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=cluster_name,
            # Secrets change in place (a renewed intermediate in `cacerts`, a rotated token) rather than being
            # deleted and re-created (pulumi-kubernetes `diff.go` replaces a Secret on any data change otherwise).
            enable_secret_mutable=True,
            opts=child_opts(self, depends_on=[self.node_group, *network.egress_path(spec.name)]),
        )

        # -- east-west address --
        self.load_balancer_controller = None
        self.east_west = None
        self.kubernetes_ready = []
        self.istio_namespace_labels = {}
        if args.east_west_gateway or spec.ingress_gateway is not None:
            controller = self._load_balancer_controller(name, names, spec, region, network, tags)
            self.load_balancer_controller = controller
            if args.east_west_gateway:
                self.east_west = self._east_west(name, names, spec, region, network, controller, tags)
            # Its webhooks mutate Services (and gateway pods): nothing of Istio's goes in before it is ready.
            self.kubernetes_ready = [controller]
            # Gateway pods count as ready only once their NLB target is healthy: rollouts drop no traffic.
            self.istio_namespace_labels = {READINESS_GATE_LABEL: "enabled"}

        self.cluster_name = cluster_name
        self.cloud = "aws"
        self.network = spec.network
        self.egress_ips = network.egress_ips
        self.egress_known = network.egress_known
        # EKS's default control-plane egress (AWS_MANAGED) leaves from addresses AWS chooses, so a
        # remote's webhook calls to its primary's gateway cannot be admitted by IP.
        self.control_plane_egress_known = False
        self.register_outputs(self.mesh_outputs())

    def _checked_access(self, cluster: str, cidrs: list[str]) -> list[str]:
        """Warn about an API server nobody outside the VPC can reach, or that everybody can."""
        if not cidrs:
            pulumi.log.warn(
                f"EKS cluster {cluster}: no API access CIDRs, so the public endpoint is off and "
                "the API server admits nobody from outside the VPC (not even this deployment). "
                "Set `mesh:adminCidrs` to the networks you run `pulumi up` from.",
                resource=self,
            )
        elif any(ipaddress.ip_network(cidr, strict=False).prefixlen == 0 for cidr in cidrs):
            pulumi.log.warn(
                f"EKS cluster {cluster}: the API server is open to the whole internet ({cidrs}).",
                resource=self,
            )
        return cidrs

    def _admin_access(
        self, name: str, admins: Sequence[str], region: str, tags: Mapping[str, str]
    ) -> list[pulumi.Resource]:
        """Cluster-admin access entries for `admins`, so that a later `up` or `destroy` by them gets in."""
        made: list[pulumi.Resource] = []
        for principal in dict.fromkeys(admins):
            label = hashlib.sha256(principal.encode()).hexdigest()[:8]
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{label}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                region=region,
                tags=tags,
                opts=child_opts(self),
            )
            made.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{label}",
                    cluster_name=self.cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=f"arn:{_partition(region)}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    region=region,
                    opts=child_opts(self),
                )
            )
        return made

    def _load_balancer_controller(
        self,
        name: str,
        names: EksNames,
        spec: ClusterSpec,
        region: str,
        network: AwsNetworkLike,
        tags: Mapping[str, str],
    ) -> k8s.helm.v3.Release:
        """The AWS Load Balancer Controller, authorised through EKS Pod Identity."""
        agent = aws.eks.Addon(
            f"{name}-pod-identity-agent",
            cluster_name=self.cluster.name,
            addon_name="eks-pod-identity-agent",
            resolve_conflicts_on_create="OVERWRITE",
            region=region,
            tags=tags,
            opts=child_opts(self, depends_on=[self.node_group]),  # its DaemonSet needs nodes to turn ACTIVE
        )
        role = aws.iam.Role(
            f"{name}-lbc-role",
            name=names.load_balancer_controller_role,
            assume_role_policy=_trust("pods.eks.amazonaws.com", actions=("sts:AssumeRole", "sts:TagSession")),
            tags=tags,
            opts=child_opts(self),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-lbc-policy",
            name="AWSLoadBalancerController",
            role=role.id,
            policy=_in_partition(LBC_IAM_POLICY, _partition(region)),
            opts=child_opts(self),
        )
        association = aws.eks.PodIdentityAssociation(
            f"{name}-lbc",
            cluster_name=self.cluster.name,
            namespace=_LBC_NAMESPACE,
            service_account=LBC_SERVICE_ACCOUNT,
            role_arn=role.arn,
            region=region,
            tags=tags,
            opts=child_opts(self),
        )
        # Pods get Pod Identity credentials only if the association (and the role's
        # permissions) exist when they start.
        return k8s.helm.v3.Release(
            f"{name}-aws-load-balancer-controller",
            name=LBC_CHART,
            chart=LBC_CHART,
            version=LBC_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LBC_CHART_REPOSITORY),
            namespace=_LBC_NAMESPACE,
            values={
                "clusterName": self.cluster.name,
                "region": region,
                "vpcId": network.vpc_id,
                "serviceAccount": {"create": True, "name": LBC_SERVICE_ACCOUNT},
            },
            opts=child_opts(self, provider=self.provider, depends_on=[agent, association, policy]),
        )

    def load_balancer_annotations(self, internal: bool) -> dict[str, str]:
        """An NLB from the AWS Load Balancer Controller (see `nlb_annotations`)."""
        return nlb_annotations(internal)

    def _east_west(
        self,
        name: str,
        names: EksNames,
        spec: ClusterSpec,
        region: str,
        network: AwsNetworkLike,
        controller: k8s.helm.v3.Release,
        tags: Mapping[str, str],
    ) -> EastWestExposure:
        """Addresses fixed in advance, and the annotations that make the LBC's NLB use them.

        Every annotation value depends on the controller's release, so a Service that uses
        them is deleted before the controller (which then removes the NLB first).
        """
        if spec.east_west_internal:
            count = network.private_subnet_count(spec.name)
            addresses = network.private_subnet_cidrs(spec.name).apply(
                lambda cidrs: [_fixed_host(cidr) for cidr in cidrs]
            )
            annotations: dict[str, pulumi.Input[str]] = {
                **nlb_annotations(internal=True),
                f"{_LB}-subnets": network.private_subnet_ids(spec.name).apply(",".join),
                f"{_LB}-private-ipv4-addresses": addresses.apply(",".join),
            }
        else:
            count = network.public_subnet_count(spec.name)
            if count == 0:
                raise pulumi.RunError(
                    f"cluster {spec.name!r}: an internet-facing east-west gateway needs publicSubnetIds "
                    "(or set eastWestInternal)"
                )
            eips = [
                aws.ec2.Eip(
                    f"{name}-east-west-{_zone_letter(index)}",
                    domain="vpc",
                    region=region,
                    tags={**tags, "Name": f"{names.cluster}-east-west-{_zone_letter(index)}"},
                    opts=child_opts(self, protect=spec.deletion_protection),
                )
                for index in range(count)
            ]
            addresses = pulumi.Output.all(*[eip.public_ip for eip in eips]).apply(_strings)
            allocations = pulumi.Output.all(*[eip.allocation_id for eip in eips]).apply(_strings)
            annotations = {
                **nlb_annotations(internal=False),
                f"{_LB}-subnets": network.public_subnet_ids(spec.name).apply(",".join),
                f"{_LB}-eip-allocations": allocations.apply(",".join),
            }
        return EastWestExposure(
            addresses=addresses,
            count=count,
            annotations={key: _after(controller, value) for key, value in annotations.items()},
        )
