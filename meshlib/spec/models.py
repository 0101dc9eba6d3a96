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
    "DEFAULT_REVISION",
    "SUPPORTED_ISTIO_MINORS",
    "ChartValuesSpec",
    "IngressGatewaySpec",
    "NamespaceSpec",
    "RevisionSpec",
    "ClusterCaSpec",
    "ClusterSpec",
    "FailoverSpec",
    "IstioSpec",
    "KubeconfigSpec",
    "MeshSpec",
    "NetworkSpec",
    "NodesSpec",
    "OutlierDetectionSpec",
    "RootCaSpec",
    "ServicePortSpec",
    "ServiceSpec",
    "VerifySpec",
    "is_ipv4",
]

DEFAULT_ISTIO_VERSION = "1.30.3"
SUPPORTED_ISTIO_MINORS = ("1.29", "1.30")
"""Every Helm value and manifest meshlib generates was checked against these Istio series
(`meshlib.plan.value_paths` pins each one's chart facts)."""
DEFAULT_REVISION = "default"
"""Istio's name for the control plane installed without a revision (`istiod`, `istio-injection=enabled`)."""
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


def _istio_version(value: str) -> str:
    match = _ISTIO_VERSION.fullmatch(value)
    supported = " or ".join(f"{minor}.x" for minor in SUPPORTED_ISTIO_MINORS)
    if not match:
        raise ValueError(f'{value!r} is not an Istio release such as "{DEFAULT_ISTIO_VERSION}"')
    if f"{match[1]}.{match[2]}" not in SUPPORTED_ISTIO_MINORS:
        oldest = SUPPORTED_ISTIO_MINORS[0]
        older = (int(match[1]), int(match[2])) < tuple(int(part) for part in oldest.split("."))
        raise ValueError(
            f'Istio {value!r} is not supported: use a {supported} release such as "{DEFAULT_ISTIO_VERSION}" (the '
            "chart values meshlib sets were checked against those series)"
            + (
                f"; a {match[1]}.{match[2]} mesh upgrades to {oldest} first, as Istio upgrades skip no minor"
                if older
                else ""
            )
        )
    return value


IstioVersion = Annotated[str, BeforeValidator(_no_bare_number), AfterValidator(_istio_version)]
Values = dict[str, Any]


class ChartValuesSpec(_Model):
    """Helm values deep-merged over meshlib's, per chart (`mesh:istio.values`, `clusters[].istioValues`).

    Every path is checked against the chart of each Istio version it applies to; paths that wire
    the mesh (cluster name, network, mesh ID, remote wiring, trust) are refused with the key that
    sets them instead.
    """

    base: Values = Field(default_factory=dict, description="Values of the `base` chart.")
    istiod: Values = Field(default_factory=dict, description="Values of every `istiod` release (each revision).")
    gateway: Values = Field(
        default_factory=dict, description="Values of the east-west `gateway` release (its JSON schema applies)."
    )
    ingress_gateway: Values = Field(
        default_factory=dict,
        description="Values of the ingress `gateway` release (`clusters[].ingressGateway`; its JSON schema applies).",
    )


class RevisionSpec(_Model):
    """One control-plane revision (an item of `mesh:istio.revisions`): an istiod release per cluster."""

    name: DnsLabel = Field(
        description="Revision name, e.g. `1-30-3`: istiod runs as `istiod-<name>`. `default` is the control "
        "plane installed without a revision (what `version` alone installs), so an existing mesh can add a "
        "canary beside it."
    )
    version: IstioVersion = Field(description="Istio release (and chart version) of this revision.")


class IstioSpec(_Model):
    """Which Istio to install and from where (`mesh:istio`)."""

    version: IstioVersion = Field(
        DEFAULT_ISTIO_VERSION,
        description="Istio release, which is also the chart version; 1.29.x and 1.30.x are supported. With "
        "`revisions`, leave it unset.",
    )
    revision: DnsLabel | None = Field(
        None,
        description="Istio revision (e.g. `1-30`) of the one control plane `version` installs; istiod then "
        "runs as `istiod-<revision>`. With `revisions`, leave it unset.",
    )
    revisions: list[RevisionSpec] | None = Field(
        None,
        min_length=1,
        description="Control-plane revisions installed side by side (canary upgrades, docs/upgrades.md), "
        "replacing `version` and `revision`. Their minors may differ by one at most.",
    )
    tags: dict[DnsLabel, DnsLabel] = Field(
        default_factory=dict,
        description="Revision tags (e.g. `prod`, `canary`, `default`) -> the revision each points at. "
        "Namespaces follow a tag; moving it moves them at their next restart. The `default` tag also serves "
        "`istio-injection=enabled` namespaces.",
    )
    gateway_revision: DnsLabel | None = Field(
        None,
        description="The revision that injects the gateways (east-west, ingress); required with more than one "
        "revision. Changing it rolls the gateways onto that revision in place.",
    )
    chart_repository: str = Field(
        ISTIO_CHART_REPOSITORY, description="Helm repository serving the `base`, `istiod` and `gateway` charts."
    )
    values: ChartValuesSpec = Field(
        default_factory=lambda: ChartValuesSpec.model_validate({}),
        description="Helm value overrides for every cluster, per chart.",
    )

    @field_validator("revision")
    @classmethod
    def _not_default(cls, value: str | None) -> str | None:
        if value == DEFAULT_REVISION:
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


class IngressGatewaySpec(_Model):
    """An ingress gateway on one cluster (`clusters[].ingressGateway`)."""

    name: DnsLabel = Field("istio-ingressgateway", description="Helm release and Deployment name.")
    internal: bool = Field(False, description="Put it on an internal load balancer.")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Extra annotations of its Service (merged over the cloud's)."
    )


class NamespaceSpec(_Model):
    """An application namespace on the mesh (an item of `mesh:namespaces`)."""

    name: DnsLabel = Field(description="Namespace name.")
    tag: DnsLabel | None = Field(
        None,
        description="Revision tag (or revision) whose istiod injects its pods (`istio.io/rev`); default the "
        "`default` tag, or the only revision.",
    )
    clusters: list[DnsLabel] | None = Field(None, description="Clusters to create it on; default every cluster.")


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
    ingress_gateway: IngressGatewaySpec | None = Field(
        None, description="Run an ingress gateway here (the `gateway` chart, HA like the east-west gateway)."
    )
    istio_values: ChartValuesSpec = Field(
        default_factory=lambda: ChartValuesSpec.model_validate({}),
        description="Helm value overrides for this cluster only, merged over `mesh:istio.values`.",
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
    verify: bool = Field(
        True,
        description="Check on every `pulumi up` that each consumer reaches this service through the mesh "
        "(docs/verify.md); false skips its checks.",
    )
    responder: bool = Field(
        False,
        description="Deploy a tiny responder as this Service in the exporting cluster for the check, for a "
        "service that does not exist yet (Kubernetes refuses a second Service of the name); its namespace must "
        "exist (list it under `mesh:namespaces`). Off: your own workload answers the check.",
    )


class VerifySpec(_Model):
    """Checks that `pulumi up` runs after building the mesh (`mesh:verify`, docs/verify.md)."""

    enabled: bool = Field(True, description="Run the checks (Kubernetes Jobs that `pulumi up` awaits).")
    generation: Count = Field(
        0, ge=0, description="Bump to rerun every check on the next `pulumi up` (each Job is replaced)."
    )
    client_image: str = Field(
        "curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69",
        min_length=1,
        description="Image of the checks (needs `sh` and `curl`); pin by digest, e.g. from a private registry.",
    )
    responder_image: str = Field(
        "registry.k8s.io/e2e-test-images/agnhost:2.53"
        "@sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85",
        min_length=1,
        description="Image of the responders (runs `netexec --http-port=8080`); pin by digest.",
    )


_DURATION = re.compile(r"(\d+(?:\.\d+)?(?:h|ms|m|s))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_MS = {"h": 3_600_000.0, "m": 60_000.0, "s": 1_000.0, "ms": 1.0}


def _duration(value: str) -> str:
    """An Istio duration such as `10s`, `500ms` or `1m30s`, at least 1ms (what Istio's CRD admits)."""
    if not _DURATION.fullmatch(value):
        raise ValueError(f'{value!r} is not a duration such as "10s", "500ms" or "1m30s" (units h, m, s, ms)')
    total = sum(float(number) * _DURATION_MS[unit] for number, unit in _DURATION_PART.findall(value))
    if total < 1:
        raise ValueError(f"{value!r} is shorter than 1ms (Istio's minimum)")
    return value


def _duration_text(value: Any) -> Any:
    """Refuse a bare number where a duration is meant: its unit would be a guess."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f'give the unit, e.g. "{value}s" (a bare number has none)')
    return value


Duration = Annotated[str, BeforeValidator(_duration_text), AfterValidator(_duration)]
FailoverLevel = Literal["network", "region", "zone", "cluster"]
_FAILOVER_LEVELS: tuple[FailoverLevel, ...] = ("network", "region", "zone", "cluster")


class OutlierDetectionSpec(_Model):
    """When a caller's proxy ejects an unhealthy endpoint (`trafficPolicy.outlierDetection` of the rule).

    Istio fails over only to endpoints it has ejected others for: without outlier detection
    the proxies never learn that the nearest endpoints are unhealthy.
    """

    consecutive_5xx_errors: Count = Field(
        5,
        ge=1,
        le=4294967295,
        alias="consecutive5xxErrors",
        description="5xx responses (or connection failures) in a row before an endpoint is ejected.",
    )
    interval: Duration = Field("10s", description="Time between ejection sweeps, e.g. `10s` or `500ms`.")
    base_ejection_time: Duration = Field(
        "30s", description="Minimum ejection time; it grows with each ejection of the same endpoint."
    )
    max_ejection_percent: Count = Field(
        100,
        ge=1,
        le=100,
        description="Largest share of the service's endpoints that may be ejected at once; 100 lets every "
        "endpoint of a failing cluster go, so that traffic fails over (Envoy's own default, 10, would not).",
    )


class FailoverSpec(_Model):
    """Failover between the clusters a service runs in (an item of `mesh:failover`).

    Needs endpoint discovery: callers then see the endpoints of every cluster under
    `<name>.<namespace>.svc.cluster.local` and prefer the nearest healthy ones (docs/failover.md).
    """

    name: DnsLabel = Field(description="Kubernetes Service name, the same in every cluster it runs in.")
    namespace: DnsLabel = Field("default", description="Namespace of the Service.")
    clusters: list[DnsLabel] = Field(description="The clusters the service runs in (at least two).")
    consumers: list[DnsLabel] | None = Field(
        None,
        min_length=1,
        description="Clusters whose workloads call it and should fail over; default every cluster.",
    )
    priority: list[FailoverLevel] = Field(
        default_factory=lambda: list(_FAILOVER_LEVELS),
        min_length=1,
        description="Which endpoints a caller prefers, most important first: the same `network`, `region`, "
        "`zone`, `cluster` as the caller (Istio's `failoverPriority` labels).",
    )
    outlier_detection: OutlierDetectionSpec = Field(
        default_factory=lambda: OutlierDetectionSpec.model_validate({}),
        description="When an endpoint counts as unhealthy (required by Istio for failover).",
    )

    @field_validator("priority")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({level for level in value if value.count(level) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once: name each level once")
        return value


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
    namespaces: list[NamespaceSpec] = Field(
        default_factory=list, description="Application namespaces meshlib creates, labelled for injection."
    )
    failover: list[FailoverSpec] = Field(
        default_factory=list,
        description="Services that run in several clusters and fail over between them (needs `endpointDiscovery`).",
    )
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
    verify: VerifySpec = Field(
        default_factory=lambda: VerifySpec.model_validate({}),
        description="Deploy-time proof that the mesh works: control-plane sync and cross-cluster calls "
        "(docs/verify.md).",
    )
