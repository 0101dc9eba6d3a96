"""The rules of the meshlib policy pack, as pure functions.

Resource rules take `(resource type, props)` and stack rules a list of `StackResource`,
and return violation messages (empty: compliant). Props are plain dicts and lists in
the shape the Pulumi engine serialises inputs (camelCase keys), which is what
pulumi-policy hands a policy and what `meshlib.offline.engine.Registered.plain` shows.

During `pulumi preview` some values are not known yet: a rule skips what it cannot see
and never reports a violation because of an unknown value.

This module depends on nothing but the standard library and PyYAML, so the policy pack
runs in its own virtualenv without meshlib, and the tests call the rules directly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

__all__ = [
    "EAST_WEST_GATEWAY",
    "ISTIO_CHARTS",
    "ISTIO_CHART_REPOSITORY",
    "MESH_PORTS",
    "POLICIES",
    "PolicySpec",
    "StackResource",
    "check_resource",
    "check_stack",
    "cluster_api_not_open_to_internet",
    "cluster_deletion_protection",
    "east_west_gateway_mesh_ports_only",
    "is_unknown",
    "istio_charts_pinned_from_istio_repository",
    "no_mesh_wide_permissive_mtls",
    "remote_secrets_use_reader_token",
    "shared_root_of_trust",
]

ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
ISTIO_CHARTS = frozenset({"base", "istiod", "gateway"})
ISTIO_ROOT_NAMESPACE = "istio-system"
EAST_WEST_GATEWAY = "istio-eastwestgateway"
MESH_PORTS = frozenset({15021, 15443, 15012, 15017})
"""Health, cross-network mTLS (AUTO_PASSTHROUGH), istiod xDS/CA, istiod webhooks."""
CACERTS = "cacerts"
ROOT_CERT_KEY = "root-cert.pem"
MULTI_CLUSTER_LABEL = "istio/multiCluster"

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
GKE_CLUSTER = "gcp:container/cluster:Cluster"

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


def _chart_name(props: Props) -> str | None:
    """The chart's name (last path segment of `chart`), None if unknown or absent."""
    chart = _at(props, "chart")
    if not isinstance(chart, str) or is_unknown(chart):
        return None
    return chart.rstrip("/").rsplit("/", 1)[-1]


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


def _open_to_all(cidr: Any) -> bool:
    if not isinstance(cidr, str) or is_unknown(cidr):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


# -- mandatory: mesh rules --------------------------------------------------------------------


def no_mesh_wide_permissive_mtls(type_: str, props: Props) -> list[str]:
    """No mesh-wide PeerAuthentication that lets plaintext in.

    Mesh-wide: in Istio's root namespace (`istio-system`), named `default` or without a
    workload selector. Its `mtls.mode` must not be PERMISSIVE or DISABLE; an unset mode
    there also means PERMISSIVE (nothing to inherit from).
    """
    if not (type_.startswith("kubernetes:security.istio.io/") and type_.endswith(":PeerAuthentication")):
        return []
    namespace, name = _at(props, "metadata", "namespace"), _at(props, "metadata", "name")
    if is_unknown(namespace) or namespace != ISTIO_ROOT_NAMESPACE:
        return []
    if name != "default":
        selector = _at(props, "spec", "selector")
        if is_unknown(selector) or is_unknown(_at(selector, "matchLabels")):
            return []
        if _at(selector, "matchLabels") not in (MISSING, {}):
            return []  # a workload policy, not mesh-wide
    mode = _at(props, "spec", "mtls", "mode")
    if is_unknown(mode):
        return []
    label = f"PeerAuthentication {ISTIO_ROOT_NAMESPACE}/{name}"
    if mode in ("PERMISSIVE", "DISABLE"):
        return [f"{label} sets mesh-wide mTLS mode {mode}: plaintext is accepted across the mesh; use STRICT"]
    if mode in (MISSING, "UNSET"):
        return [f"{label} leaves the mesh-wide mTLS mode unset, which Istio treats as PERMISSIVE; set STRICT"]
    return []


def shared_root_of_trust(resources: Sequence[StackResource]) -> list[str]:
    """Every cluster with istiod has a `cacerts` Secret, and all `root-cert.pem` values are equal.

    Clusters are told apart by Kubernetes provider. A `cacerts` whose name, namespace or
    data is not known yet (preview) counts as present and is not compared.
    """
    istiod_on: dict[str, list[str]] = {}
    for resource in resources:
        if resource.type == HELM_RELEASE and _chart_name(resource.props) == "istiod":
            istiod_on.setdefault(resource.provider, []).append(resource.name)

    cacerts_on: set[str] = set()
    roots: dict[str, list[str]] = {}
    problems: list[str] = []
    for resource in resources:
        if resource.type != SECRET:
            continue
        name = _at(resource.props, "metadata", "name")
        namespace = _at(resource.props, "metadata", "namespace")
        if not (is_unknown(name) or name == CACERTS):
            continue
        if not (is_unknown(namespace) or namespace == ISTIO_ROOT_NAMESPACE):
            continue
        cacerts_on.add(resource.provider)
        if not _known(name) or not _known(namespace) or not _secret_data_known(resource.props):
            continue
        values = dict(_secret_values(resource.props))
        root = values.get(ROOT_CERT_KEY, MISSING)
        if root is MISSING:
            problems.append(f"Secret {resource.name} ({CACERTS}) has no {ROOT_CERT_KEY}: istiod would self-sign")
        elif isinstance(root, str) and not is_unknown(root):
            roots.setdefault(root.strip(), []).append(resource.name)

    for provider, releases in sorted(istiod_on.items()):
        if provider not in cacerts_on:
            problems.append(
                f"{', '.join(sorted(releases))} installs istiod with no Secret {CACERTS} in "
                f"{ISTIO_ROOT_NAMESPACE} on the same cluster ({provider or 'default provider'}): istiod would "
                "self-sign and cross-cluster mTLS fails"
            )
    if len(roots) > 1:
        groups = "; ".join(
            f"{hashlib.sha256(root.encode()).hexdigest()[:12]}: {', '.join(sorted(names))}"
            for root, names in sorted(roots.items(), key=lambda item: sorted(item[1]))
        )
        problems.append(f"the {CACERTS} Secrets carry {len(roots)} different {ROOT_CERT_KEY} values ({groups})")
    return problems


def east_west_gateway_mesh_ports_only(type_: str, props: Props) -> list[str]:
    """The east-west gateway (`gateway` chart, release `istio-eastwestgateway`) exposes the mesh ports only.

    Its values must set `networkGateway` (which gives the Service 15021, 15443, 15012, 15017)
    and may override `service.ports` only with those ports.
    """
    if type_ != HELM_RELEASE or _chart_name(props) != "gateway":
        return []
    release, values = _at(props, "name"), _at(props, "values")
    if release != EAST_WEST_GATEWAY and _at(values, "name") != EAST_WEST_GATEWAY:
        return []
    if is_unknown(values):
        return []
    problems = []
    network = _at(values, "networkGateway")
    if network is MISSING or network == "":
        problems.append(
            f"east-west gateway {EAST_WEST_GATEWAY} has no values.networkGateway: it would not serve "
            "cross-network traffic on the mesh ports"
        )
    ports = _at(values, "service", "ports")
    extra = sorted(
        {
            str(number)
            for port in _items(ports)
            for number in [_at(port, "port")]
            if _known(number) and _port_number(number) not in MESH_PORTS
        }
    )
    if extra:
        problems.append(
            f"east-west gateway {EAST_WEST_GATEWAY} exposes port(s) {', '.join(extra)} in values.service.ports; "
            f"only the mesh ports {', '.join(str(p) for p in sorted(MESH_PORTS))} belong on it"
        )
    return problems


def _port_number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def remote_secrets_use_reader_token(type_: str, props: Props) -> list[str]:
    """Remote secrets (label `istio/multiCluster: "true"`) hold kubeconfigs whose users carry only a `token`.

    No exec or auth-provider plugin (istiod refuses them), no client certificate or key,
    no basic auth: the reader service account's bearer token, never an admin credential.
    """
    if type_ != SECRET:
        return []
    label = _at(props, "metadata", "labels", MULTI_CLUSTER_LABEL)
    if not _known(label) or str(label).lower() != "true":
        return []
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
        users = _at(config, "users")
        if not isinstance(config, Mapping) or not _items(users):
            problems.append(f"{where} has no kubeconfig users")
            continue
        for user in _items(users):
            name = _at(user, "name")
            credentials = _at(user, "user")
            if is_unknown(credentials):
                continue
            keys = set(credentials) if isinstance(credentials, Mapping) else set()
            forbidden = sorted(keys - {"token"})
            if forbidden:
                problems.append(
                    f"{where}: user {name!r} authenticates with {', '.join(forbidden)}; istiod must use the "
                    "reader service account's bearer token only (no exec/auth-provider plugins, no admin credentials)"
                )
            elif _at(credentials, "token") in (MISSING, ""):
                problems.append(f"{where}: user {name!r} has no bearer token")
    return problems


def istio_charts_pinned_from_istio_repository(type_: str, props: Props) -> list[str]:
    """Releases of Istio's charts (base, istiod, gateway) come from Istio's repository at an exact version."""
    chart = _chart_name(props)
    if type_ != HELM_RELEASE or chart not in ISTIO_CHARTS:
        return []
    problems = []
    raw_chart = str(_at(props, "chart"))
    if raw_chart != chart:
        problems.append(
            f"chart {raw_chart!r}: name the Istio chart ({chart!r}) and set repositoryOpts.repo "
            f"to {ISTIO_CHART_REPOSITORY}"
        )
    repo = _at(props, "repositoryOpts", "repo")
    if not is_unknown(repo) and (not isinstance(repo, str) or repo.rstrip("/") != ISTIO_CHART_REPOSITORY):
        shown = "none" if repo is MISSING else repr(repo)
        problems.append(f"chart {chart!r} comes from repository {shown}, not Istio's {ISTIO_CHART_REPOSITORY}")
    version = _at(props, "version")
    if not is_unknown(version) and not (isinstance(version, str) and _EXACT_VERSION.match(version)):
        shown = "no version" if version in (MISSING, "") else f"version {version!r}"
        problems.append(f"chart {chart!r} has {shown}: pin an exact Istio release such as 1.30.3 (no ranges)")
    return problems


# -- advisory: cluster hygiene ------------------------------------------------------------------


def cluster_api_not_open_to_internet(type_: str, props: Props) -> list[str]:
    """EKS/GKE API endpoints are not open to 0.0.0.0/0."""
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
        if any(_open_to_all(cidr) for cidr in _items(cidrs)):
            return ["EKS public API endpoint admits 0.0.0.0/0 (vpcConfig.publicAccessCidrs)"]
        return []
    if type_ == GKE_CLUSTER:
        if _at(props, "privateClusterConfig", "enablePrivateEndpoint") is True:
            return []  # no public endpoint at all
        config = _at(props, "masterAuthorizedNetworksConfig")
        if is_unknown(config):
            return []
        if config is MISSING:
            return ["GKE API endpoint has no masterAuthorizedNetworksConfig: it is open to 0.0.0.0/0"]
        blocks = _at(config, "cidrBlocks")
        if any(_open_to_all(_at(block, "cidrBlock")) for block in _items(blocks)):
            return ["GKE API endpoint admits 0.0.0.0/0 (masterAuthorizedNetworksConfig.cidrBlocks)"]
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
        "No mesh-wide PeerAuthentication (istio-system, `default` or no selector) in PERMISSIVE or DISABLE mode.",
        "mandatory",
        resource_rule=no_mesh_wide_permissive_mtls,
    ),
    PolicySpec(
        "istio-shared-root-of-trust",
        "Every cluster running istiod has a `cacerts` Secret in istio-system, all with the same root-cert.pem.",
        "mandatory",
        stack_rule=shared_root_of_trust,
    ),
    PolicySpec(
        "istio-east-west-gateway-mesh-ports-only",
        "The istio-eastwestgateway release sets networkGateway and exposes only 15021/15443/15012/15017.",
        "mandatory",
        resource_rule=east_west_gateway_mesh_ports_only,
    ),
    PolicySpec(
        "istio-remote-secrets-use-reader-token",
        "Remote-secret kubeconfigs authenticate with a bearer token only, never exec plugins or admin credentials.",
        "mandatory",
        resource_rule=remote_secrets_use_reader_token,
    ),
    PolicySpec(
        "istio-charts-pinned-from-istio-repository",
        "Istio's base/istiod/gateway charts come from istio-release.storage.googleapis.com at an exact version.",
        "mandatory",
        resource_rule=istio_charts_pinned_from_istio_repository,
    ),
    PolicySpec(
        "cluster-api-not-open-to-internet",
        "EKS and GKE API endpoints are not open to 0.0.0.0/0.",
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
