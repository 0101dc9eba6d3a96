"""The rules of the meshlib policy pack, as pure functions.

Resource rules take `(resource type, props)` and stack rules a list of `StackResource`,
and return violation messages (empty: compliant). Props are plain dicts and lists in
the shape the Pulumi engine serialises inputs (camelCase keys), which is what
pulumi-policy hands a policy and what `meshlib.offline.engine.Registered.plain` shows.

During `pulumi preview` some values are not known yet: a rule skips what it cannot see
and never reports a violation because of an unknown value.

Kubernetes objects reach the rules in three shapes: as resources of their own type
(`kubernetes:security.istio.io/v1:PeerAuthentication`, ...), inside a
`kubernetes:yaml/v2:ConfigGroup` (its `objs` list and its `yaml` text, parsed here), and
rendered by a Helm chart. A `helm.sh/v3:Release` is opaque (only its values are seen); a
`helm.sh/v4:Chart` registers every rendered object as a resource of its own, so those
objects meet the rules like any other resource. A ConfigGroup's objects are likewise
registered as resources of their own; they are also read from its inputs so that a
violation shows before the group's children exist.

This module depends on nothing but the standard library and PyYAML, so the policy pack
runs in its own virtualenv without meshlib, and the tests call the rules directly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

__all__ = [
    "EAST_WEST_GATEWAY",
    "ISTIO_CHARTS",
    "ISTIO_CHART_REPOSITORY",
    "MESH_PORTS",
    "POLICIES",
    "READER_SERVICE_ACCOUNTS",
    "UNKNOWN",
    "PolicySpec",
    "StackResource",
    "check_resource",
    "check_stack",
    "cluster_api_not_open_to_internet",
    "cluster_deletion_protection",
    "east_west_gateway_mesh_ports_only",
    "is_unknown",
    "istio_charts_pinned_from_istio_repository",
    "istiod_has_cacerts",
    "istiod_ports_not_open_to_internet",
    "mesh_ports_not_open_to_internet",
    "network_gateway_is_the_east_west_gateway",
    "no_mesh_wide_permissive_mtls",
    "no_mesh_wide_tls_disable",
    "remote_secrets_use_reader_token",
    "shared_root_of_trust",
    "whole_internet",
]

ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
ISTIO_CHARTS = frozenset({"base", "istiod", "gateway"})
ISTIO_ROOT_NAMESPACE = "istio-system"
EAST_WEST_GATEWAY = "istio-eastwestgateway"
MESH_PORTS = frozenset({15021, 15443, 15012, 15017})
"""Health, cross-network mTLS (AUTO_PASSTHROUGH), istiod xDS/CA, istiod webhooks."""
ISTIOD_PORTS = frozenset({15012, 15017})
PORT_ROLES = {
    15012: "istiod xDS and CA",
    15017: "istiod webhooks",
    15021: "gateway health checks",
    15443: "cross-network mTLS",
}
NETWORK_GATEWAY_PORTS = {"status-port": 15021, "tls": 15443, "tls-istiod": 15012, "tls-webhook": 15017}
"""The gateway chart's `networkGatewayPorts` (Istio 1.30): the Service of a network gateway, by port name."""
GATEWAY_CHART_DEFAULT_PORTS = (15021, 80, 443)
"""The gateway chart's `service.ports` when neither they nor `networkGateway` are set."""
CACERTS = "cacerts"
ROOT_CERT_KEY = "root-cert.pem"
MULTI_CLUSTER_LABEL = "istio/multiCluster"
READER_SERVICE_ACCOUNTS = frozenset({"istio-reader-service-account", "meshlib-reader"})
"""The service accounts (in istio-system) whose tokens remote secrets may carry: the istiod
chart's reader today, a meshlib-managed narrower reader tomorrow."""
READER_TOKEN_SECRET_PREFIXES = ("istio-reader-token-", "meshlib-reader-token-")
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
LOAD_BALANCER_SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
HELM_TYPES = frozenset({HELM_RELEASE, HELM_CHART})
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
AWS_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
AWS_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
COMPONENT_TYPES = frozenset({HELM_CHART, CONFIG_GROUP})
"""Component resources: the engine may report no provider for them (their children have one)."""

_EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_UNKNOWN_SENTINELS = frozenset(
    {  # pulumi-policy's markers for values not known during preview (pulumi_policy.proxy)
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
UNKNOWN = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
"""The marker the pack's wiring puts where pulumi-policy refuses to give a value (unknown in preview)."""
Props = Mapping[str, Any]
ResourceRule = Callable[[str, Props], list[str]]


@dataclass(frozen=True)
class StackResource:
    """One resource of the stack, as a stack rule sees it."""

    type: str
    name: str
    props: Props
    provider: str = ""
    """Identity of its provider (URN or logical name; '' for the default provider)."""
    urn: str = ""
    parent: str = ""
    """URN of its parent ('' for none or unknown): places a component's children on its cluster."""


StackRule = Callable[[Sequence[StackResource]], list[str]]


# -- helpers --------------------------------------------------------------------------------


def is_unknown(value: Any) -> bool:
    """Whether `value` is not known yet (preview): pulumi-policy's sentinel, or the SDK's `Unknown`."""
    if isinstance(value, str):
        return value in _UNKNOWN_SENTINELS
    kind = type(value)
    return kind.__name__ == "Unknown" and kind.__module__.startswith("pulumi")


class _Missing:
    """The value at a path that is not there (distinct from None and from unknown)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _at(value: Any, *path: str | int) -> Any:
    """The value at `path`; an unknown on the way is returned as is; `MISSING` if absent."""
    for key in path:
        if is_unknown(value):
            return value
        if isinstance(key, str) and isinstance(value, Mapping):
            value = value.get(key, MISSING)
        elif isinstance(key, int) and isinstance(value, Sequence) and not isinstance(value, str):
            value = value[key] if -len(value) <= key < len(value) else MISSING
        else:
            return MISSING
        if value is None:
            return MISSING
    return value


def _known(value: Any) -> bool:
    return value is not MISSING and not is_unknown(value)


def _items(value: Any) -> list[Any]:
    """The elements of a list value (none if missing, unknown or not a list)."""
    if isinstance(value, Sequence) and not isinstance(value, str) and not is_unknown(value):
        return list(value)
    return []


def _truthy(value: Any) -> bool:
    """A known value Helm's templates treat as set (`{{ if }}`)."""
    return _known(value) and value not in ("", False, 0, [], {})


def _chart_name(props: Props) -> str | None:
    """The chart's name (last path segment of `chart`), None if unknown or absent."""
    chart = _at(props, "chart")
    if not isinstance(chart, str) or is_unknown(chart):
        return None
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _is_chart(type_: str, props: Props, name: str) -> bool:
    """A Helm release (helm.sh/v3 Release or v4 Chart) of the chart called `name`."""
    return type_ in HELM_TYPES and _chart_name(props) == name


def _decode_b64(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _secret_values(props: Props) -> list[tuple[str, Any]]:
    """A Secret's entries as (key, text): `stringData` as is, `data` base64-decoded; unknowns kept unknown."""
    found: list[tuple[str, Any]] = []
    string_data = _at(props, "stringData")
    if isinstance(string_data, Mapping):
        found += list(string_data.items())
    data = _at(props, "data")
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(value, str) and not is_unknown(value):
                decoded = _decode_b64(value)
                found.append((key, decoded if decoded is not None else value))
            else:
                found.append((key, value))
    return found


def _secret_data_known(props: Props) -> bool:
    """Whether every place a Secret can carry data is known (absent counts as known)."""
    return not is_unknown(_at(props, "stringData")) and not is_unknown(_at(props, "data"))


def _port_number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _no_selector(selector: Any) -> bool | None:
    """Whether a workload selector selects every workload (None: unknown)."""
    if is_unknown(selector) or is_unknown(_at(selector, "matchLabels")):
        return None
    return _at(selector, "matchLabels") in (MISSING, {})


# -- the whole internet -------------------------------------------------------------------------

_NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (  # IANA special-purpose ranges no internet host sends from
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_PUBLIC_V6 = ipaddress.IPv6Network("2000::/3")


def _network(cidr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(cidr, str) or is_unknown(cidr):
        return None
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def whole_internet(cidrs: Iterable[Any]) -> list[str]:
    """The whole internets (`0.0.0.0/0`, `::/0`) that the known CIDRs of `cidrs` admit together.

    A family counts as admitted when the ranges cover every public address of it: all of
    IPv4 but the special-purpose ranges (RFC 1918, CGNAT, loopback, link-local, documentation,
    multicast, reserved), all of IPv6's global unicast 2000::/3. So `0.0.0.0/0`, two /1
    ranges, or `0.0.0.0/1` + `128.0.0.0/2` + `192.0.0.0/3` all admit the internet.
    Unknown and unparsable entries are ignored.
    """
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for cidr in cidrs:
        network = _network(cidr)
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        elif isinstance(network, ipaddress.IPv6Network):
            v6.append(network)
    found = []
    if v4 and any(n.prefixlen == 0 for n in ipaddress.collapse_addresses([*v4, *_NOT_PUBLIC_V4])):
        found.append("0.0.0.0/0")
    if v6 and any(n.supernet_of(_PUBLIC_V6) for n in ipaddress.collapse_addresses(v6)):
        found.append("::/0")
    return found


def _internet_phrase(cidrs: Sequence[Any], covered: Sequence[str]) -> str:
    whole = " and ".join(covered)
    single = any((n := _network(c)) is not None and n.prefixlen == 0 for c in cidrs)
    return whole if single else f"{whole}, in pieces"


# -- Kubernetes objects, wherever they come from --------------------------------------------------


def _object_type(obj: Any) -> str | None:
    """The Pulumi type of a Kubernetes object (`kubernetes:<group>/<version>:<Kind>`), None if unknown."""
    api_version, kind = _at(obj, "apiVersion"), _at(obj, "kind")
    if not (isinstance(api_version, str) and isinstance(kind, str)) or is_unknown(api_version) or is_unknown(kind):
        return None
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def _config_group_objects(props: Props) -> list[Mapping[str, Any]]:
    """The objects of a `yaml/v2:ConfigGroup`: its `objs` and the documents of its `yaml` (Lists expanded)."""
    found: list[Any] = list(_items(_at(props, "objs")))
    text = _at(props, "yaml")
    for document in [text] if isinstance(text, str) else _items(text):
        if not isinstance(document, str) or is_unknown(document):
            continue
        try:
            found += [d for d in yaml.safe_load_all(document) if d is not None]
        except yaml.YAMLError:
            continue  # the provider refuses it; nothing for a policy to judge
    objects: list[Mapping[str, Any]] = []
    while found:
        obj = found.pop(0)
        if isinstance(obj, Mapping) and isinstance(_at(obj, "kind"), str) and str(obj["kind"]).endswith("List"):
            found = _items(_at(obj, "items")) + found
        elif isinstance(obj, Mapping):
            objects.append(obj)
    return objects


def _k8s_objects(type_: str, props: Props) -> list[tuple[str, Props, str]]:
    """(type, props, where) of each Kubernetes object a resource declares: itself, or a ConfigGroup's objects.

    `where` names an object inside a ConfigGroup ('' for the resource itself).
    """
    if type_ != CONFIG_GROUP:
        return [(type_, props, "")]
    found = []
    for obj in _config_group_objects(props):
        obj_type = _object_type(obj)
        if obj_type is None:
            continue
        namespace, name = _at(obj, "metadata", "namespace"), _at(obj, "metadata", "name")
        place = f"{namespace}/{name}" if _known(namespace) else str(name)
        found.append((obj_type, obj, f"{obj['kind']} {place} in the ConfigGroup"))
    return found


def _for_each_object(type_: str, props: Props, rule: ResourceRule) -> list[str]:
    """`rule` on each Kubernetes object the resource declares, messages prefixed with where the object is."""
    return [
        f"{where}: {message}" if where else message
        for obj_type, obj, where in _k8s_objects(type_, props)
        for message in rule(obj_type, obj)
    ]


def _cluster_resolver(resources: Sequence[StackResource]) -> Callable[[StackResource], str | None]:
    """A resource's cluster: its provider; for a component without one, the one provider of its children.

    None: a component whose cluster cannot be told (no children yet, or children on several clusters).
    """
    children: dict[str, set[str]] = {}
    for resource in resources:
        if resource.parent and resource.provider:
            children.setdefault(resource.parent, set()).add(resource.provider)

    def cluster(resource: StackResource) -> str | None:
        if resource.provider:
            return resource.provider
        if resource.type in COMPONENT_TYPES:
            found = children.get(resource.urn, set()) if resource.urn else set()
            return next(iter(found)) if len(found) == 1 else None
        return ""

    return cluster


def _stack_objects(resources: Sequence[StackResource]) -> Iterator[tuple[str, str | None, str, Props]]:
    """(label, cluster, type, props) of every Kubernetes object of the stack, ConfigGroup contents included."""
    cluster = _cluster_resolver(resources)
    for resource in resources:
        for obj_type, obj, where in _k8s_objects(resource.type, resource.props):
            yield (f"{resource.name} ({where})" if where else resource.name), cluster(resource), obj_type, obj


def _cluster_label(cluster: str) -> str:
    return cluster or "default provider"


# -- mandatory: mesh rules --------------------------------------------------------------------


def no_mesh_wide_permissive_mtls(type_: str, props: Props) -> list[str]:
    """No mesh-wide PeerAuthentication that lets plaintext in.

    Mesh-wide: in Istio's root namespace (`istio-system`), named `default` or without a
    workload selector. Its `mtls.mode` must not be PERMISSIVE or DISABLE; an unset mode
    there also means PERMISSIVE (nothing to inherit from). Any `security.istio.io` version
    (v1, v1beta1), as a resource of its own or inside a `yaml/v2:ConfigGroup` (`objs`,
    `yaml`); one rendered by a `helm.sh/v4:Chart` is a resource of its own. An object
    without a namespace (the provider's default) is not judged.
    """
    return _for_each_object(type_, props, _permissive_peer_authentication)


def _permissive_peer_authentication(type_: str, props: Props) -> list[str]:
    if not (type_.startswith("kubernetes:security.istio.io/") and type_.endswith(":PeerAuthentication")):
        return []
    namespace, name = _at(props, "metadata", "namespace"), _at(props, "metadata", "name")
    if is_unknown(namespace) or namespace != ISTIO_ROOT_NAMESPACE:
        return []
    if name != "default" and _no_selector(_at(props, "spec", "selector")) is not True:
        return []  # a workload policy (or not known yet), not mesh-wide
    mode = _at(props, "spec", "mtls", "mode")
    if is_unknown(mode):
        return []
    label = f"PeerAuthentication {ISTIO_ROOT_NAMESPACE}/{name}"
    if mode in ("PERMISSIVE", "DISABLE"):
        return [f"{label} sets mesh-wide mTLS mode {mode}: plaintext is accepted across the mesh; use STRICT"]
    if mode in (MISSING, "UNSET"):
        return [f"{label} leaves the mesh-wide mTLS mode unset, which Istio treats as PERMISSIVE; set STRICT"]
    return []


def _mesh_wide_host(host: Any) -> bool:
    """`*`, or a wildcard over every service of the mesh (`*.local`, `*.cluster.local`, `*.svc.cluster.local`)."""
    if not isinstance(host, str) or is_unknown(host):
        return False
    return host == "*" or (host.startswith("*.") and "svc.cluster.local".endswith(host[2:]))


def no_mesh_wide_tls_disable(type_: str, props: Props) -> list[str]:
    """No mesh-wide DestinationRule that turns client TLS off.

    Mesh-wide: in Istio's root namespace (`istio-system`), without a workload selector,
    for host `*` (or a wildcard over every mesh service: `*.local`, `*.cluster.local`,
    `*.svc.cluster.local`). None of its TLS settings (`trafficPolicy.tls`, its
    `portLevelSettings`, its subsets') may be `mode: DISABLE`: sidecars would send
    plaintext to every service. Any `networking.istio.io` version (v1, v1beta1,
    v1alpha3), as a resource or inside a `yaml/v2:ConfigGroup`, like the PeerAuthentication rule.
    """
    return _for_each_object(type_, props, _mesh_wide_tls_disable)


def _mesh_wide_tls_disable(type_: str, props: Props) -> list[str]:
    if not (type_.startswith("kubernetes:networking.istio.io/") and type_.endswith(":DestinationRule")):
        return []
    namespace, name = _at(props, "metadata", "namespace"), _at(props, "metadata", "name")
    if is_unknown(namespace) or namespace != ISTIO_ROOT_NAMESPACE:
        return []
    if not _mesh_wide_host(_at(props, "spec", "host")):
        return []
    if _no_selector(_at(props, "spec", "workloadSelector")) is not True:
        return []
    policies: list[tuple[str, Any]] = [("trafficPolicy", _at(props, "spec", "trafficPolicy"))]
    for index, subset in enumerate(_items(_at(props, "spec", "subsets"))):
        policies.append((f"subsets[{index}].trafficPolicy", _at(subset, "trafficPolicy")))
    disabled = []
    for path, policy in policies:
        if _at(policy, "tls", "mode") == "DISABLE":
            disabled.append(f"{path}.tls")
        for index, setting in enumerate(_items(_at(policy, "portLevelSettings"))):
            if _at(setting, "tls", "mode") == "DISABLE":
                disabled.append(f"{path}.portLevelSettings[{index}].tls")
    if not disabled:
        return []
    return [
        f"DestinationRule {ISTIO_ROOT_NAMESPACE}/{name} for host {_at(props, 'spec', 'host')!r} sets mode DISABLE "
        f"({', '.join(disabled)}): sidecars send plaintext mesh-wide; use ISTIO_MUTUAL or leave TLS to auto mTLS"
    ]


def _runs_istiod(type_: str, props: Props) -> bool:
    """Whether an object runs a primary istiod (its CA): an istiod chart release without the remote
    profile, or an istiod Deployment (`app: istiod`) in istio-system (as a v4 Chart renders it)."""
    if type_ in HELM_TYPES and _chart_name(props) == "istiod":
        values = _at(props, "values")
        profile = _at(values, "profile")
        remote = _at(values, "istiodRemote", "enabled")
        local_istiod = _at(values, "istiodRemote", "enabledLocalInjectorIstiod")
        if any(is_unknown(v) for v in (values, profile, remote, local_istiod)):
            return False
        return local_istiod is True or (profile != "remote" and remote is not True)
    if type_ == DEPLOYMENT:
        return bool(
            _at(props, "metadata", "namespace") == ISTIO_ROOT_NAMESPACE
            and _at(props, "metadata", "labels", "app") == "istiod"
        )
    return False


def _may_be_cacerts(type_: str, props: Props) -> bool:
    """A Secret that is, or (name or namespace unknown) may be, istio-system/cacerts."""
    if type_ != SECRET:
        return False
    name, namespace = _at(props, "metadata", "name"), _at(props, "metadata", "namespace")
    return (is_unknown(name) or name == CACERTS) and (is_unknown(namespace) or namespace == ISTIO_ROOT_NAMESPACE)


def istiod_has_cacerts(resources: Sequence[StackResource]) -> list[str]:
    """Every cluster that runs a primary istiod has a `cacerts` Secret in istio-system.

    Without it istiod self-signs a root of its own and cross-cluster mTLS fails. A cluster is
    a Kubernetes provider: resources are grouped by the provider they use, and a component
    the engine reports without a provider (a `helm.sh/v4:Chart`, a `yaml/v2:ConfigGroup`)
    is placed on the one cluster its children use (not judged when that cannot be told).
    istiod runs where an `istiod` chart (helm.sh/v3 Release or v4 Chart) is released
    without the remote profile (`profile: remote` or `istiodRemote.enabled`, unless
    `enabledLocalInjectorIstiod`), or where an istiod Deployment (`app: istiod`, istio-system)
    is declared; a remote's istiod gets its certificates from its primary and needs none.
    The Secret may be a resource or a ConfigGroup object; one whose name or namespace is
    not known yet (preview) counts as present, and so does an istiod whose values are unknown
    count as absent.
    """
    istiod_on: dict[str, list[str]] = {}
    cacerts_on: set[str] = set()
    for label, cluster, type_, props in _stack_objects(resources):
        if cluster is None:
            continue
        if _runs_istiod(type_, props):
            istiod_on.setdefault(cluster, []).append(label)
        elif _may_be_cacerts(type_, props):
            cacerts_on.add(cluster)
    return [
        f"{', '.join(sorted(labels))} runs istiod with no Secret {CACERTS} in {ISTIO_ROOT_NAMESPACE} on the same "
        f"cluster ({_cluster_label(cluster)}): istiod would self-sign and cross-cluster mTLS fails"
        for cluster, labels in sorted(istiod_on.items())
        if cluster not in cacerts_on
    ]


def shared_root_of_trust(resources: Sequence[StackResource]) -> list[str]:
    """All `cacerts` Secrets in istio-system carry a `root-cert.pem`, and the same one.

    Secrets declared as resources or inside a ConfigGroup. A `cacerts` whose name,
    namespace or data is not known yet (preview) is not compared.
    """
    roots: dict[str, list[str]] = {}
    problems: list[str] = []
    for label, _cluster, type_, props in _stack_objects(resources):
        if not _may_be_cacerts(type_, props):
            continue
        name, namespace = _at(props, "metadata", "name"), _at(props, "metadata", "namespace")
        if not _known(name) or not _known(namespace) or not _secret_data_known(props):
            continue
        root = dict(_secret_values(props)).get(ROOT_CERT_KEY, MISSING)
        if root is MISSING:
            problems.append(f"Secret {label} ({CACERTS}) has no {ROOT_CERT_KEY}: istiod would self-sign")
        elif isinstance(root, str) and not is_unknown(root):
            roots.setdefault(root.strip(), []).append(label)
    if len(roots) > 1:
        groups = "; ".join(
            f"{hashlib.sha256(root.encode()).hexdigest()[:12]}: {', '.join(sorted(names))}"
            for root, names in sorted(roots.items(), key=lambda item: sorted(item[1]))
        )
        problems.append(f"the {CACERTS} Secrets carry {len(roots)} different {ROOT_CERT_KEY} values ({groups})")
    return problems


def _is_east_west_release(props: Props) -> bool:
    """The east-west gateway: released or named (`values.name`) istio-eastwestgateway, or any network gateway."""
    values = _at(props, "values")
    return (
        _at(props, "name") == EAST_WEST_GATEWAY
        or _at(values, "name") == EAST_WEST_GATEWAY
        or _truthy(_at(values, "networkGateway"))
    )


def east_west_gateway_mesh_ports_only(type_: str, props: Props) -> list[str]:
    """The east-west gateway exposes the mesh ports only, each on its own number.

    The east-west gateway: a `gateway` chart release (helm.sh/v3 Release or v4 Chart)
    released or named (`values.name`) istio-eastwestgateway, or with `values.networkGateway`
    set. Its values must set `networkGateway` (which gives the Service 15021, 15443, 15012,
    15017); `networkGatewayPorts` (Istio 1.30) may not move any of those ports or their
    target ports (a remapped 15443 breaks cross-network traffic, or sends it to another
    listener); `service.ports` may name only the mesh ports, each targeting itself.
    """
    if not _is_chart(type_, props, "gateway") or not _is_east_west_release(props):
        return []
    values = _at(props, "values")
    if is_unknown(values):
        return []
    problems = []
    network = _at(values, "networkGateway")
    if network is MISSING or network == "":
        problems.append(
            f"east-west gateway {EAST_WEST_GATEWAY} has no values.networkGateway: it would not serve "
            "cross-network traffic on the mesh ports"
        )
    moved = []
    network_ports = _at(values, "networkGatewayPorts")
    for port_name, default in NETWORK_GATEWAY_PORTS.items():
        for field in ("port", "targetPort"):
            value = _at(network_ports, port_name, field)
            if _known(value) and _port_number(value) != default:
                moved.append(f"networkGatewayPorts.{port_name}.{field} {value} (not {default})")
    ports = _at(values, "service", "ports")
    extra = set()
    for port in _items(ports):
        number, target = _port_number(_at(port, "port")), _at(port, "targetPort")
        if not _known(_at(port, "port")):
            continue
        if number not in MESH_PORTS:
            extra.add(str(_at(port, "port")))
        elif _known(target) and _port_number(target) != number:
            moved.append(f"service.ports {number} -> targetPort {target}")
    if extra:
        problems.append(
            f"east-west gateway {EAST_WEST_GATEWAY} exposes port(s) {', '.join(sorted(extra))} in "
            f"values.service.ports; only the mesh ports {', '.join(str(p) for p in sorted(MESH_PORTS))} belong on it"
        )
    if moved:
        problems.append(
            f"east-west gateway {EAST_WEST_GATEWAY} remaps mesh ports ({'; '.join(moved)}): peers reach "
            "15443/15012/15017 by number and the gateway listens on them; keep every port on its own number"
        )
    return problems


def network_gateway_is_the_east_west_gateway(type_: str, props: Props) -> list[str]:
    """A network gateway (`gateway` chart with `values.networkGateway`) is released as istio-eastwestgateway.

    meshlib's cross-network and istiod Gateways select `istio: eastwestgateway`, and the
    pack's rules know the east-west gateway by that name: another release name (which the
    chart uses for its Service, Deployment and labels) or another `values.name` makes a
    second, unmanaged door into the mesh. An unknown release name is not judged, nor is a v4
    Chart's missing `name` (the provider then names the release itself, from the Pulumi
    resource, which a resource rule does not see); a v3 Release without a name (Pulumi
    generates one with a random suffix) is.
    """
    if not _is_chart(type_, props, "gateway"):
        return []
    values = _at(props, "values")
    network = _at(values, "networkGateway")
    if is_unknown(values) or not _truthy(network):
        return []
    problems = []
    release = _at(props, "name")
    if type_ == HELM_CHART and release in (MISSING, ""):
        release = UNKNOWN
    if not is_unknown(release) and release != EAST_WEST_GATEWAY:
        shown = "an unset (generated) name" if release in (MISSING, "") else repr(release)
        problems.append(
            f"network gateway for network {network!r} is released as {shown}; release it as {EAST_WEST_GATEWAY}"
        )
    name = _at(values, "name")
    if _known(name) and name not in ("", EAST_WEST_GATEWAY):
        problems.append(f"network gateway for network {network!r} sets values.name {name!r}; use {EAST_WEST_GATEWAY}")
    return problems


def remote_secrets_use_reader_token(type_: str, props: Props) -> list[str]:
    """Remote secrets authenticate with a reader's bearer token over verified TLS; reader tokens are readers'.

    A remote secret (a Secret labelled `istio/multiCluster: "true"`) holds kubeconfigs whose
    users carry only a `token`: no exec or auth-provider plugin (istiod refuses them), no
    client certificate or key, no basic auth, no impersonation. A token that is a readable
    JWT must be a service-account token of istio-system's `istio-reader-service-account` or
    `meshlib-reader`; an AWS IAM (`k8s-aws-v1.`) or Google OAuth (`ya29.`) token is refused
    (an opaque token cannot be judged). Every kubeconfig cluster verifies the API server:
    an `https://` server, `certificate-authority-data`, no `insecure-skip-tls-verify`.

    A reader token Secret (type `kubernetes.io/service-account-token` in istio-system named
    `istio-reader-token-*` or `meshlib-reader-token-*`) names one of those two accounts in
    its `kubernetes.io/service-account.name` annotation. Both kinds of Secrets are judged as
    resources and inside a `yaml/v2:ConfigGroup`.
    """
    return _for_each_object(type_, props, _remote_secret_problems)


def _remote_secret_problems(type_: str, props: Props) -> list[str]:
    if type_ != SECRET:
        return []
    label = _at(props, "metadata", "labels", MULTI_CLUSTER_LABEL)
    if not _known(label) or str(label).lower() != "true":
        return _reader_token_secret_problems(props)
    problems = []
    for key, text in _secret_values(props):
        if not isinstance(text, str) or is_unknown(text):
            continue
        where = f"remote secret entry {key!r}"
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError:
            problems.append(f"{where} is not a YAML kubeconfig")
            continue
        if not isinstance(config, Mapping):
            problems.append(f"{where} has no kubeconfig users")
            continue
        problems += _kubeconfig_cluster_problems(where, _at(config, "clusters"))
        users = _at(config, "users")
        if is_unknown(users):
            continue
        if not _items(users):
            problems.append(f"{where} has no kubeconfig users")
        for user in _items(users):
            problems += _kubeconfig_user_problems(where, _at(user, "name"), _at(user, "user"))
    return problems


def _kubeconfig_cluster_problems(where: str, clusters: Any) -> list[str]:
    if is_unknown(clusters):
        return []
    if not _items(clusters):
        return [f"{where} has no kubeconfig clusters"]
    problems = []
    for entry in _items(clusters):
        name, cluster = _at(entry, "name"), _at(entry, "cluster")
        if is_unknown(cluster):
            continue
        skip = _at(cluster, "insecure-skip-tls-verify")
        if skip is True or (isinstance(skip, str) and skip.lower() == "true"):
            problems.append(
                f"{where}: cluster {name!r} sets insecure-skip-tls-verify: istiod would send its token to "
                "whoever answers at the server address"
            )
        ca = _at(cluster, "certificate-authority-data")
        if ca is MISSING or ca == "":
            problems.append(
                f"{where}: cluster {name!r} has no certificate-authority-data: istiod cannot verify the API server"
            )
        server = _at(cluster, "server")
        if isinstance(server, str) and not is_unknown(server) and not server.lower().startswith("https://"):
            problems.append(f"{where}: cluster {name!r} server is not https://: the token would travel in plaintext")
    return problems


def _kubeconfig_user_problems(where: str, name: Any, credentials: Any) -> list[str]:
    if is_unknown(credentials):
        return []
    keys = set(credentials) if isinstance(credentials, Mapping) else set()
    forbidden = sorted(keys - {"token"})
    if forbidden:
        return [
            f"{where}: user {name!r} authenticates with {', '.join(forbidden)}; istiod must use the "
            "reader service account's bearer token only (no exec/auth-provider plugins, no admin credentials)"
        ]
    token = _at(credentials, "token")
    if token is MISSING or token == "":
        return [f"{where}: user {name!r} has no bearer token"]
    if not isinstance(token, str) or is_unknown(token):
        return []
    owner = _token_owner(token)
    if owner is None or owner in {(ISTIO_ROOT_NAMESPACE, account) for account in READER_SERVICE_ACCOUNTS}:
        return []
    readers = " or ".join(sorted(READER_SERVICE_ACCOUNTS))
    if isinstance(owner, str):
        return [f"{where}: user {name!r} carries {owner}, not the token of {ISTIO_ROOT_NAMESPACE}/{readers}"]
    return [
        f"{where}: user {name!r} carries the token of service account {owner[0]}/{owner[1]}, not of "
        f"{ISTIO_ROOT_NAMESPACE}/{readers}"
    ]


def _token_owner(token: str) -> tuple[str, str] | str | None:
    """Who a bearer token belongs to: (namespace, service account), a description of a non-reader
    kind of token, or None when an opaque token cannot be told."""
    if token.startswith("k8s-aws-v1."):
        return "an AWS IAM token (aws eks get-token)"
    if token.startswith("ya29."):
        return "a Google OAuth access token"
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(claims, Mapping):
        return None
    bound = claims.get("kubernetes.io")
    if isinstance(bound, Mapping) and isinstance(bound.get("serviceaccount"), Mapping):
        return str(bound.get("namespace")), str(bound["serviceaccount"].get("name"))
    legacy = claims.get("kubernetes.io/serviceaccount/service-account.name")
    if legacy is not None:
        return str(claims.get("kubernetes.io/serviceaccount/namespace")), str(legacy)
    subject = claims.get("sub")
    if isinstance(subject, str) and subject.startswith("system:serviceaccount:") and subject.count(":") == 3:
        namespace, account = subject.split(":")[2:]
        return namespace, account
    return "a token that is not a Kubernetes service-account token"


def _reader_token_secret_problems(props: Props) -> list[str]:
    kind, namespace, name = _at(props, "type"), _at(props, "metadata", "namespace"), _at(props, "metadata", "name")
    if kind != SERVICE_ACCOUNT_TOKEN or namespace != ISTIO_ROOT_NAMESPACE:
        return []
    if not (isinstance(name, str) and name.startswith(READER_TOKEN_SECRET_PREFIXES)):
        return []
    account = _at(props, "metadata", "annotations", SERVICE_ACCOUNT_NAME_ANNOTATION)
    if is_unknown(account) or account in READER_SERVICE_ACCOUNTS:
        return []
    shown = "no service account" if account in (MISSING, "") else f"service account {account!r}"
    return [
        f"reader token Secret {ISTIO_ROOT_NAMESPACE}/{name} is for {shown}; remote secrets may carry only the "
        f"token of {' or '.join(sorted(READER_SERVICE_ACCOUNTS))}"
    ]


def istio_charts_pinned_from_istio_repository(type_: str, props: Props) -> list[str]:
    """Releases of Istio's charts come from Istio's repository at an exact version.

    Istio's chart: a Helm release (helm.sh/v3 Release or v4 Chart) of a chart named `base`,
    `istiod` or `gateway` (the last path segment of `chart`) that is installed into
    istio-system (`namespace`), or that comes from Istio's repository (`repositoryOpts.repo`).
    Such a release must name the bare chart, come from Istio's repository and pin an exact
    version: a chart of those names installed into istio-system from a mirror (or with no
    repository) is refused, and so is an unpinned one from Istio's repository in any
    namespace. A chart that merely shares a name (`base` from another repository, into
    another namespace or none) is someone else's and passes. Nothing is judged while the
    namespace or the repository that would decide it is not known yet.
    """
    chart = _chart_name(props)
    if type_ not in HELM_TYPES or chart not in ISTIO_CHARTS:
        return []
    repo = _at(props, "repositoryOpts", "repo")
    from_istio = isinstance(repo, str) and not is_unknown(repo) and repo.rstrip("/") == ISTIO_CHART_REPOSITORY
    if not from_istio and _at(props, "namespace") != ISTIO_ROOT_NAMESPACE:
        return []  # someone else's chart of the same name (or not known yet)
    problems = []
    raw_chart = str(_at(props, "chart"))
    if raw_chart != chart:
        problems.append(
            f"chart {raw_chart!r}: name the Istio chart ({chart!r}) and set repositoryOpts.repo "
            f"to {ISTIO_CHART_REPOSITORY}"
        )
    if not from_istio and not is_unknown(repo):
        shown = "none" if repo is MISSING else repr(repo)
        problems.append(
            f"chart {chart!r} installed into {ISTIO_ROOT_NAMESPACE} comes from repository {shown}, not Istio's "
            f"{ISTIO_CHART_REPOSITORY}"
        )
    version = _at(props, "version")
    if not is_unknown(version) and not (isinstance(version, str) and _EXACT_VERSION.match(version)):
        shown = "no version" if version in (MISSING, "") else f"version {version!r}"
        problems.append(f"chart {chart!r} has {shown}: pin an exact Istio release such as 1.30.3 (no ranges)")
    return problems


# -- mesh ports open to the internet ------------------------------------------------------------


@dataclass(frozen=True)
class _Grant:
    """One way a resource admits a set of CIDRs to some mesh ports."""

    owner: str
    target: tuple[str, ...]
    """What it opens: grants with equal targets add up (one security group, one set of GCP instances)."""
    ports: frozenset[int]
    cidrs: tuple[Any, ...]
    load_balancer_cluster: str | None = None
    """For a load balancer's source ranges: its cluster (istiod's ports count only if a Gateway routes them)."""


def _service_ports(entries: Iterable[Any]) -> frozenset[int]:
    """Mesh ports among Service port entries' `port` and `targetPort`."""
    numbers = set()
    for entry in entries:
        for field in ("port", "targetPort"):
            value = _at(entry, field)
            if _known(value) and (number := _port_number(value)) is not None:
                numbers.add(number)
    return frozenset(numbers & MESH_PORTS)


def _source_ranges(ranges: Any, annotations: Any) -> list[Any]:
    """A LoadBalancer's source ranges: the field, else the legacy annotation (comma-separated)."""
    if _items(ranges):
        return _items(ranges)
    annotation = _at(annotations, LOAD_BALANCER_SOURCE_RANGES_ANNOTATION)
    if isinstance(annotation, str) and not is_unknown(annotation):
        return [part.strip() for part in annotation.split(",") if part.strip()]
    return []


def _gateway_values_grants(owner: str, props: Props, cluster: str | None) -> list[_Grant]:
    values = _at(props, "values")
    service = _at(values, "service")
    service_type = _at(service, "type")
    if not isinstance(values, Mapping) or is_unknown(service_type):
        return []
    if service_type is not MISSING and service_type != "LoadBalancer":
        return []
    cidrs = _source_ranges(_at(service, "loadBalancerSourceRanges"), _at(service, "annotations"))
    network = _at(values, "networkGateway")
    if not cidrs or is_unknown(network):
        return []
    if _truthy(network):
        network_ports = _at(values, "networkGatewayPorts")
        if is_unknown(network_ports):
            return []
        entries = []
        for port_name, number in NETWORK_GATEWAY_PORTS.items():
            entry = _at(network_ports, port_name)
            entries.append(
                {
                    "port": _at(entry, "port") if _known(_at(entry, "port")) else number,
                    "targetPort": _at(entry, "targetPort") if _known(_at(entry, "targetPort")) else number,
                }
            )
        ports = _service_ports(entries)
    else:
        entries_value = _at(service, "ports")
        if is_unknown(entries_value):
            return []
        ports = _service_ports(
            _items(entries_value)
            if entries_value is not MISSING
            else [{"port": p} for p in GATEWAY_CHART_DEFAULT_PORTS]
        )
    return [_Grant(f"{owner} (values.service load balancer)", ("resource", owner), ports, tuple(cidrs), cluster)]


def _service_grants(owner: str, props: Props, cluster: str | None) -> list[_Grant]:
    if _at(props, "spec", "type") != "LoadBalancer":
        return []
    cidrs = _source_ranges(_at(props, "spec", "loadBalancerSourceRanges"), _at(props, "metadata", "annotations"))
    ports = _service_ports(_items(_at(props, "spec", "ports")))
    if not cidrs:
        return []
    return [_Grant(f"{owner} (load balancer)", ("resource", owner), ports, tuple(cidrs), cluster)]


def _protocol_ports(protocol: Any, from_port: Any, to_port: Any) -> frozenset[int] | None:
    """Mesh ports (TCP) an AWS rule opens; None if not known yet."""
    if not _known(protocol):
        return None
    kind = str(protocol).lower()
    if kind in ("-1", "all"):
        return MESH_PORTS
    if kind not in ("tcp", "6"):
        return frozenset()
    low, high = _at_number(from_port), _at_number(to_port)
    if low is None or high is None:
        return None
    return frozenset(p for p in MESH_PORTS if low <= p <= high)


def _at_number(value: Any) -> int | None:
    return _port_number(value) if _known(value) else None


def _aws_grants(owner: str, type_: str, props: Props) -> list[_Grant]:
    group = _at(props, "securityGroupId")
    target = ("aws", str(group)) if isinstance(group, str) and not is_unknown(group) else ("resource", owner)
    if type_ == AWS_SECURITY_GROUP_INGRESS_RULE:
        ports = _protocol_ports(_at(props, "ipProtocol"), _at(props, "fromPort"), _at(props, "toPort"))
        cidrs = [c for c in (_at(props, "cidrIpv4"), _at(props, "cidrIpv6")) if _known(c)]
        return [_Grant(owner, target, ports, tuple(cidrs))] if ports else []
    if type_ == AWS_SECURITY_GROUP_RULE:
        if _at(props, "type") != "ingress":
            return []
        ports = _protocol_ports(_at(props, "protocol"), _at(props, "fromPort"), _at(props, "toPort"))
        cidrs = _items(_at(props, "cidrBlocks")) + _items(_at(props, "ipv6CidrBlocks"))
        return [_Grant(owner, target, ports, tuple(cidrs))] if ports else []
    grants = []  # an aws:ec2/securityGroup's inline ingress: its entries add up
    for index, rule in enumerate(_items(_at(props, "ingress"))):
        ports = _protocol_ports(_at(rule, "protocol"), _at(rule, "fromPort"), _at(rule, "toPort"))
        cidrs = _items(_at(rule, "cidrBlocks")) + _items(_at(rule, "ipv6CidrBlocks"))
        if ports:
            grants.append(_Grant(f"{owner} (ingress[{index}])", ("resource", owner), ports, tuple(cidrs)))
    return grants


def _firewall_ports(allows: Any) -> frozenset[int] | None:
    """Mesh ports a GCP firewall's `allows` open; None if not known yet."""
    if is_unknown(allows):
        return None
    found: set[int] = set()
    for allow in _items(allows):
        protocol, ports = _at(allow, "protocol"), _at(allow, "ports")
        if not _known(protocol) or is_unknown(ports):
            return None
        if str(protocol).lower() == "all" or (str(protocol).lower() in ("tcp", "6") and not _items(ports)):
            return MESH_PORTS
        if str(protocol).lower() not in ("tcp", "6"):
            continue
        for entry in _items(ports):
            if is_unknown(entry):
                return None
            low, _, high = str(entry).partition("-")
            first, last = _port_text(low), _port_text(high or low)
            if first is not None and last is not None:
                found |= {p for p in MESH_PORTS if first <= p <= last}
    return frozenset(found)


def _port_text(text: str) -> int | None:
    """A port written in a GCP firewall (`"15012"`, or a number the engine serialised as `15012.0`)."""
    try:
        return int(float(text.strip()))
    except ValueError:
        return None


def _firewall_grants(owner: str, props: Props) -> list[_Grant]:
    direction = _at(props, "direction")
    if is_unknown(direction) or direction not in (MISSING, "INGRESS") or _at(props, "disabled") is True:
        return []
    ports = _firewall_ports(_at(props, "allows"))
    cidrs = _items(_at(props, "sourceRanges"))
    if not ports or not cidrs:
        return []
    network, tags, accounts = _at(props, "network"), _at(props, "targetTags"), _at(props, "targetServiceAccounts")
    target: tuple[str, ...]
    if isinstance(network, str) and not any(is_unknown(v) for v in (network, tags, accounts)):
        target = (
            "gcp",
            network,
            ",".join(sorted(map(str, _items(tags)))),
            ",".join(sorted(map(str, _items(accounts)))),
        )
    else:
        target = ("resource", owner)
    return [_Grant(owner, target, ports, tuple(cidrs))]


def _grants(owner: str, cluster: str | None, type_: str, props: Props) -> list[_Grant]:
    if _is_chart(type_, props, "gateway"):
        return _gateway_values_grants(owner, props, cluster)
    if type_ == SERVICE:
        return _service_grants(owner, props, cluster)
    if type_ in (AWS_SECURITY_GROUP, AWS_SECURITY_GROUP_RULE, AWS_SECURITY_GROUP_INGRESS_RULE):
        return _aws_grants(owner, type_, props)
    if type_ == GCP_FIREWALL:
        return _firewall_grants(owner, props)
    return []


@dataclass(frozen=True)
class _Exposure:
    port: int
    owners: tuple[str, ...]
    internet: str
    load_balancer: bool
    routed: bool

    @property
    def istiod(self) -> bool:
        """Exposes istiod itself: by a security group or firewall, or by a load balancer whose cluster
        has an Istio Gateway serving the port (otherwise no listener answers on it)."""
        return self.port in ISTIOD_PORTS and (not self.load_balancer or self.routed)

    def message(self) -> str:
        return (
            f"{self.port} ({PORT_ROLES[self.port]}) is open to the whole internet ({self.internet}) through "
            f"{', '.join(self.owners)}"
        )


def _internet_exposures(resources: Sequence[StackResource]) -> list[_Exposure]:
    routed: dict[str | None, set[int]] = {}
    grants: list[_Grant] = []
    for owner, cluster, type_, props in _stack_objects(resources):
        if type_.startswith("kubernetes:networking.istio.io/") and type_.endswith(":Gateway"):
            for server in _items(_at(props, "spec", "servers")):
                number = _at(server, "port", "number")
                if _known(number) and _port_number(number) is not None:
                    routed.setdefault(cluster, set()).add(int(number))
        grants += _grants(owner, cluster, type_, props)
    groups: dict[tuple[tuple[str, ...], int], list[_Grant]] = {}
    for grant in grants:
        for port in grant.ports:
            groups.setdefault((grant.target, port), []).append(grant)
    exposures = []
    for (_target, port), members in sorted(groups.items()):
        cidrs = [cidr for grant in members for cidr in grant.cidrs]
        covered = whole_internet(cidrs)
        if not covered:
            continue
        cluster = members[0].load_balancer_cluster
        exposures.append(
            _Exposure(
                port,
                tuple(sorted({grant.owner for grant in members})),
                _internet_phrase(cidrs, covered),
                load_balancer=cluster is not None,
                routed=cluster is not None and port in routed.get(cluster, set()),
            )
        )
    return exposures


def istiod_ports_not_open_to_internet(resources: Sequence[StackResource]) -> list[str]:
    """istiod's 15012 (xDS, CA) and 15017 (webhooks) are not open to the whole internet.

    Judged: AWS security groups (`aws:ec2/securityGroupRule` `cidrBlocks`,
    `aws:vpc/securityGroupIngressRule` `cidrIpv4`/`cidrIpv6`, `aws:ec2/securityGroup` inline
    `ingress`), GCP firewalls (`sourceRanges` with `allows` covering the port, all ports or
    protocol `all`), and LoadBalancer source ranges (`service.loadBalancerSourceRanges`, or
    the legacy annotation, of a `gateway` chart's values, or of a LoadBalancer Service) when
    the same cluster has an Istio Gateway serving the port (primary-remote's istiod
    Gateway): without one the gateway has no listener there (see the advisory rule).
    "The whole internet" is `whole_internet`: 0.0.0.0/0, or ranges that add up to it,
    within one resource or across rules of one security group, or of GCP firewalls with the
    same network and targets. Only explicit ranges are judged: a load balancer without source
    ranges is open to all, but that is the gateway chart's default, not a rule to check.
    """
    return [
        f"{exposure.message()}: admit only the remote clusters' egress addresses"
        for exposure in _internet_exposures(resources)
        if exposure.istiod
    ]


def mesh_ports_not_open_to_internet(resources: Sequence[StackResource]) -> list[str]:
    """The other mesh ports (15443 cross-network mTLS, 15021 health) are not open to the whole internet.

    Advisory: meshlib's east-west gateways accept 15443 from anywhere while the peers' egress
    addresses are unknown (mutual TLS still guards it). Judged like
    `istiod_ports_not_open_to_internet`, which also lists the sources; 15012/15017 opened by a
    load balancer on a cluster with no Istio Gateway serving them are reported here too.
    """
    return [
        f"{exposure.message()}: admit only the peers' egress addresses where they are known"
        for exposure in _internet_exposures(resources)
        if not exposure.istiod
    ]


# -- advisory: cluster hygiene ------------------------------------------------------------------


def cluster_api_not_open_to_internet(type_: str, props: Props) -> list[str]:
    """EKS/GKE API endpoints are not open to the whole internet.

    EKS: a public endpoint without `publicAccessCidrs` (AWS then admits 0.0.0.0/0), or whose
    ranges admit the whole internet (`whole_internet`: 0.0.0.0/0, or pieces adding up to it).
    GKE (unless the endpoint is private): no `masterAuthorizedNetworksConfig`, `cidrBlocks`
    admitting the whole internet, or `gcpPublicCidrsAccessEnabled` (every Google Cloud
    public address, any customer's VM, reaches the API server).
    """
    if type_ == EKS_CLUSTER:
        vpc = _at(props, "vpcConfig")
        public = _at(vpc, "endpointPublicAccess")
        if is_unknown(vpc) or is_unknown(public) or public is False:
            return []
        cidrs = _at(vpc, "publicAccessCidrs")
        if is_unknown(cidrs):
            return []
        if not _items(cidrs):
            return ["EKS public API endpoint without publicAccessCidrs is open to 0.0.0.0/0 (the AWS default)"]
        covered = whole_internet(_items(cidrs))
        if covered:
            return [
                f"EKS public API endpoint admits the whole internet ({_internet_phrase(_items(cidrs), covered)}) "
                "through vpcConfig.publicAccessCidrs"
            ]
        return []
    if type_ == GKE_CLUSTER:
        if _at(props, "privateClusterConfig", "enablePrivateEndpoint") is True:
            return []  # no public endpoint at all
        config = _at(props, "masterAuthorizedNetworksConfig")
        if is_unknown(config):
            return []
        if config is MISSING:
            return ["GKE API endpoint has no masterAuthorizedNetworksConfig: it is open to 0.0.0.0/0"]
        problems = []
        blocks = [_at(block, "cidrBlock") for block in _items(_at(config, "cidrBlocks"))]
        covered = whole_internet(blocks)
        if covered:
            problems.append(
                f"GKE API endpoint admits the whole internet ({_internet_phrase(blocks, covered)}) through "
                "masterAuthorizedNetworksConfig.cidrBlocks"
            )
        if _at(config, "gcpPublicCidrsAccessEnabled") is True:
            problems.append(
                "GKE API endpoint admits every Google Cloud public address "
                "(masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled): any Google Cloud VM can reach it"
            )
        return problems
    return []


def cluster_deletion_protection(type_: str, props: Props) -> list[str]:
    """EKS/GKE clusters have deletion protection (GKE's provider default is on; EKS's is off)."""
    protection = _at(props, "deletionProtection")
    if is_unknown(protection):
        return []
    if type_ == EKS_CLUSTER and protection is not True:
        return ["EKS cluster without deletionProtection: one mistaken `pulumi destroy` deletes it"]
    if type_ == GKE_CLUSTER and protection is False:
        return ["GKE cluster with deletionProtection false: one mistaken `pulumi destroy` deletes it"]
    return []


# -- the pack ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySpec:
    """One policy of the pack: exactly one of `resource_rule` and `stack_rule` is set."""

    name: str
    description: str
    enforcement: Literal["mandatory", "advisory"]
    resource_rule: ResourceRule | None = None
    stack_rule: StackRule | None = None


POLICIES: list[PolicySpec] = [
    PolicySpec(
        "istio-no-mesh-wide-permissive-mtls",
        "No mesh-wide PeerAuthentication (istio-system, `default` or no selector) in PERMISSIVE or DISABLE mode, "
        "as a resource or in a ConfigGroup.",
        "mandatory",
        resource_rule=no_mesh_wide_permissive_mtls,
    ),
    PolicySpec(
        "istio-no-mesh-wide-tls-disable",
        "No mesh-wide DestinationRule (istio-system, host `*`, no workload selector) with TLS mode DISABLE, "
        "as a resource or in a ConfigGroup.",
        "mandatory",
        resource_rule=no_mesh_wide_tls_disable,
    ),
    PolicySpec(
        "istio-istiod-has-cacerts",
        "Every cluster running a primary istiod has a `cacerts` Secret in istio-system.",
        "mandatory",
        stack_rule=istiod_has_cacerts,
    ),
    PolicySpec(
        "istio-shared-root-of-trust",
        "All `cacerts` Secrets carry a root-cert.pem, the same one.",
        "mandatory",
        stack_rule=shared_root_of_trust,
    ),
    PolicySpec(
        "istio-east-west-gateway-mesh-ports-only",
        "The east-west gateway sets networkGateway and exposes only 15021/15443/15012/15017, none remapped.",
        "mandatory",
        resource_rule=east_west_gateway_mesh_ports_only,
    ),
    PolicySpec(
        "istio-network-gateway-is-east-west-gateway",
        "A network gateway (gateway chart with networkGateway) is released and named istio-eastwestgateway.",
        "mandatory",
        resource_rule=network_gateway_is_the_east_west_gateway,
    ),
    PolicySpec(
        "istio-remote-secrets-use-reader-token",
        "Remote secrets carry only a reader's bearer token over verified TLS; reader tokens belong to "
        "istio-reader-service-account or meshlib-reader.",
        "mandatory",
        resource_rule=remote_secrets_use_reader_token,
    ),
    PolicySpec(
        "istio-charts-pinned-from-istio-repository",
        "Istio's base/istiod/gateway charts (in istio-system, or from Istio's repository) come from "
        "istio-release.storage.googleapis.com at an exact version.",
        "mandatory",
        resource_rule=istio_charts_pinned_from_istio_repository,
    ),
    PolicySpec(
        "istio-istiod-ports-not-open-to-internet",
        "istiod's 15012/15017 are not open to the whole internet (security groups, firewalls, routed "
        "load balancer source ranges).",
        "mandatory",
        stack_rule=istiod_ports_not_open_to_internet,
    ),
    PolicySpec(
        "istio-mesh-ports-not-open-to-internet",
        "The east-west ports 15443/15021 are not open to the whole internet.",
        "advisory",
        stack_rule=mesh_ports_not_open_to_internet,
    ),
    PolicySpec(
        "cluster-api-not-open-to-internet",
        "EKS and GKE API endpoints admit neither the whole internet (in one range or in pieces) nor every "
        "Google Cloud address.",
        "advisory",
        resource_rule=cluster_api_not_open_to_internet,
    ),
    PolicySpec(
        "cluster-deletion-protection",
        "EKS and GKE clusters have deletion protection on.",
        "advisory",
        resource_rule=cluster_deletion_protection,
    ),
]


def check_resource(type_: str, props: Props, policies: Iterable[PolicySpec] = POLICIES) -> dict[str, list[str]]:
    """Violations of one resource, by policy name (policies without any are left out)."""
    found = {policy.name: policy.resource_rule(type_, props) for policy in policies if policy.resource_rule is not None}
    return {name: messages for name, messages in found.items() if messages}


def check_stack(resources: Sequence[StackResource], policies: Iterable[PolicySpec] = POLICIES) -> dict[str, list[str]]:
    """Violations of a whole stack, by policy name: resource rules on each resource, then stack rules.

    Resource violations are prefixed with the resource's name.
    """
    found: dict[str, list[str]] = {}
    for policy in policies:
        messages: list[str] = []
        if policy.resource_rule is not None:
            for resource in resources:
                messages += [f"{resource.name}: {m}" for m in policy.resource_rule(resource.type, resource.props)]
        if policy.stack_rule is not None:
            messages += policy.stack_rule(resources)
        if messages:
            found[policy.name] = messages
    return found
