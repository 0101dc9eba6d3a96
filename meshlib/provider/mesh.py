"""`meshlib:index:MultiClusterMesh` as other Pulumi languages see it: typed args in, Outputs out.

The annotations here are the package's schema: Pulumi's component analyzer
(`pulumi.provider.experimental.analyzer`) reads them, so they must stay real types (no
postponed annotations in this module), args as `TypedDict`s, outputs as `pulumi.Output`
attributes. The component translates its args into the stack-config shape and runs the same
`parse_spec` as `pulumi up` does on a stack, then builds `meshlib.MultiClusterMesh` as its child.

Values that may come from other resources or stacks (VPC and subnet ids, kubeconfigs, admin CIDRs,
the root CA's PEMs) are `pulumi.Input`s. When one is not known yet, validation sees a placeholder, the
real value goes straight to the component that uses it (checked there once known), and a preview says
which keys it could not check.
"""

import itertools
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, TypedDict, get_args

import pulumi
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from meshlib.components.aws import AwsClusterInputs
from meshlib.components.mesh import MultiClusterMesh as MeshComponent
from meshlib.components.mesh import MultiClusterMeshArgs as MeshComponentArgs
from meshlib.components.mesh import RootCa, checked_admin_cidrs
from meshlib.spec.loader import parse_spec
from meshlib.spec.models import MeshSpec
from meshlib.spec.problems import ConfigError, Problem

__all__ = [
    "PACKAGE",
    "ClusterArgs",
    "FailoverArgs",
    "IngressGatewayArgs",
    "IstioArgs",
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "NamespaceArgs",
    "NodesArgs",
    "OutlierDetectionArgs",
    "RevisionArgs",
    "RootCaArgs",
    "ServiceArgs",
    "ServicePortArgs",
    "SpecInput",
    "VerifyArgs",
    "to_spec_input",
]

PACKAGE = "meshlib"
"""The package name: resource tokens are `meshlib:index:<Name>`."""


class NodesArgs(TypedDict):
    """Worker-node sizing of a provisioned cluster."""

    instance_type: NotRequired[str]
    """EC2 instance type or GCE machine type; default m6i.large on AWS, e2-standard-4 on GCP."""
    min: NotRequired[int]
    """Smallest node count (per zone on GKE); default 2."""
    max: NotRequired[int]
    """Largest node count (per zone on GKE); default 5."""
    disk_size_gb: NotRequired[int]
    """Root disk size of each node, in GiB; default 50."""


class ClusterArgs(TypedDict):
    """One Kubernetes cluster of the mesh."""

    name: str
    """Cluster name (a DNS-1123 label): the Istio cluster id and the prefix of its resources."""
    cloud: str
    """`aws` provisions EKS, `gcp` provisions GKE, `existing` adopts a cluster from `kubeconfig`."""
    region: NotRequired[str]
    """AWS or GCP region (required for `aws` and `gcp`)."""
    project: NotRequired[str]
    """GCP project id (required for `gcp`)."""
    network: NotRequired[str]
    """Istio network: clusters whose pod IPs route to each other. Default: the cluster name."""
    role: NotRequired[str]
    """`primary` (default) runs istiod; `remote` (primary-remote mode) is controlled by its primary."""
    primary: NotRequired[str]
    """For a remote: the primary that controls it. Default: the only primary."""
    kubernetes_version: NotRequired[str]
    """Kubernetes minor version such as "1.33"; default the cloud's default."""
    nodes: NotRequired[NodesArgs]
    """Worker-node sizing (`aws` and `gcp`)."""
    vpc_cidr: NotRequired[str]
    """VPC CIDR (`aws`); default a free /16 of 10.0.0.0/8."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """Adopt this existing VPC instead of creating one (`aws`); may be another stack's output."""
    public_subnet_ids: NotRequired[list[pulumi.Input[str]]]
    """Public subnets of `vpcId`, one per zone (`aws`). Each id may be an output; how many there are must be
    known at plan time (one east-west address is reserved per public subnet)."""
    private_subnet_ids: NotRequired[list[pulumi.Input[str]]]
    """Private subnets of `vpcId` for nodes, one per zone (`aws`); each id may be an output."""
    service_cidr: NotRequired[str]
    """Kubernetes Service CIDR (`aws` and `gcp`); default a free /20."""
    deletion_protection: NotRequired[bool]
    """Protect the cluster and its network with the cloud's deletion protection and Pulumi `protect`;
    default true (`aws` and `gcp`)."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """The whole kubeconfig of an `existing` cluster (kept secret); may be another stack's output."""
    kubeconfig_context: NotRequired[str]
    """Context in `kubeconfig`; default its current context (`existing` only)."""
    east_west_address: NotRequired[str]
    """Address of the east-west gateway load balancer (`existing` only). Plain, not an output: whether it is
    an IP or a hostname decides the ServiceEntry resolution and istiod's address before deployment."""
    east_west_internal: NotRequired[bool]
    """Put the east-west gateway on an internal load balancer."""
    ingress_gateway: NotRequired["IngressGatewayArgs"]
    """Run an ingress gateway here (the `gateway` chart, HA like the east-west gateway)."""


class IngressGatewayArgs(TypedDict):
    """An ingress gateway on one cluster."""

    name: NotRequired[str]
    """Helm release and Deployment name; default `istio-ingressgateway`."""
    internal: NotRequired[bool]
    """Put it on an internal load balancer."""
    annotations: NotRequired[dict[str, str]]
    """Extra annotations of its Service (merged over the cloud's)."""


class RevisionArgs(TypedDict):
    """One control-plane revision: an istiod release per cluster."""

    name: str
    """Revision name, e.g. `1-30-3` (`default`: the control plane installed without a revision)."""
    version: str
    """Istio release (and chart version) of this revision."""


class NamespaceArgs(TypedDict):
    """An application namespace on the mesh."""

    name: str
    """Namespace name."""
    tag: NotRequired[str]
    """Revision tag whose istiod injects its pods; default the `default` tag."""
    clusters: NotRequired[list[str]]
    """Clusters to create it on; default every cluster."""


class ServicePortArgs(TypedDict):
    """One port of an exported service."""

    number: int
    """Service port number."""
    name: str
    """Port name, unique within the service."""
    protocol: NotRequired[str]
    """Istio port protocol (HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO); default TCP."""


class ServiceArgs(TypedDict):
    """A service exported from one cluster to others."""

    name: str
    """Kubernetes Service name in the exporting cluster."""
    namespace: NotRequired[str]
    """Namespace of the Service; default `default`."""
    cluster: str
    """Exporting cluster."""
    consumers: list[str]
    """Clusters whose workloads may call `<name>.<namespace>.svc.<cluster>.local`."""
    ports: list[ServicePortArgs]
    """Ports exported."""
    verify: NotRequired[bool]
    """Check on every update that each consumer reaches this service through the mesh; default true."""
    responder: NotRequired[bool]
    """Deploy a tiny responder as this Service for the check, for a service not deployed yet; default false."""


class VerifyArgs(TypedDict):
    """The checks run after building the mesh (docs/verify.md)."""

    enabled: NotRequired[bool]
    """Run the checks (Kubernetes Jobs the update awaits); default true."""
    generation: NotRequired[int]
    """Bump to rerun every check."""
    client_image: NotRequired[str]
    """Image of the checks (needs `sh` and `curl`), pinned by digest."""
    responder_image: NotRequired[str]
    """Image of the responders, pinned by digest."""


class OutlierDetectionArgs(TypedDict):
    """Outlier detection of a failover rule (Istio fails over only from ejected endpoints)."""

    consecutive_5xx_errors: NotRequired[int]
    """5xx answers (or connection failures) in a row that eject an endpoint; default 5."""
    interval: NotRequired[str]
    """Time between ejection sweeps, e.g. `10s`."""
    base_ejection_time: NotRequired[str]
    """Minimum ejection time, e.g. `30s`."""
    max_ejection_percent: NotRequired[int]
    """Most endpoints ejected at once, in percent; default 100."""


class FailoverArgs(TypedDict):
    """Locality failover for a service that runs in several clusters."""

    name: str
    """Kubernetes Service name, the same in every cluster it runs in."""
    namespace: NotRequired[str]
    """Namespace of the Service; default `default`."""
    clusters: list[str]
    """The clusters the service runs in (at least two)."""
    consumers: NotRequired[list[str]]
    """Clusters whose callers fail over; default every cluster."""
    priority: NotRequired[list[str]]
    """Failover order by `network`, `region`, `zone`, `cluster`; default all four in that order."""
    outlier_detection: NotRequired[OutlierDetectionArgs]
    """Outlier detection settings."""


class IstioArgs(TypedDict):
    """Which Istio to install and from where."""

    version: NotRequired[str]
    """Istio release, which is also the chart version (1.29.x or 1.30.x); leave unset with `revisions`."""
    revision: NotRequired[str]
    """Istio revision (e.g. `1-30`); istiod then runs as `istiod-<revision>`; leave unset with `revisions`."""
    revisions: NotRequired[list[RevisionArgs]]
    """Control-plane revisions installed side by side (canary upgrades, docs/upgrades.md)."""
    tags: NotRequired[dict[str, str]]
    """Revision tags (e.g. `prod`, `default`) -> the revision each points at."""
    gateway_revision: NotRequired[str]
    """The revision that injects the gateways; required with more than one revision."""
    chart_repository: NotRequired[str]
    """Helm repository serving the `base`, `istiod` and `gateway` charts."""


class RootCaArgs(TypedDict):
    """Your own root CA, as PEMs: meshlib issues each cluster's intermediate CA from it."""

    certificate_pem: pulumi.Input[str]
    """The root certificate PEM; may be another resource's or stack's output."""
    private_key_pem: pulumi.Input[str]
    """The root's private key PEM; may be an output. Pass it as a secret: the schema cannot mark inputs
    secret, so meshlib makes it one as it receives it, but the value the caller sends is theirs to protect."""


class MultiClusterMeshArgs(TypedDict):
    """Inputs of `MultiClusterMesh`: the keys of the `mesh:*` stack configuration (docs/config.md)."""

    mesh_id: str
    """Istio mesh id (`global.meshID`), equal on every cluster."""
    mode: str
    """`multi-primary` (every cluster runs istiod) or `primary-remote` (remotes use a primary's)."""
    clusters: list[ClusterArgs]
    """The clusters of the mesh (at least two)."""
    services: NotRequired[list[ServiceArgs]]
    """Services exported across clusters."""
    istio: NotRequired[IstioArgs]
    """Istio version and chart source."""
    trust_domain: NotRequired[str]
    """SPIFFE trust domain, equal on every cluster; default `cluster.local`."""
    admin_cidrs: NotRequired[pulumi.Input[list[str]]]
    """CIDRs (yours, CI's) admitted to the cluster API servers besides the watching istiods; the whole list
    may be another stack's output (e.g. NAT gateway addresses as /32s), checked once known."""
    eks_admins: NotRequired[list[str]]
    """IAM role or user ARNs given cluster-admin on every EKS cluster through access entries."""
    pulumi_inside_networks: NotRequired[bool]
    """Pulumi runs inside the clusters' networks, so an empty `adminCidrs` is intended."""
    name_prefix: NotRequired[str]
    """Starts every cloud resource name; default `<meshId>-<stack>`. Changing it replaces every cluster."""
    dns_capture: NotRequired[bool]
    """Sidecar DNS proxying, so that ServiceEntry-only names resolve in pods; default true."""
    mtls_mode: NotRequired[str]
    """Mesh-wide PeerAuthentication mode: STRICT (default) or PERMISSIVE."""
    endpoint_discovery: NotRequired[bool]
    """Primaries watch the other clusters' API servers (remote secrets); default true."""
    restrict_east_west_sources: NotRequired[bool]
    """Admit only the other clusters' egress IPs to east-west gateways where all are known; default true."""
    namespaces: NotRequired[list[NamespaceArgs]]
    """Application namespaces meshlib creates, labelled for injection by their tag."""
    failover: NotRequired[list[FailoverArgs]]
    """Locality failover rules for services running in several clusters (docs/failover.md)."""
    verify: NotRequired[VerifyArgs]
    """The checks run after building the mesh; on by default."""
    root_ca: NotRequired[RootCaArgs]
    """Bring your own root CA (its PEMs); default one is generated."""


class MultiClusterMesh(pulumi.ComponentResource):
    """One Istio mesh across EKS, GKE and existing clusters, from the same settings as the `mesh:*` stack config."""

    cluster_endpoints: pulumi.Output[dict[str, str]]
    """API server URL of each cluster, by cluster name."""
    east_west_addresses: pulumi.Output[dict[str, str]]
    """Address of each east-west gateway, by cluster name (clusters that run one)."""
    kubeconfigs: pulumi.Output[dict[str, str]]
    """Exec-based kubeconfig of each cluster, by cluster name (a secret)."""
    summary: pulumi.Output[dict[str, Any]]
    """What the mesh is made of: mode, Istio version, networks, primaries, remotes, gateways, services."""

    def __init__(self, name: str, args: MultiClusterMeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        converted = to_spec_input(args)
        try:
            spec = parse_spec(converted.raw, pulumi.get_stack())
        except ConfigError as error:
            raise ConfigError(_in_caller_terms(error.problems)) from None
        super().__init__(f"{PACKAGE}:index:MultiClusterMesh", name, None, opts)
        if converted.unchecked and pulumi.runtime.is_dry_run():
            pulumi.log.info(
                "not checked yet, as their values come from other resources or stacks: "
                + ", ".join(converted.unchecked),
                self,
            )
        admin_cidrs = None
        if converted.admin_cidrs is not None:
            # The placeholder stood in for validation only: the mesh admits what the output holds.
            spec = spec.model_copy(update={"admin_cidrs": []})
            admin_cidrs = converted.admin_cidrs.apply(_admin_cidrs_in_caller_terms(spec))
        mesh = MeshComponent(
            name,
            MeshComponentArgs(
                spec=spec,
                aws_inputs=converted.aws_inputs,
                kubeconfigs=converted.kubeconfigs,
                admin_cidrs=admin_cidrs,
                root_ca=converted.root_ca,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.cluster_endpoints = pulumi.Output.all(
            **{cluster: handle.endpoint for cluster, handle in mesh.clusters.items()}
        ).apply(dict)
        self.east_west_addresses = pulumi.Output.all(
            **{cluster: h.east_west.address for cluster, h in mesh.clusters.items() if h.east_west is not None}
        ).apply(dict)
        self.kubeconfigs = pulumi.Output.secret(
            pulumi.Output.all(**{cluster: handle.kubeconfig for cluster, handle in mesh.clusters.items()}).apply(dict)
        )
        self.summary = pulumi.Output.from_input(mesh.summary())
        self.register_outputs(
            {
                "clusterEndpoints": self.cluster_endpoints,
                "eastWestAddresses": self.east_west_addresses,
                "kubeconfigs": self.kubeconfigs,
                "summary": self.summary,
            }
        )


class SpecInput:
    """`MultiClusterMeshArgs` split into what validation reads and what is threaded to the components."""

    def __init__(self) -> None:
        self.raw: dict[str, Any] = {}
        """The args in stack-config shape (camelCase keys); unknown values replaced by placeholders."""
        self.aws_inputs: dict[str, AwsClusterInputs] = {}
        self.kubeconfigs: dict[str, pulumi.Input[str]] = {}
        self.admin_cidrs: pulumi.Output[list[str]] | None = None
        """`adminCidrs` when it is (or holds) an output; then `raw` has a placeholder in its place."""
        self.root_ca: RootCa | None = None
        self.unchecked: list[str] = []
        """Keys (caller's terms) whose values validation could not see yet."""
        self._placeholders: dict[int, str] = {}
        self._counter = itertools.count()

    def placeholder(self, value: object, kind: str) -> str:
        """A stand-in id for `value`; the same object always gets the same one (clusters sharing a VPC)."""
        key = id(value)
        if key not in self._placeholders:
            self._placeholders[key] = f"{kind}-pending{next(self._counter)}"
        return self._placeholders[key]


ADMIN_CIDR_PLACEHOLDER = "192.0.2.0/32"
"""Stands in for an `adminCidrs` output during validation (TEST-NET-1, RFC 5737: never a real network);
dropped from the spec before the mesh is built, so it reaches no resource."""

_CLUSTER_INPUTS = ("vpc_id", "public_subnet_ids", "private_subnet_ids", "kubeconfig", "kubeconfig_context")


def to_spec_input(args: Mapping[str, Any]) -> SpecInput:
    """Translate `args` (Python names, as the provider hands them over) into stack-config shape."""
    result = SpecInput()
    problems: list[Problem] = []
    for key, value in args.items():
        if key == "clusters" and isinstance(value, list):
            result.raw["clusters"] = [
                _cluster(index, cluster, result, problems) if isinstance(cluster, Mapping) else cluster
                for index, cluster in enumerate(value)
            ]
        elif key == "admin_cidrs" and _holds_output(value):
            result.raw["adminCidrs"] = [ADMIN_CIDR_PLACEHOLDER]
            result.admin_cidrs = pulumi.Output.from_input(value)
            result.unchecked.append("adminCidrs")
        elif key == "root_ca" and isinstance(value, Mapping):
            result.root_ca = _root_ca(value, result, problems)
        else:
            result.raw[_key(key)] = _plain(value, _key(key), problems)
    if problems:
        raise ConfigError(sorted(problems))
    return result


def _cluster(index: int, cluster: Mapping[str, Any], result: SpecInput, problems: list[Problem]) -> dict[str, Any]:
    where = f"clusters[{index}]"
    name = str(cluster.get("name", index))
    raw = {
        _key(key): _plain(value, f"{where}.{_key(key)}", problems)
        for key, value in cluster.items()
        if key not in _CLUSTER_INPUTS
    }
    given, adopted = AwsClusterInputs(), False
    vpc_id = cluster.get("vpc_id")
    if isinstance(vpc_id, pulumi.Output):
        raw["vpcId"] = result.placeholder(vpc_id, "vpc")
        given.vpc_id, adopted = vpc_id.apply(_known(f"{where}.vpcId")), True
        result.unchecked.append(f"{where}.vpcId")
    elif vpc_id is not None:
        raw["vpcId"] = vpc_id
    for key in ("public_subnet_ids", "private_subnet_ids"):
        ids = cluster.get(key)
        camel = _key(key)
        if isinstance(ids, pulumi.Output):
            message = "give a list (its items may be outputs): how many subnets there are must be known at plan time"
            problems.append(Problem(f"{where}.{camel}", message))
        elif isinstance(ids, list) and any(isinstance(item, pulumi.Output) for item in ids):
            raw[camel] = [
                result.placeholder(item, "subnet") if isinstance(item, pulumi.Output) else item for item in ids
            ]
            checked = [
                item.apply(_known(f"{where}.{camel}[{i}]")) if isinstance(item, pulumi.Output) else item
                for i, item in enumerate(ids)
            ]
            setattr(given, key, checked)
            adopted = True
            result.unchecked.append(f"{where}.{camel}")
        elif ids is not None:
            raw[camel] = ids
    if adopted:
        result.aws_inputs[name] = given
    kubeconfig, context = cluster.get("kubeconfig"), cluster.get("kubeconfig_context")
    if kubeconfig is not None or context is not None:
        raw["kubeconfig"] = {"context": context} if context is not None else {}
    if kubeconfig is not None:
        # Validation reads the kubeconfig's content from a secret config key: name one that holds nothing.
        secret = f"{name}-kubeconfig-input"
        raw["kubeconfig"]["secret"] = secret
        result.raw[secret] = ""
        result.kubeconfigs[name] = kubeconfig
        if isinstance(kubeconfig, pulumi.Output):
            result.unchecked.append(f"{where}.kubeconfig")
    return raw


def _holds_output(value: object) -> bool:
    """Whether `value` is an output or a list with one among its items."""
    return isinstance(value, pulumi.Output) or (
        isinstance(value, list) and any(isinstance(item, pulumi.Output) for item in value)
    )


def _root_ca(given: Mapping[str, Any], result: SpecInput, problems: list[Problem]) -> RootCa | None:
    """The root CA's PEMs, each checked (non-empty) once known; the key made secret, and never echoed."""
    fields = {"certificate_pem": "rootCa.certificatePem", "private_key_pem": "rootCa.privateKeyPem"}
    problems += [Problem(where, "required") for key, where in fields.items() if given.get(key) is None]
    problems += [
        Problem(f"rootCa.{to_camel(key)}", "unknown key; valid keys here: certificatePem, privateKeyPem")
        for key in given
        if key not in fields
    ]
    if any(given.get(key) is None for key in fields):
        return None
    pending = [where for key, where in fields.items() if isinstance(given[key], pulumi.Output)]
    result.unchecked += pending
    certificate = pulumi.Output.from_input(given["certificate_pem"]).apply(_known(fields["certificate_pem"]))
    key = pulumi.Output.from_input(given["private_key_pem"]).apply(_known(fields["private_key_pem"], secret=True))
    return RootCa(certificate_pem=certificate, private_key_pem=pulumi.Output.secret(key))


def _admin_cidrs_in_caller_terms(spec: MeshSpec) -> Callable[[list[str]], list[str]]:
    """The mesh's check of `adminCidrs` once known, its problems keyed as the caller wrote the args."""

    def check(cidrs: list[str]) -> list[str]:
        try:
            return checked_admin_cidrs(spec, cidrs)[0]
        except ConfigError as error:
            raise ConfigError(_in_caller_terms(error.problems)) from None

    return check


def _aliases(model: type[BaseModel], found: dict[str, str]) -> dict[str, str]:
    """Python field name -> config key, over `model` and every model inside it."""
    for name, field in model.model_fields.items():
        found.setdefault(name, field.alias or name)
        for nested in get_args(field.annotation) or (field.annotation,):
            for inner in (nested, *get_args(nested)):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not model:
                    _aliases(inner, found)
    return found


_ALIASES = _aliases(MeshSpec, {})
"""The config keys of the args' Python names: the models' own aliases (`consecutive_5xx_errors` is
`consecutive5xxErrors` there, not what a generic camelCase gives)."""


def _key(name: str) -> str:
    return _ALIASES.get(name) or to_camel(name)


_FREE_KEYS = frozenset({"tags", "annotations"})
"""Maps whose keys are the user's (tag names, annotation keys), kept as given rather than camelCased."""


def _plain(value: Any, where: str, problems: list[Problem], free: bool = False) -> Any:
    """`value` with camelCase keys (not in `free` maps); a problem for any output (must be known at plan time)."""
    if isinstance(value, pulumi.Output):
        problems.append(Problem(where, "must be a plain value, known at plan time (not an output)"))
        return None
    if isinstance(value, Mapping) and free:
        return {k: _plain(v, f"{where}.{k}", problems) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {
            _key(k): _plain(v, f"{where}.{_key(k)}", problems, free=_key(k) in _FREE_KEYS) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_plain(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]
    return value


def _known(where: str, secret: bool = False) -> Callable[[object], str]:
    """A check run when the value is known: the same rule as the spec's (a non-empty string)."""

    def check(value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            shown = f"a {type(value).__name__}" if secret else repr(value)
            raise ConfigError([Problem(where, f"must be a non-empty string, got {shown}")])
        return value

    return check


def _in_caller_terms(problems: tuple[Problem, ...]) -> list[Problem]:
    """Problems keyed as the caller wrote the args (`clusters[0].vpcId`), not as stack config (`mesh:...`)."""
    return sorted({Problem(problem.key.removeprefix("mesh:"), problem.message) for problem in problems})
