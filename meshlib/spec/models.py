"""The `mesh:*` stack-config model: shapes, field defaults and single-field rules.

Rules that relate several fields (names that must exist, CIDRs that must not
overlap) live in `meshlib.spec.rules`; defaults that depend on other fields are
filled by `meshlib.spec.defaults`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "DEFAULT_ISTIO_VERSION",
    "ISTIO_CHART_REPOSITORY",
    "SUPPORTED_ISTIO_MINOR",
    "ClusterCaSpec",
    "ClusterSpec",
    "IstioSpec",
    "KubeconfigSpec",
    "MeshSpec",
    "NetworkSpec",
    "NodesSpec",
    "RootCaSpec",
    "ServicePortSpec",
    "ServiceSpec",
    "is_ipv4",
]

DEFAULT_ISTIO_VERSION = "1.30.3"
SUPPORTED_ISTIO_MINOR = "1.30"
"""Every Helm value and manifest meshlib generates was checked against this Istio series."""
ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KUBERNETES_VERSION = re.compile(r"1\.[1-9]\d")
_ISTIO_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")  # canonical: no leading zeros
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label: use at most 63 lower-case letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return value


def _no_bare_number(value: Any) -> Any:
    """Refuse a YAML number where a version string is meant (`1.30` would read as 1.3)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f'write the version as a quoted string ("{value}" is read as a number)')
    return value


def _kubernetes_version(value: str) -> str:
    if not _KUBERNETES_VERSION.fullmatch(value):
        raise ValueError(f'{value!r} is not a Kubernetes minor version such as "1.33"')
    return value


def is_ipv4(address: str) -> bool:
    """Whether `address` is an IPv4 address (else, once validated, a DNS hostname)."""
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return True


def _address(value: str) -> str:
    """A routable IPv4 address or a DNS hostname (whose last label is not all digits)."""
    if is_ipv4(value):
        address = ipaddress.IPv4Address(value)
        if address.is_loopback or address.is_unspecified or address.is_multicast:
            raise ValueError(f"{value!r} is a loopback, unspecified or multicast address: no peer can reach it")
        return value
    if not _HOSTNAME.fullmatch(value) or value.rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"{value!r} is neither an IPv4 address nor a DNS hostname")
    return value


def _whole_number(value: Any) -> Any:
    """Refuse `true`/`false` where a number is meant (Python counts them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("a number is required, not true/false")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _cidr(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError(f'{value!r} is not an IPv4 network such as "10.0.0.0/16" ({error})') from None


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
KubernetesVersion = Annotated[str, BeforeValidator(_no_bare_number), AfterValidator(_kubernetes_version)]
Address = Annotated[str, AfterValidator(_address)]
Count = Annotated[int, BeforeValidator(_whole_number)]
Text = Annotated[str, AfterValidator(_not_blank)]
"""A string that must say something (an empty value where one is required is a mistake, not a default)."""
Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_cidr)]


class _Model(BaseModel):
    """Config models: camelCase keys, unknown keys refused, immutable once validated."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class IstioSpec(_Model):
    """Which Istio to install and from where (`mesh:istio`)."""

    version: Annotated[str, BeforeValidator(_no_bare_number)] = Field(
        DEFAULT_ISTIO_VERSION,
        description=f"Istio release, which is also the chart version; {SUPPORTED_ISTIO_MINOR}.x is supported.",
    )
    revision: DnsLabel | None = Field(
        None,
        description="Istio revision (e.g. `1-30`); istiod then runs as `istiod-<revision>`.",
    )
    chart_repository: str = Field(
        ISTIO_CHART_REPOSITORY, description="Helm repository serving the `base`, `istiod` and `gateway` charts."
    )

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        match = _ISTIO_VERSION.fullmatch(value)
        if not match or f"{match[1]}.{match[2]}" != SUPPORTED_ISTIO_MINOR:
            raise ValueError(
                f"Istio {value!r} is not supported: use a {SUPPORTED_ISTIO_MINOR}.x release such as "
                f'"{DEFAULT_ISTIO_VERSION}" (the chart values meshlib sets were checked against it)'
            )
        return value

    @field_validator("revision")
    @classmethod
    def _not_default(cls, value: str | None) -> str | None:
        if value == "default":
            raise ValueError("'default' is Istio's name for no revision: leave `revision` unset instead")
        return value


class NodesSpec(_Model):
    """Worker-node sizing of a provisioned cluster."""

    instance_type: Text | None = Field(
        None, description="EC2 instance type or GCE machine type; default m6i.large on AWS, e2-standard-4 on GCP."
    )
    min: Count = Field(2, ge=0, le=1000, description="Smallest node count (per zone on GKE).")
    max: Count = Field(5, ge=1, le=1000, description="Largest node count (per zone on GKE).")
    disk_size_gb: Count = Field(50, ge=20, le=4096, description="Root disk size of each node, in GiB.")


class KubeconfigSpec(_Model):
    """How to reach an existing cluster (`cloud: existing`)."""

    path: Text | None = Field(None, description="kubeconfig file; default `$KUBECONFIG`, then `~/.kube/config`.")
    context: Text | None = Field(None, description="Context in that file; default its current context.")
    secret: Text | None = Field(
        None,
        description="Name of a secret config key in namespace `mesh` holding the whole kubeconfig "
        "(`pulumi config set --secret mesh:<name> ...`); replaces `path`.",
    )


class RootCaSpec(_Model):
    """Bring-your-own root CA: names of secret config keys (namespace `mesh`) holding PEMs."""

    certificate: Text = Field(description="Config key holding the root certificate PEM.")
    private_key: Text = Field(description="Secret config key holding the root private key PEM.")


class ClusterCaSpec(_Model):
    """A cluster's CA from your own PKI (an entry of `mesh:clusterCas`): names of config keys in namespace `mesh`.

    The root's private key stays with you: meshlib only installs what these keys hold.
    """

    certificate: Text = Field(
        description="Config key holding the cluster's CA certificate PEM (`ca-cert.pem`): `CA:true`, `keyCertSign`."
    )
    private_key: Text = Field(
        description="Secret config key (`pulumi config set --secret`) holding that certificate's private key PEM "
        "(`ca-key.pem`), unencrypted."
    )
    chain: Text | None = Field(
        None,
        description="Config key holding the PEMs of the intermediates above the certificate, its issuer first, up "
        "to but excluding the root; omit when the root signed the certificate directly.",
    )
    root: Text = Field(
        description="Config key holding the root certificate PEM (`root-cert.pem`), the same root for every cluster."
    )


class ClusterSpec(_Model):
    """One Kubernetes cluster of the mesh (an item of `mesh:clusters`)."""

    name: DnsLabel = Field(description="Cluster name: the Istio cluster ID and the prefix of its resources.")
    cloud: Literal["aws", "gcp", "existing"] = Field(
        description="`aws` provisions EKS, `gcp` provisions GKE, `existing` adopts a cluster from a kubeconfig."
    )
    region: Text | None = Field(None, description="AWS or GCP region (required for `aws` and `gcp`).")
    project: Text | None = Field(None, description="GCP project id (required for `gcp`).")
    network: DnsLabel | None = Field(
        None,
        description="Istio network: clusters whose pod IPs route to each other. Default: the cluster name "
        "(a network of its own).",
    )
    role: Literal["primary", "remote"] = Field(
        "primary", description="`primary` runs istiod; `remote` (primary-remote mode) is controlled by its primary."
    )
    primary: DnsLabel | None = Field(
        None, description="For a remote: the primary that controls it. Default: the only primary."
    )
    kubernetes_version: KubernetesVersion | None = Field(
        None, description='Kubernetes minor version such as "1.33"; default the cloud\'s default.'
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        "REGULAR", description="GKE release channel (`gcp` only)."
    )
    nodes: NodesSpec = Field(
        default_factory=lambda: NodesSpec.model_validate({}), description="Worker-node sizing (`aws` and `gcp`)."
    )
    vpc_cidr: Cidr | None = Field(None, description="VPC CIDR (`aws`); default a free /16 of 10.0.0.0/8.")
    vpc_id: Text | None = Field(None, description="Use this existing VPC instead of creating one (`aws`).")
    public_subnet_ids: list[Text] = Field(
        default_factory=list, description="Public subnets of `vpcId`, one per zone (`aws`)."
    )
    private_subnet_ids: list[Text] = Field(
        default_factory=list, description="Private subnets of `vpcId` for nodes, one per zone (`aws`)."
    )
    node_cidr: Cidr | None = Field(None, description="Node subnet CIDR (`gcp`); default a free /20.")
    pod_cidr: Cidr | None = Field(None, description="Pod secondary range (`gcp`); default a free /16.")
    service_cidr: Cidr | None = Field(
        None, description="Kubernetes Service CIDR (`aws` and `gcp`); default a free /20."
    )
    master_cidr: Cidr | None = Field(
        None, description="Control-plane /28 of a private GKE cluster (`gcp`); default a free /28."
    )
    deletion_protection: bool = Field(
        True,
        description="Protect the cluster, its network and addresses (and the mesh's root CA) with the cloud's "
        "deletion protection and Pulumi's `protect` (`aws` and `gcp`). To remove the cluster or destroy the "
        "stack, set false and run `pulumi up` first.",
    )
    kubeconfig: KubeconfigSpec | None = Field(None, description="How to reach the cluster (`existing` only).")
    east_west_address: Address | None = Field(
        None,
        description="Address of the cluster's east-west gateway load balancer (`existing` only; cloud "
        "clusters reserve one).",
    )
    east_west_internal: bool = Field(
        False, description="Put the east-west gateway on an internal load balancer (private connectivity)."
    )


_IAM_PRINCIPAL = re.compile(r"arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@-]+(/[\w+=,.@-]+)*")


def _iam_principal(value: str) -> str:
    if not _IAM_PRINCIPAL.fullmatch(value):
        raise ValueError(f"{value!r} is not an IAM role or user ARN such as 'arn:aws:iam::123456789012:role/ci'")
    return value


IamPrincipal = Annotated[str, AfterValidator(_iam_principal)]


class NetworkSpec(_Model):
    """Settings of one Istio network (an entry of `mesh:networks`, keyed by network name)."""

    vpc_cidr: Cidr | None = Field(
        None,
        description="AWS: the VPC's primary block, holding the network's NAT gateways (each cluster adds its own "
        "`vpcCidr` block); default a free /24 of 10.0.0.0/8. Never changes once the VPC exists.",
    )


class ServicePortSpec(_Model):
    """One port of an exported service."""

    number: Count = Field(ge=1, le=65535, description="Service port number.")
    name: DnsLabel = Field(description="Port name, unique within the service.")
    protocol: Literal["HTTP", "HTTPS", "HTTP2", "GRPC", "TCP", "TLS", "MONGO"] = Field(
        "TCP", description="Istio port protocol."
    )


class ServiceSpec(_Model):
    """A service exported from one cluster to others (an item of `mesh:services`)."""

    name: DnsLabel = Field(description="Kubernetes Service name in the exporting cluster.")
    namespace: DnsLabel = Field("default", description="Namespace of the Service.")
    cluster: DnsLabel = Field(description="Exporting cluster.")
    consumers: list[DnsLabel] = Field(
        min_length=1, description="Clusters whose workloads may call `<name>.<namespace>.svc.<cluster>.local`."
    )
    ports: list[ServicePortSpec] = Field(min_length=1, description="Ports exported.")


class MeshSpec(_Model):
    """The whole `mesh:*` stack configuration."""

    mesh_id: DnsLabel = Field(description="Istio mesh id (`global.meshID`), equal on every cluster.")
    mode: Literal["multi-primary", "primary-remote"] = Field(
        description="`multi-primary`: every cluster runs istiod; `primary-remote`: remotes use a primary's."
    )
    istio: IstioSpec = Field(
        default_factory=lambda: IstioSpec.model_validate({}), description="Istio version and chart source."
    )
    trust_domain: Annotated[str, Field(pattern=_DNS_SUBDOMAIN.pattern)] = Field(
        "cluster.local", description="SPIFFE trust domain, equal on every cluster."
    )
    clusters: list[ClusterSpec] = Field(min_length=2, description="The clusters of the mesh.")
    services: list[ServiceSpec] = Field(default_factory=list, description="Services exported across clusters.")
    dns_capture: bool = Field(
        True, description="Sidecar DNS proxying, so that ServiceEntry-only names resolve in pods."
    )
    mtls_mode: Literal["STRICT", "PERMISSIVE"] = Field("STRICT", description="Mesh-wide PeerAuthentication mode.")
    endpoint_discovery: bool = Field(
        True,
        description="Primaries watch the other clusters' API servers (remote secrets). Off: the federated "
        "model, where clusters share only exported services.",
    )
    admin_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs (yours, CI's) admitted to the cluster API servers besides the watching istiods.",
    )
    restrict_east_west_sources: bool = Field(
        True,
        description="Admit only the other clusters' egress IPs to east-west gateways (loadBalancerSourceRanges) "
        "where all of them are known; the plan says which ports stay open to whom where they are not.",
    )
    reader_token_generation: Count = Field(
        0,
        ge=0,
        description="Bump to rotate every remote secret's token in one `pulumi up`: new tokens of the "
        "`meshlib-reader` account, the remote secrets updated in place, the old tokens deleted (revoked).",
    )
    root_ca: RootCaSpec | None = Field(None, description="Bring your own root CA; default one is generated.")
    networks: dict[DnsLabel, NetworkSpec] = Field(
        default_factory=dict, description="Per Istio network (by name, as in `clusters[].network`): its settings."
    )
    name_prefix: str | None = Field(
        None,
        pattern=r"^([a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?)?$",
        description="Starts every cloud resource name (clusters, node groups, IAM roles, networks, addresses, "
        "service accounts), so that stacks of one config share an account; default `<meshId>-<stack>`. "
        "Changing it replaces every cluster.",
    )
    eks_admins: list[IamPrincipal] = Field(
        default_factory=list,
        description="IAM role or user ARNs given cluster-admin on every EKS cluster through access entries "
        "(CI's role, an admin role), so that whoever runs the next `pulumi up` or `destroy` gets in.",
    )
    pulumi_inside_networks: bool = Field(
        False,
        description="Pulumi runs inside the clusters' networks (a runner in the VPC), so an empty `adminCidrs` "
        "is intended; otherwise `pulumi up` refuses to create clusters that it could not reach.",
    )
    cluster_cas: dict[DnsLabel, ClusterCaSpec] | None = Field(
        None,
        description="Keep the root offline: per cluster (by name), the CA your PKI issued it, instead of `rootCa`; "
        "every cluster needs one, and all must chain to the same root (docs/trust.md).",
    )
