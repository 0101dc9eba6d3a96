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
from meshlib.offline.render import COMPUTED

__all__ = [
    "REPLACE_ON",
    "Change",
    "Forcing",
    "InputChange",
    "Snapshot",
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
    "kubernetes:batch/v1:Job": Forcing(
        (
            "metadata.name",
            "metadata.namespace",
            "spec.completions",
            "spec.parallelism",
            "spec.selector",
            "spec.template",
        ),
        _K8S + "diff.go forceNew: Job .spec.completions, .parallelism, .selector, .template; metadata",
    ),
    "kubernetes:apps/v1:Deployment": Forcing(
        ("metadata.name", "metadata.namespace", "spec.selector"),
        _K8S + "diff.go forceNew: Deployment .spec.selector; metadata",
    ),
    "kubernetes:core/v1:Service": Forcing(
        ("metadata.name", "metadata.namespace", "spec.clusterIP"),
        _K8S + "diff.go forceNew: Service .spec.clusterIP; metadata",
    ),
    "kubernetes:apiextensions.k8s.io:CustomResource": Forcing(
        ("metadata.name", "metadata.namespace", "apiVersion", "kind"),
        _K8S + "provider.go Diff: forceNewFields .metadata.name, .metadata.namespace",
    ),
}

Action = Literal["create", "update", "replace", "delete", "same"]


@dataclass(frozen=True)
class Snapshot:
    """One resource as a program run or an offline plan shows it: enough to say what an update does."""

    key: str
    """Its identity: the URN in a run, `type::name` in a plan."""
    type: str
    name: str
    inputs: Mapping[str, Any]
    """Plain input values (`(computed)` where a plan cannot know them)."""
    inputs_from: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per top-level input, the keys of the resources its value came from."""
    provider: str = ""
    """The key of its explicit provider."""
    parent: str = ""
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Keys it had before (`ResourceOptions.aliases`): the same resource, updated, not replaced."""

    @classmethod
    def of_run(cls, resource: Registered) -> Snapshot:
        """A resource as the mock engine registered it (keyed by URN)."""
        return cls(
            key=resource.urn,
            type=resource.type,
            name=resource.name,
            inputs=unwrap(resource.inputs),
            inputs_from=resource.property_dependencies,
            provider=resource.provider.rsplit("::", 1)[0] if resource.provider else "",
            parent=resource.parent,
            protect=resource.protect,
            ignore_changes=resource.ignore_changes,
            aliases=resource.aliases,
        )

    @classmethod
    def of_plan(cls, resource: Mapping[str, Any]) -> Snapshot:
        """A resource of a plan document (`meshlib.offline.render.plan_document`), keyed `type::name`."""
        provider = resource.get("provider") or ""
        return cls(
            key=f"{resource['type']}::{resource['name']}",
            type=resource["type"],
            name=resource["name"],
            inputs=resource.get("inputs", {}),
            inputs_from={top: tuple(keys) for top, keys in resource.get("inputsFrom", {}).items()},
            # Plans name providers, not their type: meshlib passes only Kubernetes providers explicitly.
            provider=f"pulumi:providers:kubernetes::{provider}" if provider else "",
            parent=resource.get("parent") or "",
        )


@dataclass(frozen=True)
class InputChange:
    """One input path with its old and new value (`...` where it is absent)."""

    path: str
    old: Any
    new: Any
    forces_replacement: bool = False


@dataclass
class Change:
    """What `pulumi up` would do to one resource going from the old config to the new one."""

    key: str
    type: str
    name: str
    action: Action
    inputs: list[InputChange] = field(default_factory=list)
    because: list[str] = field(default_factory=list)
    """For a change that follows a replacement (through a value or the provider): the keys of the chain."""
    possibly: bool = False
    """It follows a value known only at deploy time: Pulumi may or may not replace (or update) it."""
    protected: bool = False
    """The old resource is protected: Pulumi refuses to delete or replace it (at preview)."""

    @property
    def urn(self) -> str:
        return self.key

    @property
    def forcing(self) -> list[str]:
        """The changed inputs that force the replacement."""
        return [item.path for item in self.inputs if item.forces_replacement]

    @property
    def paths(self) -> list[str]:
        """The inputs that force the replacement, or else every changed input."""
        return self.forcing or [item.path for item in self.inputs]


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


def changes(old: Iterable[Registered | Snapshot], new: Iterable[Registered | Snapshot]) -> dict[str, Change]:
    """What deploying `new` over a deployed `old` does to each resource, by key (URN).

    A replaced resource gets a new id, so whatever takes a replace-forcing input from it
    (per `inputs_from`), or uses it as provider, is replaced too; what takes any other
    input from it is possibly updated.
    """
    before = {s.key: s for s in map(_snapshot, old)}
    after = {s.key: s for s in map(_snapshot, new)}
    renamed = {  # new key -> the old key an alias carries over
        key: next(alias for alias in resource.aliases if alias in before and alias not in after)
        for key, resource in after.items()
        if key not in before and any(alias in before and alias not in after for alias in resource.aliases)
    }
    result: dict[str, Change] = {}
    for key, resource in after.items():
        previous = before.get(key) or before.get(renamed.get(key, ""))
        result[key] = _compare(previous, resource) if previous else Change(key, resource.type, resource.name, "create")
    for key, resource in before.items():
        if key not in after and key not in renamed.values():
            result[key] = Change(key, resource.type, resource.name, "delete", protected=resource.protect)
    _follow_replacements(result, after)
    return result


def _snapshot(resource: Registered | Snapshot) -> Snapshot:
    return resource if isinstance(resource, Snapshot) else Snapshot.of_run(resource)


def _compare(previous: Snapshot, resource: Snapshot) -> Change:
    paths = [  # ignoreChanges: Pulumi keeps the old value, so the input does not change at all
        path
        for path in changed_paths(previous.inputs, resource.inputs)
        if not any(_under(path, ignored) for ignored in resource.ignore_changes)
    ]
    forcing = {*forcing_paths(resource.type, paths), *_subnetwork_shrink(resource, previous)}
    old, new = flatten(previous.inputs), flatten(resource.inputs)
    inputs = [InputChange(p, old.get(p, ...), new.get(p, ...), p in forcing) for p in paths]
    change = Change(resource.key, resource.type, resource.name, "same", inputs, protected=previous.protect)
    if (previous.parent, previous.provider) != (resource.parent, resource.provider):
        change.action, change.because = "replace", ["a new parent or provider"]  # a new URN for Pulumi
    elif forcing:
        change.action = "replace"
        change.possibly = any(new.get(p) == COMPUTED and old.get(p) != COMPUTED for p in forcing)
    elif paths:
        change.action = "update"
    return change


def _follow_replacements(result: dict[str, Change], after: Mapping[str, Snapshot]) -> None:
    """Replace what takes a replace-forcing input from a replaced resource or uses it as provider; what
    takes any other input from one is possibly updated."""
    changed = True
    while changed:
        changed = False
        replaced = {key: change for key, change in result.items() if change.action == "replace"}
        for key, resource in after.items():
            current = result[key]
            if current.action in ("replace", "create"):
                continue
            fed = {
                top: [source for source in sources if source in replaced and source != key]
                for top, sources in resource.inputs_from.items()
            }
            fed = {top: sources for top, sources in fed.items() if sources}
            forced_by = [sources[0] for top, sources in fed.items() if _forces_at_or_below(resource.type, top)]
            if resource.provider in replaced:
                forced_by.insert(0, resource.provider)
            if not forced_by and not fed:
                continue
            upstream = forced_by[0] if forced_by else next(iter(fed.values()))[0]
            chain = [*replaced[upstream].because, upstream]
            action: Action = "replace" if forced_by else "update"
            if current.because == chain and current.action == action:
                continue
            current.action, current.because, current.possibly = action, chain, True
            changed = True


def _forces_at_or_below(type_: str, top: str) -> bool:
    """Whether input `top`, or a path inside it, forces replacement of a `type_`."""
    return any(_under(path, top) or _under(top, path) for path in _forcing(type_))


def _subnetwork_shrink(resource: Snapshot, previous: Snapshot) -> list[str]:
    """A GCP subnetwork's range replaces it unless the new range contains the old one (expanded in place)."""
    if resource.type != "gcp:compute/subnetwork:Subnetwork":
        return []
    old, new = previous.inputs.get("ipCidrRange"), resource.inputs.get("ipCidrRange")
    if old == new or old is None or new is None or COMPUTED in (old, new):
        return []
    return [] if ipaddress.IPv4Network(old).subnet_of(ipaddress.IPv4Network(new)) else ["ipCidrRange"]


def _under(path: str, known: str) -> bool:
    return path == known or path.startswith((f"{known}.", f"{known}["))
