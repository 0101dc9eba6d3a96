"""Which input changes make Pulumi replace a resource, and what two runs of a program would do.

`REPLACE_ON` is the curated table of replace-forcing inputs for every resource type meshlib
creates: the paths the upstream provider marks `ForceNew` / `RequiresReplace` (bridged
providers pass exactly those through), each type with its source. `changes(old, new)`
compares two runs of the program on the mock engine resource by resource (by URN), as
`pulumi preview` would after the first run was deployed: create, delete, update or replace,
with the inputs that force each replacement and the chain of replacements a computed value
carries (a replaced VPC gets a new id, so its subnets are replaced too).

Paths are Pulumi input names; a path also covers everything below it (`subject` covers
`subject.commonName`, `subnetIds` covers `subnetIds[1]`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from meshlib.offline.engine import Registered, unwrap

__all__ = [
    "REPLACE_ON",
    "Change",
    "Forcing",
    "changed_paths",
    "changes",
    "flatten",
    "forcing_paths",
    "replace_rule",
]

_TF_AWS = "hashicorp/terraform-provider-aws internal/service/"
_TF_GOOGLE = "hashicorp/terraform-provider-google google/services/"
_TF_TLS = "hashicorp/terraform-provider-tls internal/provider/"
_K8S = "pulumi/pulumi-kubernetes provider/pkg/provider/"


@dataclass(frozen=True)
class Forcing:
    """The replace-forcing inputs of one resource type, and where that is written."""

    paths: tuple[str, ...]
    source: str


_REGION = ("region",)  # pulumi-aws 7: every regional resource replaces on a region change (sdkv2/region.go)
REPLACE_ON: dict[str, Forcing] = {
    # -- AWS (pulumi-aws 7 bridges terraform-provider-aws 6) --
    "aws:ec2/vpc:Vpc": Forcing(
        ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", *_REGION), _TF_AWS + "ec2/vpc_.go: ForceNew"
    ),
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": Forcing(
        ("vpcId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", *_REGION),
        _TF_AWS + "ec2/vpc_ipv4_cidr_block_association.go: no Update, every input ForceNew",
    ),
    "aws:ec2/subnet:Subnet": Forcing(
        ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6Native", "outpostArn", *_REGION),
        _TF_AWS + "ec2/vpc_subnet.go: ForceNew",
    ),
    "aws:ec2/internetGateway:InternetGateway": Forcing(
        _REGION, _TF_AWS + "ec2/vpc_internet_gateway.go: vpc_id re-attaches in place"
    ),
    "aws:ec2/routeTable:RouteTable": Forcing(("vpcId", *_REGION), _TF_AWS + "ec2/vpc_route_table.go: ForceNew"),
    "aws:ec2/route:Route": Forcing(
        ("routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId", *_REGION),
        _TF_AWS + "ec2/vpc_route.go: ForceNew; targets change in place (ReplaceRoute)",
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Forcing(
        ("subnetId", "gatewayId", *_REGION), _TF_AWS + "ec2/vpc_route_table_association.go: ForceNew"
    ),
    "aws:ec2/eip:Eip": Forcing(
        ("address", "domain", "networkBorderGroup", "publicIpv4Pool", "customerOwnedIpv4Pool", "ipamPoolId", *_REGION),
        _TF_AWS + "ec2/ec2_eip.go: ForceNew",
    ),
    "aws:ec2/natGateway:NatGateway": Forcing(
        ("allocationId", "subnetId", "connectivityType", "privateIp", "availabilityMode", "vpcId", *_REGION),
        _TF_AWS + "ec2/vpc_nat_gateway.go: ForceNew",
    ),
    "aws:ec2/subnetCidrReservation:SubnetCidrReservation": Forcing(
        ("subnetId", "cidrBlock", "reservationType", "description", *_REGION),
        _TF_AWS + "ec2/vpc_subnet_cidr_reservation.go: no Update, every input ForceNew",
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Forcing(
        ("securityGroupId", *_REGION),
        _TF_AWS + "ec2/vpc_security_group_ingress_rule.go: RequiresReplace; the source value changes in place",
    ),
    "aws:eks/cluster:Cluster": Forcing(
        (
            "name",
            "roleArn",
            "kubernetesNetworkConfig.serviceIpv4Cidr",
            "kubernetesNetworkConfig.ipFamily",
            "bootstrapSelfManagedAddons",
            "accessConfig.bootstrapClusterCreatorAdminPermissions",
            *_REGION,
        ),
        _TF_AWS + "eks/cluster.go: ForceNew; version, access CIDRs, subnets (since 5.25) change in place",
    ),
    "aws:eks/nodeGroup:NodeGroup": Forcing(
        (
            "clusterName",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "subnetIds",
            "amiType",
            "capacityType",
            "diskSize",
            "instanceTypes",
            "launchTemplate.id",
            "launchTemplate.name",
            "remoteAccess",
            *_REGION,
        ),
        _TF_AWS + "eks/node_group.go: ForceNew; scalingConfig, labels, version change in place",
    ),
    "aws:eks/addon:Addon": Forcing(
        ("clusterName", "addonName", "namespaceConfig", *_REGION), _TF_AWS + "eks/addon.go: ForceNew"
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": Forcing(
        ("clusterName", "namespace", "serviceAccount", *_REGION),
        _TF_AWS + "eks/pod_identity_association.go: RequiresReplace",
    ),
    "aws:eks/accessEntry:AccessEntry": Forcing(
        ("clusterName", "principalArn", "type", *_REGION), _TF_AWS + "eks/access_entry.go: ForceNew"
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": Forcing(
        ("clusterName", "principalArn", "policyArn", "accessScope", *_REGION),
        _TF_AWS + "eks/access_policy_association.go: no Update, every input ForceNew",
    ),
    "aws:iam/role:Role": Forcing(("name", "namePrefix", "path"), _TF_AWS + "iam/role.go: ForceNew"),
    "aws:iam/rolePolicy:RolePolicy": Forcing(("role", "name", "namePrefix"), _TF_AWS + "iam/role_policy.go: ForceNew"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Forcing(
        ("role", "policyArn"), _TF_AWS + "iam/role_policy_attachment.go: no Update"
    ),
    # -- GCP (pulumi-gcp 10 bridges terraform-provider-google(-beta)) --
    "gcp:compute/network:Network": Forcing(
        ("name", "project", "autoCreateSubnetworks", "description", "internalIpv6Range", "networkProfile", "params"),
        _TF_GOOGLE + "compute/resource_compute_network.go: ForceNew",
    ),
    "gcp:compute/subnetwork:Subnetwork": Forcing(
        ("name", "project", "network", "region", "description", "reservedInternalRange", "params"),
        _TF_GOOGLE + "compute/resource_compute_subnetwork.go: ForceNew; ipCidrRange only when it shrinks or moves "
        "(checked separately), secondaryIpRanges in place",
    ),
    "gcp:compute/router:Router": Forcing(
        ("name", "project", "network", "region", "encryptedInterconnectRouter", "params"),
        _TF_GOOGLE + "compute/resource_compute_router.go: ForceNew",
    ),
    "gcp:compute/routerNat:RouterNat": Forcing(
        ("name", "project", "router", "region", "type", "endpointTypes", "initialNatIps"),
        _TF_GOOGLE + "compute/resource_compute_router_nat.go: ForceNew; natIps and subnetworks in place",
    ),
    "gcp:compute/address:Address": Forcing(
        (
            "name",
            "project",
            "address",
            "addressType",
            "description",
            "ipVersion",
            "network",
            "networkTier",
            "prefixLength",
            "purpose",
            "region",
            "subnetwork",
        ),
        _TF_GOOGLE + "compute/resource_compute_address.go: ForceNew; only labels change in place",
    ),
    "gcp:compute/firewall:Firewall": Forcing(
        # `network` is not ForceNew in the schema, but GCE cannot move a rule between networks.
        ("name", "project", "direction", "params", "network"),
        _TF_GOOGLE + "compute/resource_compute_firewall.go: ForceNew; ranges, ports, tags in place",
    ),
    "gcp:container/cluster:Cluster": Forcing(
        (
            "name",
            "project",
            "location",
            "network",
            "subnetwork",
            "description",
            "initialNodeCount",
            "networkingMode",
            "enableAutopilot",
            "privateClusterConfig.masterIpv4CidrBlock",
            "ipAllocationPolicy.clusterSecondaryRangeName",
            "ipAllocationPolicy.servicesSecondaryRangeName",
            "ipAllocationPolicy.clusterIpv4CidrBlock",
            "ipAllocationPolicy.servicesIpv4CidrBlock",
        ),
        _TF_GOOGLE + "container/resource_container_cluster.go: ForceNew; versions, channel, authorized networks "
        "in place",
    ),
    "gcp:container/nodePool:NodePool": Forcing(
        (
            "name",
            "namePrefix",
            "project",
            "cluster",
            "location",
            "initialNodeCount",
            "maxPodsPerNode",
            "nodeConfig.serviceAccount",
            "nodeConfig.oauthScopes",
            "nodeConfig.metadata",
            "nodeConfig.spot",
            "nodeConfig.preemptible",
            "nodeConfig.shieldedInstanceConfig",
            "nodeConfig.guestAccelerators",
            "nodeConfig.localSsdCount",
        ),
        _TF_GOOGLE + "container/resource_container_node_pool.go, node_config.go: ForceNew; machineType, diskSizeGb, "
        "diskType change in place since 5.10 (GKE rolls the nodes)",
    ),
    "gcp:serviceaccount/account:Account": Forcing(
        ("accountId", "project"), _TF_GOOGLE + "resourcemanager/resource_google_service_account.go: ForceNew"
    ),
    "gcp:projects/iAMMember:IAMMember": Forcing(
        ("project", "role", "member", "condition"),
        "hashicorp/terraform-provider-google google/tpgiamresource/resource_iam_member.go: every input ForceNew",
    ),
    # -- TLS (pulumi-tls 5 bridges terraform-provider-tls 4) --
    "tls:index/privateKey:PrivateKey": Forcing(
        ("algorithm", "rsaBits", "ecdsaCurve"), _TF_TLS + "resource_private_key.go: RequiresReplace"
    ),
    "tls:index/selfSignedCert:SelfSignedCert": Forcing(
        (
            "privateKeyPem",
            "validityPeriodHours",
            "allowedUses",
            "dnsNames",
            "ipAddresses",
            "uris",
            "isCaCertificate",
            "maxPathLength",
            "setSubjectKeyId",
            "setAuthorityKeyId",
            "subject",
        ),
        _TF_TLS + "resource_self_signed_cert.go: RequiresReplace; earlyRenewalHours in place, and the plan "
        "replaces the certificate once inside its renewal window (readyForRenewal)",
    ),
    "tls:index/certRequest:CertRequest": Forcing(
        ("privateKeyPem", "dnsNames", "ipAddresses", "uris", "subject"),
        _TF_TLS + "resource_cert_request.go: RequiresReplace",
    ),
    "tls:index/locallySignedCert:LocallySignedCert": Forcing(
        (
            "certRequestPem",
            "caCertPem",
            "caPrivateKeyPem",
            "validityPeriodHours",
            "allowedUses",
            "isCaCertificate",
            "maxPathLength",
            "setSubjectKeyId",
        ),
        _TF_TLS + "resource_locally_signed_cert.go: RequiresReplace; earlyRenewalHours in place (readyForRenewal)",
    ),
    # -- Kubernetes (pulumi-kubernetes' own rules) --
    "pulumi:providers:kubernetes": Forcing(
        ("clusterIdentifier",),
        _K8S + "provider.go DiffConfig: with clusterIdentifier set, only a change of it replaces the provider",
    ),
    "kubernetes:helm.sh/v3:Release": Forcing(
        ("name", "namespace"), _K8S + "helm_release.go: forceNewFields .name, .namespace"
    ),
    "kubernetes:core/v1:Secret": Forcing(
        # data/stringData/type also replace unless the provider sets enableSecretMutable (meshlib's do).
        ("metadata.name", "metadata.namespace", "type"),
        _K8S + "diff.go forceNewProperties: metadata; Secret data only without enableSecretMutable",
    ),
    "kubernetes:core/v1:Namespace": Forcing(("metadata.name",), _K8S + "diff.go metadataForceNewProperties"),
    "kubernetes:core/v1:ServiceAccount": Forcing(
        ("metadata.name", "metadata.namespace"), _K8S + "diff.go metadataForceNewProperties"
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": Forcing(
        ("metadata.name",), _K8S + "diff.go metadataForceNewProperties"
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": Forcing(
        ("metadata.name", "metadata.namespace"), _K8S + "diff.go metadataForceNewProperties"
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": Forcing(
        ("metadata.name", "roleRef"), _K8S + "diff.go forceNew: ClusterRoleBinding .roleRef (immutable)"
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": Forcing(
        ("metadata.name", "metadata.namespace", "roleRef"), _K8S + "diff.go forceNew: RoleBinding .roleRef (immutable)"
    ),
    "kubernetes:apiextensions.k8s.io:CustomResource": Forcing(
        ("metadata.name", "metadata.namespace", "apiVersion", "kind"),
        _K8S + "provider.go Diff: forceNewFields .metadata.name, .metadata.namespace",
    ),
}

Action = Literal["create", "update", "replace", "delete", "same"]


@dataclass
class Change:
    """What `pulumi up` would do to one resource going from the old run to the new one."""

    urn: str
    type: str
    name: str
    action: Action
    paths: list[str] = field(default_factory=list)
    """Inputs that differ (for replace: the ones forcing it)."""
    because: list[str] = field(default_factory=list)
    """For a replacement through a computed value or the provider: the replaced resources it follows."""
    protected: bool = False
    """The old resource is protected: Pulumi refuses to delete or replace it (at preview)."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`value` as `{path: leaf}`, paths spelled like `a.b[0].c`."""
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The leaf paths whose values differ between two input maps."""
    before, after = flatten(old), flatten(new)
    return sorted(path for path in before.keys() | after.keys() if before.get(path, ...) != after.get(path, ...))


def replace_rule(type_: str) -> Forcing | None:
    """The table's entry for `type_`; Istio custom resources share the generic Kubernetes object's."""
    if type_ in REPLACE_ON:
        return REPLACE_ON[type_]
    if type_.startswith("kubernetes:") and "istio.io/" in type_:
        return REPLACE_ON["kubernetes:apiextensions.k8s.io:CustomResource"]
    return None


def forcing_paths(type_: str, paths: Iterable[str]) -> list[str]:
    """Those of the changed `paths` that make Pulumi replace a resource of `type_`."""
    return [path for path in paths if any(_under(path, known) for known in _forcing(type_))]


def _forcing(type_: str) -> tuple[str, ...]:
    rule = replace_rule(type_)
    return rule.paths if rule is not None else ()


def changes(old: Iterable[Registered], new: Iterable[Registered]) -> dict[str, Change]:
    """What deploying `new` over a deployed `old` does to each resource, by URN.

    Both runs must be deployed-mode runs (computed outputs filled), so that values one
    resource takes from another can be traced.
    """
    before = {r.urn: r for r in old}
    after = {r.urn: r for r in new}
    result: dict[str, Change] = {}
    for urn, resource in after.items():
        if urn not in before:
            result[urn] = Change(urn, resource.type, resource.name, "create")
            continue
        previous = before[urn]
        paths = [  # ignoreChanges: Pulumi keeps the old value, so the input does not change at all
            path
            for path in changed_paths(unwrap(previous.inputs), unwrap(resource.inputs))
            if not any(_under(path, ignored) for ignored in resource.ignore_changes)
        ]
        forcing = forcing_paths(resource.type, paths) + _subnetwork_shrink(resource, previous)
        action: Action = "replace" if forcing else "update" if paths else "same"
        result[urn] = Change(urn, resource.type, resource.name, action, forcing or paths, protected=previous.protect)
    for urn, resource in before.items():
        if urn not in after:
            result[urn] = Change(urn, resource.type, resource.name, "delete", protected=resource.protect)
    _follow_replacements(result, before, after)
    return result


def _follow_replacements(
    result: dict[str, Change], before: Mapping[str, Registered], after: Mapping[str, Registered]
) -> None:
    """Replace what takes a forcing input from a replaced resource, or whose provider is replaced."""
    changed = True
    while changed:
        changed = False
        replaced = {urn: before[urn] for urn, change in result.items() if change.action == "replace"}
        identities = {urn: _identity(resource) for urn, resource in replaced.items()}
        for urn, change in result.items():
            if change.action not in ("same", "update"):
                continue
            resource = after[urn]
            forcing = _forcing(resource.type)
            values = [
                str(value)
                for path, value in flatten(unwrap(resource.inputs)).items()
                if any(_under(path, known) for known in forcing)
            ]
            because = sorted(
                other
                for other, identity in identities.items()
                if other != urn
                and (
                    resource.provider.startswith(f"{other}::")
                    or any(token in value for token in identity for value in values)
                )
            )
            if because:
                change.action, change.because, changed = "replace", because, True


def _identity(resource: Registered) -> set[str]:
    """Values only this resource's creation produced (its id and computed outputs), long enough to trace."""
    inputs = flatten(unwrap(resource.inputs))
    computed = {
        str(value)
        for path, value in flatten(unwrap(resource.outputs)).items()
        if path not in inputs and isinstance(value, str)
    }
    return {value for value in computed if len(value) >= 8}


def _subnetwork_shrink(resource: Registered, previous: Registered) -> list[str]:
    """A GCP subnetwork's range replaces it unless the new range contains the old one (expanded in place)."""
    if resource.type != "gcp:compute/subnetwork:Subnetwork":
        return []
    old, new = unwrap(previous.inputs).get("ipCidrRange"), unwrap(resource.inputs).get("ipCidrRange")
    if old == new or old is None or new is None:
        return []
    return [] if ipaddress.IPv4Network(old).subnet_of(ipaddress.IPv4Network(new)) else ["ipCidrRange"]


def _under(path: str, known: str) -> bool:
    return path == known or path.startswith((f"{known}.", f"{known}["))
