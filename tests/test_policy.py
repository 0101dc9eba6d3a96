"""The policy pack in `policy/`: each rule on resources that pass and fail, the pack's wiring, and the shipped stacks.

Rules are pure functions over `(type, props)` (or the stack's resources), so most tests
need neither the Pulumi CLI nor the policy engine. Props are written the way the engine
serialises inputs (camelCase), which is what `Registered.plain` shows for a mock run.
"""

from __future__ import annotations

import base64
import copy
import json
import runpy
import sys
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_policy
import pytest
import yaml
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from meshlib.components.aws import MESH_PORTS as AWS_MESH_PORTS
from meshlib.offline.program import placeholder_kubeconfig
from meshlib.plan.values import EAST_WEST_GATEWAY_NAME
from meshlib.spec.models import ISTIO_CHART_REPOSITORY
from policy import rules
from policy.rules import StackResource
from tests.conftest import ROOT, STACKS, fixture_stack, stack_name
from tests.mocks import Run, run_program
from tests.test_program import stack_config

RELEASE = rules.HELM_RELEASE
CHART = rules.HELM_CHART
CONFIG_GROUP = rules.CONFIG_GROUP
SECRET = rules.SECRET
SERVICE = rules.SERVICE
DEPLOYMENT = rules.DEPLOYMENT
SG_RULE = rules.AWS_SECURITY_GROUP_RULE
SG_INGRESS = rules.AWS_SECURITY_GROUP_INGRESS_RULE
SECURITY_GROUP = rules.AWS_SECURITY_GROUP
FIREWALL = rules.GCP_FIREWALL
ISTIO_GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
LB_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
NETWORK_PORTS = rules.NETWORK_GATEWAY_PORTS
EKS = rules.EKS_CLUSTER
GKE = rules.GKE_CLUSTER
PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication"
UNKNOWN = UNKNOWN_STRING_VALUE
MANDATORY = [p for p in rules.POLICIES if p.enforcement == "mandatory"]
ADVISORY = [p for p in rules.POLICIES if p.enforcement == "advisory"]
CACERTS_METADATA = {"name": "cacerts", "namespace": "istio-system"}


# -- builders ----------------------------------------------------------------------------------


def peer_authentication(
    mode: Any = "STRICT",
    namespace: Any = "istio-system",
    name: str = "default",
    selector: Any = None,
    version: str = "v1",
) -> dict[str, Any]:
    spec: dict[str, Any] = {} if mode is None else {"mtls": {"mode": mode}}
    if selector is not None:
        spec["selector"] = selector
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {
        "apiVersion": f"security.istio.io/{version}",
        "kind": "PeerAuthentication",
        "metadata": metadata,
        "spec": spec,
    }


def destination_rule(
    traffic_policy: Any = None,
    host: Any = "*",
    namespace: Any = "istio-system",
    selector: Any = None,
    version: str = "v1",
    **spec: Any,
) -> dict[str, Any]:
    spec = {"host": host, **spec}
    if traffic_policy is not None:
        spec["trafficPolicy"] = traffic_policy
    if selector is not None:
        spec["workloadSelector"] = selector
    return {
        "apiVersion": f"networking.istio.io/{version}",
        "kind": "DestinationRule",
        "metadata": {"name": "mesh-default", "namespace": namespace},
        "spec": spec,
    }


DISABLE = {"tls": {"mode": "DISABLE"}}


def config_group(*objs: Any, text: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if objs:
        props["objs"] = list(objs)
    if text is not None:
        props["yaml"] = text
    return props


def release(
    chart: str = "istiod",
    name: Any = "istiod",
    version: Any = "1.30.3",
    repo: Any = ISTIO_CHART_REPOSITORY,
    values: Any = None,
    namespace: Any = "istio-system",
) -> dict[str, Any]:
    props: dict[str, Any] = {"chart": chart, "values": {} if values is None else values}
    if name is not None:
        props["name"] = name
    if namespace is not None:
        props["namespace"] = namespace
    if version is not None:
        props["version"] = version
    if repo is not None:
        props["repositoryOpts"] = {"repo": repo}
    return props


def east_west(values: Any) -> dict[str, Any]:
    return release("gateway", "istio-eastwestgateway", values=values)


def kubeconfig(user: dict[str, Any], cluster: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "c2",
                    "cluster": {"server": "https://c2.example", "certificate-authority-data": "Q0E="}
                    if cluster is None
                    else cluster,
                }
            ],
            "contexts": [{"name": "c2", "context": {"cluster": "c2", "user": "c2"}}],
            "current-context": "c2",
            "users": [{"name": "c2", "user": user}],
        }
    )


def remote_secret(text: Any, label: Any = "true", encoded: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "istio-remote-secret-c2",
            "namespace": "istio-system",
            "labels": {"istio/multiCluster": label},
            "annotations": {"networking.istio.io/cluster": "c2"},
        },
    }
    if encoded:
        props["data"] = {"c2": base64.b64encode(text.encode()).decode()}
    else:
        props["stringData"] = {"c2": text}
    return props


def jwt(claims: dict[str, Any]) -> str:
    """A service-account-like token: a readable JWT payload (header and signature are not checked)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2lnbmF0dXJl"


def legacy_claims(namespace: str, account: str) -> dict[str, Any]:
    return {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": f"{account}-token",
        "kubernetes.io/serviceaccount/service-account.name": account,
        "sub": f"system:serviceaccount:{namespace}:{account}",
    }


def bound_claims(namespace: str, account: str) -> dict[str, Any]:
    return {
        "iss": "https://kubernetes.default.svc",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account, "uid": "u"}},
        "sub": f"system:serviceaccount:{namespace}:{account}",
    }


def reader_token_secret(account: Any = "istio-reader-service-account", **changes: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "istio-reader-token-c1", "namespace": "istio-system"}
    if account is not None:
        metadata["annotations"] = {"kubernetes.io/service-account.name": account}
    metadata.update(changes.pop("metadata", {}))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": metadata,
        **changes,
    }


def cacerts_props(root: Any = "ROOT", name: Any = "cacerts", encoded: bool = False) -> dict[str, Any]:
    data = {"ca-cert.pem": "INT", "ca-key.pem": "KEY", "cert-chain.pem": "INT\nROOT"}
    if root is not None:
        data["root-cert.pem"] = root
    props: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "istio-system"},
        "type": "Opaque",
    }
    if encoded:
        props["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        props["stringData"] = data
    return props


def cacerts(
    root: Any = "ROOT", provider: str = "c1-k8s", name: str = "cacerts", encoded: bool = False
) -> StackResource:
    return StackResource(SECRET, f"{provider}-cacerts", cacerts_props(root, name, encoded), provider)


def istiod_on(provider: str, values: Any = None, type_: str = RELEASE) -> StackResource:
    return StackResource(type_, f"{provider}-istiod", release(values=values), provider)


def istiod_deployment(provider: str, parent: str = "") -> StackResource:
    props = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "istiod", "namespace": "istio-system", "labels": {"app": "istiod", "istio": "pilot"}},
    }
    return StackResource(DEPLOYMENT, f"{provider}-istiod-deployment", props, provider, parent=parent)


def fragments(found: list[str], expected: list[str]) -> None:
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message, (message, fragment)


# -- mandatory rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(peer_authentication("STRICT"), 0, id="strict"),
        pytest.param(peer_authentication("PERMISSIVE"), 1, id="permissive"),
        pytest.param(peer_authentication("DISABLE"), 1, id="disable"),
        pytest.param(peer_authentication(None), 1, id="unset-mode-means-permissive"),
        pytest.param(peer_authentication("PERMISSIVE", name="mesh-wide"), 1, id="root-namespace-no-selector"),
        pytest.param(peer_authentication("PERMISSIVE", name="x", selector={}), 1, id="root-namespace-empty-selector"),
        pytest.param(
            peer_authentication("PERMISSIVE", name="legacy", selector={"matchLabels": {"app": "legacy"}}),
            0,
            id="workload-selector",
        ),
        pytest.param(peer_authentication("PERMISSIVE", namespace="default"), 0, id="namespace-level"),
        pytest.param(peer_authentication(UNKNOWN), 0, id="mode-unknown"),
        pytest.param(peer_authentication("PERMISSIVE", namespace=UNKNOWN), 0, id="namespace-unknown"),
    ],
)
def test_no_mesh_wide_permissive_mtls(props: dict[str, Any], violations: int) -> None:
    assert len(rules.no_mesh_wide_permissive_mtls(PEER_AUTHENTICATION, props)) == violations
    assert rules.no_mesh_wide_permissive_mtls("kubernetes:security.istio.io/v1beta1:PeerAuthentication", props) == (
        rules.no_mesh_wide_permissive_mtls(PEER_AUTHENTICATION, props)
    )
    assert rules.no_mesh_wide_permissive_mtls(SECRET, props) == []


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(config_group(peer_authentication("PERMISSIVE")), 1, id="objs"),
        pytest.param(config_group(peer_authentication("STRICT")), 0, id="objs-strict"),
        pytest.param(config_group(text=yaml.safe_dump(peer_authentication("DISABLE"))), 1, id="yaml"),
        pytest.param(
            config_group(
                text=yaml.safe_dump_all([cacerts_props(), peer_authentication("PERMISSIVE", version="v1beta1")])
            ),
            1,
            id="yaml-several-documents-v1beta1",
        ),
        pytest.param(
            config_group(
                text=yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [peer_authentication(None)]})
            ),
            1,
            id="yaml-list",
        ),
        pytest.param(
            config_group(peer_authentication("PERMISSIVE"), text=yaml.safe_dump(peer_authentication("DISABLE"))),
            2,
            id="objs-and-yaml",
        ),
        pytest.param(config_group(peer_authentication("PERMISSIVE", namespace=None)), 0, id="no-namespace"),
        pytest.param(config_group(text=UNKNOWN), 0, id="yaml-unknown"),
        pytest.param({"objs": UNKNOWN_ARRAY_VALUE}, 0, id="objs-unknown"),
        pytest.param(config_group(text="{not: [yaml"), 0, id="yaml-broken"),
        pytest.param(config_group(cacerts_props()), 0, id="other-kinds"),
    ],
)
def test_permissive_mtls_through_a_config_group(props: dict[str, Any], violations: int) -> None:
    found = rules.no_mesh_wide_permissive_mtls(CONFIG_GROUP, props)
    assert len(found) == violations, found
    assert all(m.startswith("PeerAuthentication istio-system/default in the ConfigGroup: ") for m in found)


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(destination_rule(DISABLE), 1, id="host-star"),
        pytest.param(destination_rule(DISABLE, version="v1beta1"), 1, id="v1beta1"),
        pytest.param(destination_rule(DISABLE, version="v1alpha3"), 1, id="v1alpha3"),
        pytest.param(destination_rule(DISABLE, host="*.local"), 1, id="host-star-local"),
        pytest.param(destination_rule(DISABLE, host="*.svc.cluster.local"), 1, id="host-all-services"),
        pytest.param(destination_rule(DISABLE, selector={}), 1, id="empty-workload-selector"),
        pytest.param(
            destination_rule({"portLevelSettings": [{"port": {"number": 8080}, "tls": {"mode": "DISABLE"}}]}),
            1,
            id="port-level",
        ),
        pytest.param(
            destination_rule(subsets=[{"name": "v1", "labels": {"v": "1"}, "trafficPolicy": DISABLE}]), 1, id="subset"
        ),
        pytest.param(destination_rule({"tls": {"mode": "ISTIO_MUTUAL"}}), 0, id="istio-mutual"),
        pytest.param(destination_rule({"loadBalancer": {"simple": "ROUND_ROBIN"}}), 0, id="no-tls-setting"),
        pytest.param(destination_rule(DISABLE, host="legacy.default.svc.cluster.local"), 0, id="one-host"),
        pytest.param(destination_rule(DISABLE, host="*.example.com"), 0, id="external-wildcard"),
        pytest.param(destination_rule(DISABLE, selector={"matchLabels": {"app": "a"}}), 0, id="workload-selector"),
        pytest.param(destination_rule(DISABLE, namespace="default"), 0, id="namespace-level"),
        pytest.param(destination_rule(DISABLE, namespace=UNKNOWN), 0, id="namespace-unknown"),
        pytest.param(destination_rule(DISABLE, host=UNKNOWN), 0, id="host-unknown"),
        pytest.param(destination_rule({"tls": {"mode": UNKNOWN}}), 0, id="mode-unknown"),
    ],
)
def test_no_mesh_wide_tls_disable(props: dict[str, Any], violations: int) -> None:
    type_ = f"kubernetes:{props['apiVersion']}:DestinationRule"
    found = rules.no_mesh_wide_tls_disable(type_, props)
    assert len(found) == violations, found
    assert rules.no_mesh_wide_tls_disable(PEER_AUTHENTICATION, props) == []
    in_group = rules.no_mesh_wide_tls_disable(CONFIG_GROUP, config_group(text=yaml.safe_dump(props)))
    assert len(in_group) == violations


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(provider="b")], [], id="ok"),
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a")], ["b-istiod runs istiod"], id="missing"),
        pytest.param([istiod_on("a"), cacerts(provider="a", name="cacerts-old")], ["no Secret cacerts"], id="misnamed"),
        pytest.param([istiod_on("a"), cacerts(provider="b")], ["(a)"], id="on-another-cluster-only"),
        pytest.param([cacerts(provider="a")], [], id="no-istiod-no-requirement"),
        pytest.param([istiod_on("a", {"profile": "remote"})], [], id="remote-profile"),
        pytest.param([istiod_on("a", {"istiodRemote": {"enabled": True}})], [], id="istiod-remote-enabled"),
        pytest.param(
            [istiod_on("a", {"profile": "remote", "istiodRemote": {"enabledLocalInjectorIstiod": True}})],
            ["no Secret cacerts"],
            id="remote-with-local-istiod",
        ),
        pytest.param([istiod_on("a", UNKNOWN_OBJECT_VALUE)], [], id="values-unknown"),
        pytest.param([istiod_on("a", {"profile": UNKNOWN})], [], id="profile-unknown"),
        pytest.param([istiod_on("a", type_=CHART)], ["no Secret cacerts"], id="helm-v4-chart"),
        pytest.param([istiod_on("a", type_=CHART), cacerts(provider="a")], [], id="helm-v4-chart-ok"),
        pytest.param([istiod_deployment("a")], ["a-istiod-deployment runs istiod"], id="rendered-deployment"),
        pytest.param([istiod_deployment("a"), cacerts(provider="a")], [], id="rendered-deployment-ok"),
        pytest.param(
            [
                StackResource(CHART, "a-istiod", release(), "", urn="urn:chart-a"),
                istiod_deployment("a-k8s", parent="urn:chart-a"),
            ],
            [
                "a-istiod, a-k8s-istiod-deployment runs istiod with no Secret cacerts in istio-system "
                "on the same cluster (a-k8s)"
            ],
            id="v4-chart-without-provider-placed-by-its-children",
        ),
        pytest.param(
            [StackResource(CHART, "a-istiod", release(), "", urn="urn:chart-a")], [], id="v4-chart-cluster-unknown"
        ),
        pytest.param(
            [istiod_on("a"), StackResource(CONFIG_GROUP, "a-trust", config_group(cacerts_props()), "a")],
            [],
            id="cacerts-in-a-config-group",
        ),
        pytest.param(
            [
                istiod_on("a"),
                StackResource(SECRET, "a-x", {"metadata": {"name": UNKNOWN, "namespace": "istio-system"}}, "a"),
            ],
            [],
            id="name-unknown-counts-as-present",
        ),
    ],
)
def test_istiod_has_cacerts(resources: list[StackResource], expected: list[str]) -> None:
    fragments(rules.istiod_has_cacerts(resources), expected)


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(provider="b")], [], id="ok"),
        pytest.param(
            [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(provider="b", encoded=True)],
            [],
            id="ok-base64-data",
        ),
        pytest.param(
            [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts("OTHER ROOT", provider="b")],
            ["2 different root-cert.pem"],
            id="different-roots",
        ),
        pytest.param(
            [cacerts(provider="a"), StackResource(CONFIG_GROUP, "b-trust", config_group(cacerts_props("OTHER")), "b")],
            ["2 different root-cert.pem"],
            id="different-root-in-a-config-group",
        ),
        pytest.param([istiod_on("a"), cacerts(None, provider="a")], ["has no root-cert.pem"], id="no-root"),
        pytest.param(
            [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(UNKNOWN, provider="b")],
            [],
            id="root-unknown",
        ),
        pytest.param(
            [
                istiod_on("a"),
                istiod_on("b"),
                cacerts(provider="a"),
                StackResource(
                    SECRET,
                    "b-cacerts",
                    {"metadata": {"name": "cacerts", "namespace": "istio-system"}, "stringData": UNKNOWN},
                    "b",
                ),
            ],
            [],
            id="data-unknown",
        ),
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a")], [], id="missing-is-another-rule"),
    ],
)
def test_shared_root_of_trust(resources: list[StackResource], expected: list[str]) -> None:
    fragments(rules.shared_root_of_trust(resources), expected)


def test_shared_root_of_trust_names_every_holder_without_printing_certificates() -> None:
    resources = [istiod_on(p) for p in "abc"] + [cacerts("R1", "a"), cacerts("R1", "b"), cacerts("R2", "c")]
    [message] = rules.shared_root_of_trust(resources)
    assert "a-cacerts, b-cacerts" in message and "c-cacerts" in message
    assert "R1" not in message.split("(", 1)[1].replace("a-cacerts", "").replace("b-cacerts", "")


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(east_west({"name": "istio-eastwestgateway", "networkGateway": "net1"}), 0, id="ok"),
        pytest.param(
            east_west(
                {
                    "networkGateway": "net1",
                    "service": {"ports": [{"name": "tls", "port": 15443}, {"name": "status-port", "port": 15021}]},
                }
            ),
            0,
            id="mesh-port-override",
        ),
        pytest.param(east_west({"networkGateway": "net1", "service": {"loadBalancerIP": UNKNOWN}}), 0, id="ip-unknown"),
        pytest.param(east_west({"name": "istio-eastwestgateway"}), 1, id="no-network-gateway"),
        pytest.param(east_west({"networkGateway": ""}), 1, id="empty-network-gateway"),
        pytest.param(
            east_west({"networkGateway": "net1", "service": {"ports": [{"name": "http", "port": 80}]}}),
            1,
            id="extra-port",
        ),
        pytest.param(
            east_west({"service": {"ports": [{"name": "https", "port": "443"}]}}), 2, id="extra-port-and-no-network"
        ),
        pytest.param(east_west(UNKNOWN_OBJECT_VALUE), 0, id="values-unknown"),
        pytest.param(
            east_west({"networkGateway": "net1", "service": {"ports": UNKNOWN_ARRAY_VALUE}}), 0, id="ports-unknown"
        ),
        pytest.param(release("gateway", "ingress", values={}), 0, id="another-gateway"),
        pytest.param(release("gateway", "custom", values={"name": "istio-eastwestgateway"}), 1, id="named-in-values"),
        pytest.param(
            east_west({"networkGateway": "net1", "networkGatewayPorts": {"tls": {"port": 15443, "targetPort": 8443}}}),
            1,
            id="15443-target-port-remapped",
        ),
        pytest.param(
            east_west({"networkGateway": "net1", "networkGatewayPorts": {"tls": {"port": 16443, "targetPort": 15443}}}),
            1,
            id="15443-service-port-moved",
        ),
        pytest.param(
            east_west({"networkGateway": "net1", "networkGatewayPorts": {"tls-istiod": {"targetPort": "15010"}}}),
            1,
            id="istiod-target-port-remapped",
        ),
        pytest.param(
            east_west(
                {
                    "networkGateway": "net1",
                    "networkGatewayPorts": {name: {"port": p, "targetPort": p} for name, p in NETWORK_PORTS.items()},
                }
            ),
            0,
            id="network-gateway-ports-as-defaults",
        ),
        pytest.param(
            east_west(
                {"networkGateway": "net1", "networkGatewayPorts": {"tls": {"port": 15443, "targetPort": UNKNOWN}}}
            ),
            0,
            id="target-port-unknown",
        ),
        pytest.param(
            east_west({"networkGateway": "net1", "service": {"ports": [{"port": 15443, "targetPort": 8443}]}}),
            1,
            id="service-ports-remap-15443",
        ),
        pytest.param(
            east_west({"networkGateway": "net1", "service": {"ports": [{"port": 15443, "targetPort": "15443"}]}}),
            0,
            id="service-ports-target-itself",
        ),
        pytest.param(
            release("gateway", "other", values={"networkGateway": "net1", "service": {"ports": [{"port": 80}]}}),
            1,
            id="any-network-gateway-is-judged",
        ),
    ],
)
def test_east_west_gateway_mesh_ports_only(props: dict[str, Any], violations: int) -> None:
    found = rules.east_west_gateway_mesh_ports_only(RELEASE, props)
    assert len(found) == violations, found
    assert rules.east_west_gateway_mesh_ports_only(CHART, props) == found  # helm v4 Chart alike


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(east_west({"name": "istio-eastwestgateway", "networkGateway": "net1"}), 0, id="ok"),
        pytest.param(east_west({"networkGateway": "net1"}), 0, id="ok-without-values-name"),
        pytest.param(release("gateway", "eastwest", values={"networkGateway": "net1"}), 1, id="other-release-name"),
        pytest.param(east_west({"networkGateway": "net1", "name": "eastwest"}), 1, id="other-values-name"),
        pytest.param(
            release("gateway", "eastwest", values={"networkGateway": "net1", "name": "istio-eastwestgateway"}),
            1,
            id="release-name-still-counts",
        ),
        pytest.param(release("gateway", "eastwest", values={"networkGateway": "n", "name": "x"}), 2, id="both"),
        pytest.param(release("gateway", UNKNOWN, values={"networkGateway": "net1"}), 0, id="release-name-unknown"),
        pytest.param(release("gateway", "istio-ingressgateway", values={}), 0, id="not-a-network-gateway"),
        pytest.param(release("gateway", "ingress", values={"networkGateway": ""}), 0, id="empty-network"),
        pytest.param(release("gateway", "ingress", values=UNKNOWN_OBJECT_VALUE), 0, id="values-unknown"),
        pytest.param(release("gateway", "x", values={"networkGateway": UNKNOWN}), 0, id="network-unknown"),
        pytest.param(release("istiod", "x", values={"networkGateway": "net1"}), 0, id="not-the-gateway-chart"),
    ],
)
def test_network_gateway_is_the_east_west_gateway(props: dict[str, Any], violations: int) -> None:
    found = rules.network_gateway_is_the_east_west_gateway(RELEASE, props)
    assert len(found) == violations, found
    assert rules.network_gateway_is_the_east_west_gateway(CHART, props) == found
    assert rules.network_gateway_is_the_east_west_gateway(SECRET, props) == []


def test_a_network_gateway_without_a_release_name() -> None:
    """A v3 Release without `name` gets a generated one; a v4 Chart's is its resource name, not seen here."""
    props = release("gateway", None, values={"networkGateway": "net1"})
    [message] = rules.network_gateway_is_the_east_west_gateway(RELEASE, props)
    assert "an unset (generated) name" in message
    assert rules.network_gateway_is_the_east_west_gateway(CHART, props) == []


READER = jwt(legacy_claims("istio-system", "istio-reader-service-account"))


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(remote_secret(kubeconfig({"token": "eyJ.reader.sig"})), 0, id="token"),
        pytest.param(remote_secret(kubeconfig({"token": "eyJ.reader.sig"}), encoded=True), 0, id="token-in-data"),
        pytest.param(remote_secret(kubeconfig({"exec": {"command": "aws"}})), 1, id="exec"),
        pytest.param(remote_secret(kubeconfig({"auth-provider": {"name": "gcp"}})), 1, id="auth-provider"),
        pytest.param(
            remote_secret(kubeconfig({"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"})),
            1,
            id="admin-client-certificate",
        ),
        pytest.param(remote_secret(kubeconfig({"token": "t", "username": "admin", "password": "x"})), 1, id="basic"),
        pytest.param(remote_secret(kubeconfig({"token": READER, "as": "system:admin"})), 1, id="impersonation"),
        pytest.param(
            remote_secret(kubeconfig({"token": "eyJ.secret.sig", "exec": {"command": "aws"}})),
            1,
            id="violation-with-a-token-does-not-print-it",
        ),
        pytest.param(
            remote_secret(kubeconfig({"exec": {"command": "aws"}}), encoded=True), 1, id="exec-in-base64-data"
        ),
        pytest.param(remote_secret(kubeconfig({})), 1, id="no-credentials"),
        pytest.param(remote_secret("{not: [yaml"), 1, id="not-yaml"),
        pytest.param(remote_secret(UNKNOWN), 0, id="kubeconfig-unknown"),
        pytest.param({**remote_secret(""), "stringData": UNKNOWN_OBJECT_VALUE}, 0, id="string-data-unknown"),
        pytest.param(remote_secret(kubeconfig({"exec": {}}), label="false"), 0, id="not-a-remote-secret"),
        pytest.param(remote_secret(kubeconfig({"exec": {}}), label=UNKNOWN), 0, id="label-unknown"),
        # TLS to the watched API server
        pytest.param(
            remote_secret(
                kubeconfig(
                    {"token": READER},
                    {"server": "https://c2", "certificate-authority-data": "Q0E=", "insecure-skip-tls-verify": True},
                )
            ),
            1,
            id="insecure-skip-tls-verify",
        ),
        pytest.param(
            remote_secret(
                kubeconfig(
                    {"token": READER},
                    {"server": "https://c2", "certificate-authority-data": "Q0E=", "insecure-skip-tls-verify": "true"},
                )
            ),
            1,
            id="insecure-skip-tls-verify-as-text",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": READER}, {"server": "https://c2", "insecure-skip-tls-verify": True})),
            2,
            id="no-verification-at-all",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": READER}, {"server": "https://c2", "certificate-authority": "/ca.pem"})),
            1,
            id="ca-file-instead-of-data",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": READER}, {"server": "https://c2", "certificate-authority-data": ""})),
            1,
            id="empty-ca-data",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": READER}, {"server": "http://c2", "certificate-authority-data": "Q0E="})),
            1,
            id="plain-http-server",
        ),
        pytest.param(
            remote_secret(
                kubeconfig(
                    {"token": READER},
                    {"server": UNKNOWN, "certificate-authority-data": UNKNOWN, "insecure-skip-tls-verify": False},
                )
            ),
            0,
            id="cluster-unknowns",
        ),
        pytest.param(
            remote_secret(yaml.safe_dump({"clusters": [], "users": [{"name": "c2", "user": {"token": READER}}]})),
            1,
            id="no-clusters",
        ),
        # whose token it is
        pytest.param(remote_secret(kubeconfig({"token": READER})), 0, id="istio-reader-legacy-token"),
        pytest.param(
            remote_secret(kubeconfig({"token": jwt(bound_claims("istio-system", "meshlib-reader"))})),
            0,
            id="meshlib-reader-bound-token",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": jwt({"sub": "system:serviceaccount:istio-system:meshlib-reader"})})),
            0,
            id="reader-by-subject",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": jwt(legacy_claims("istio-system", "istiod"))})),
            1,
            id="istiod-token",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": jwt(bound_claims("kube-system", "istio-reader-service-account"))})),
            1,
            id="reader-name-in-another-namespace",
        ),
        pytest.param(
            remote_secret(kubeconfig({"token": jwt({"sub": "admin@example.com", "iss": "https://idp"})})),
            1,
            id="oidc-user-token",
        ),
        pytest.param(remote_secret(kubeconfig({"token": "k8s-aws-v1.aHR0cHM6Ly9zdHM"})), 1, id="aws-iam-token"),
        pytest.param(remote_secret(kubeconfig({"token": "ya29.a0AfB_byC"})), 1, id="google-access-token"),
        pytest.param(remote_secret(kubeconfig({"token": UNKNOWN})), 0, id="token-unknown"),
        # reader token Secrets
        pytest.param(reader_token_secret(), 0, id="reader-token-secret"),
        pytest.param(reader_token_secret("meshlib-reader"), 0, id="meshlib-reader-token-secret"),
        pytest.param(reader_token_secret("istiod"), 1, id="reader-token-secret-for-istiod"),
        pytest.param(reader_token_secret("default"), 1, id="reader-token-secret-for-default"),
        pytest.param(reader_token_secret(None), 1, id="reader-token-secret-without-account"),
        pytest.param(reader_token_secret(UNKNOWN), 0, id="reader-token-secret-account-unknown"),
        pytest.param(
            reader_token_secret("default", metadata={"name": "meshlib-reader-token-c1"}),
            1,
            id="meshlib-reader-token-secret-for-default",
        ),
        pytest.param(reader_token_secret("istiod", metadata={"name": "istiod-token"}), 0, id="other-token-secret"),
        pytest.param(reader_token_secret("istiod", metadata={"namespace": "default"}), 0, id="other-namespace"),
        pytest.param(reader_token_secret("istiod", type="Opaque"), 0, id="not-a-token-secret"),
    ],
)
def test_remote_secrets_use_reader_token(props: dict[str, Any], violations: int) -> None:
    found = rules.remote_secrets_use_reader_token(SECRET, props)
    assert len(found) == violations, found
    assert all("eyJ" not in message and "ya29" not in message and "aHR0" not in message for message in found)
    assert len(rules.remote_secrets_use_reader_token(CONFIG_GROUP, config_group(props))) == violations


def test_a_foreign_token_is_named_by_its_account() -> None:
    token = jwt(legacy_claims("istio-system", "istiod"))
    [message] = rules.remote_secrets_use_reader_token(SECRET, remote_secret(kubeconfig({"token": token})))
    assert "istio-system/istiod" in message and token not in message


@pytest.mark.parametrize(
    ("props", "violations"),
    [
        pytest.param(release("base", "istio-base"), 0, id="base"),
        pytest.param(release("istiod", "istiod-1-30"), 0, id="istiod"),
        pytest.param(release("gateway", "istio-eastwestgateway"), 0, id="gateway"),
        pytest.param(release(repo=ISTIO_CHART_REPOSITORY + "/"), 0, id="trailing-slash"),
        pytest.param(release(version="1.31.0-beta.1"), 0, id="prerelease-is-exact"),
        pytest.param(release(repo="https://charts.example.com/istio"), 1, id="mirror"),
        pytest.param(release(repo=None), 1, id="no-repository"),
        pytest.param(release(version=None), 1, id="no-version"),
        pytest.param(release(version=""), 1, id="empty-version"),
        pytest.param(release(version="~1.30"), 1, id="tilde-range"),
        pytest.param(release(version=">=1.30.0"), 1, id="range"),
        pytest.param(release(version="1.30.x"), 1, id="wildcard"),
        pytest.param(release(version="1.30"), 1, id="minor-only"),
        pytest.param(release("istio/istiod", repo=None), 2, id="repo-prefixed-chart"),
        pytest.param(release("oci://example.com/charts/istiod"), 1, id="oci-chart"),
        pytest.param(release(version=UNKNOWN, repo=UNKNOWN), 0, id="unknowns"),
        pytest.param(release("aws-load-balancer-controller", repo="https://aws.github.io/eks-charts"), 0, id="other"),
        # Istio's charts are told by namespace or repository, not by name alone
        pytest.param(
            release("base", "base", version="2.0", repo="https://charts.example.com", namespace="platform"),
            0,
            id="someone-elses-base",
        ),
        pytest.param(
            release("gateway", "gw", version="^1", repo="https://charts.example.com", namespace=None),
            0,
            id="someone-elses-gateway-no-namespace",
        ),
        pytest.param(
            release("base", "base", version="2.0", repo="https://charts.example.com", namespace=UNKNOWN),
            0,
            id="namespace-unknown-foreign-repository",
        ),
        pytest.param(
            release("base", "base", version="2.0", repo=UNKNOWN, namespace="platform"), 0, id="repository-unknown"
        ),
        pytest.param(
            release("istiod", repo="https://charts.example.com/istio"), 1, id="istio-system-from-a-mirror-is-refused"
        ),
        pytest.param(release("base", "istio-base", repo=None, version=None), 2, id="istio-system-unpinned-no-repo"),
        pytest.param(
            release("gateway", "ingress", version="1.30", namespace="istio-ingress"),
            1,
            id="istio-repository-elsewhere-still-pinned",
        ),
        pytest.param(
            release("gateway", "ingress", namespace="istio-ingress"), 0, id="istio-repository-elsewhere-pinned"
        ),
    ],
)
def test_istio_charts_pinned_from_istio_repository(props: dict[str, Any], violations: int) -> None:
    found = rules.istio_charts_pinned_from_istio_repository(RELEASE, props)
    assert len(found) == violations, found
    assert rules.istio_charts_pinned_from_istio_repository(CHART, props) == found  # helm v4 Chart alike
    assert rules.istio_charts_pinned_from_istio_repository(SECRET, props) == []


# -- mesh ports open to the internet -------------------------------------------------------------


def sg_rule(cidrs: Any, low: Any = 15012, high: Any = None, protocol: Any = "tcp", **extra: Any) -> dict[str, Any]:
    props = {"type": "ingress", "securityGroupId": "sg-1", "protocol": protocol, "fromPort": low, "toPort": high or low}
    return {**props, "cidrBlocks": cidrs, **extra}


def sg_ingress(cidr: Any, low: Any = 15012, high: Any = None, protocol: Any = "tcp", **extra: Any) -> dict[str, Any]:
    props = {"securityGroupId": "sg-1", "ipProtocol": protocol, "fromPort": low, "toPort": high or low}
    return {**props, "cidrIpv4": cidr, **extra}


def firewall(ranges: Any, allows: Any = None, **extra: Any) -> dict[str, Any]:
    props = {
        "network": "projects/p/global/networks/mesh",
        "direction": "INGRESS",
        "sourceRanges": ranges,
        "allows": [{"protocol": "tcp", "ports": ["15012", "15017", "15021", "15443"]}] if allows is None else allows,
        "targetTags": ["mesh-nodes"],
    }
    return {**props, **extra}


def lb_gateway(ranges: Any, **values: Any) -> dict[str, Any]:
    service: dict[str, Any] = {"loadBalancerSourceRanges": ranges}
    service.update(values.pop("service", {}))
    return east_west({"name": "istio-eastwestgateway", "networkGateway": "net1", "service": service, **values})


def istiod_gateway(ports: tuple[int, ...] = (15012, 15017)) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "istiod-gateway", "namespace": "istio-system"},
        "spec": {
            "selector": {"istio": "eastwestgateway"},
            "servers": [
                {"port": {"number": float(p), "name": f"tls-{p}", "protocol": "tls"}, "hosts": ["*"]} for p in ports
            ],
        },
    }


def load_balancer_service(
    ranges: Any, ports: tuple[int, ...] = (15443,), type_: str = "LoadBalancer"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "eastwest", "namespace": "istio-system"},
        "spec": {"type": type_, "loadBalancerSourceRanges": ranges, "ports": [{"port": p} for p in ports]},
    }


def res(type_: str, props: dict[str, Any], name: str = "r", provider: str = "c1-k8s") -> StackResource:
    return StackResource(type_, name, props, provider)


OPEN = ["0.0.0.0/0"]
HALVES = ["0.0.0.0/1", "128.0.0.0/1"]


@pytest.mark.parametrize(
    ("resources", "istiod", "mesh"),
    [
        # AWS security group rules
        pytest.param([res(SG_RULE, sg_rule(OPEN))], [15012], [], id="sg-rule-15012"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, 15443))], [], [15443], id="sg-rule-15443-advisory"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, 15000, 15500))], [15012, 15017], [15021, 15443], id="sg-rule-range"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, 0, 0, "-1"))], [15012, 15017], [15021, 15443], id="sg-rule-all"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, 0, 65535, "6"))], [15012, 15017], [15021, 15443], id="sg-rule-6"),
        pytest.param([res(SG_RULE, sg_rule(HALVES))], [15012], [], id="sg-rule-in-pieces"),
        pytest.param([res(SG_RULE, sg_rule([], ipv6CidrBlocks=["::/0"]))], [15012], [], id="sg-rule-ipv6"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, protocol="udp"))], [], [], id="sg-rule-udp"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, type="egress"))], [], [], id="sg-rule-egress"),
        pytest.param([res(SG_RULE, sg_rule(["10.0.0.0/8"]))], [], [], id="sg-rule-private"),
        pytest.param([res(SG_RULE, sg_rule(["0.0.0.0/1"]))], [], [], id="sg-rule-half"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, 8000, 9000))], [], [], id="sg-rule-other-ports"),
        pytest.param([res(SG_RULE, sg_rule(OPEN, UNKNOWN, UNKNOWN))], [], [], id="sg-rule-ports-unknown"),
        pytest.param([res(SG_RULE, sg_rule(UNKNOWN_ARRAY_VALUE))], [], [], id="sg-rule-cidrs-unknown"),
        pytest.param(
            [res(SG_INGRESS, sg_ingress("0.0.0.0/1"), "a"), res(SG_INGRESS, sg_ingress("128.0.0.0/1"), "b")],
            [15012],
            [],
            id="ingress-rules-add-up-on-one-group",
        ),
        pytest.param(
            [
                res(SG_INGRESS, sg_ingress("0.0.0.0/1"), "a"),
                res(SG_INGRESS, sg_ingress("128.0.0.0/1", securityGroupId="sg-2"), "b"),
            ],
            [],
            [],
            id="ingress-rules-on-two-groups",
        ),
        pytest.param(
            [res(SG_INGRESS, sg_ingress("0.0.0.0/0", protocol="-1"))], [15012, 15017], [15021, 15443], id="-1"
        ),
        pytest.param([res(SG_INGRESS, sg_ingress(None, 15017, cidrIpv6="::/0"))], [15017], [], id="ingress-rule-ipv6"),
        pytest.param([res(SG_INGRESS, sg_ingress("10.10.0.0/16", 15443))], [], [], id="ingress-rule-vpc"),
        pytest.param(
            [
                res(
                    SECURITY_GROUP,
                    {
                        "ingress": [
                            {"protocol": "tcp", "fromPort": 15443, "toPort": 15443, "cidrBlocks": ["0.0.0.0/1"]},
                            {"protocol": "tcp", "fromPort": 15443, "toPort": 15443, "cidrBlocks": ["128.0.0.0/1"]},
                        ]
                    },
                )
            ],
            [],
            [15443],
            id="security-group-inline-in-pieces",
        ),
        # GCP firewalls
        pytest.param([res(FIREWALL, firewall(OPEN))], [15012, 15017], [15021, 15443], id="firewall"),
        pytest.param([res(FIREWALL, firewall(OPEN, [{"protocol": "all"}]))], [15012, 15017], [15021, 15443], id="all"),
        pytest.param([res(FIREWALL, firewall(OPEN, [{"protocol": "tcp"}]))], [15012, 15017], [15021, 15443], id="tcp"),
        pytest.param(
            [res(FIREWALL, firewall(OPEN, [{"protocol": "tcp", "ports": ["15000-15500"]}]))],
            [15012, 15017],
            [15021, 15443],
            id="firewall-port-range",
        ),
        pytest.param(
            [res(FIREWALL, firewall(OPEN, [{"protocol": "tcp", "ports": ["15443", 15021.0]}]))],
            [],
            [15021, 15443],
            id="firewall-east-west-only",
        ),
        pytest.param([res(FIREWALL, firewall(OPEN, [{"protocol": "udp"}]))], [], [], id="firewall-udp"),
        pytest.param([res(FIREWALL, firewall(OPEN, direction="EGRESS"))], [], [], id="firewall-egress"),
        pytest.param([res(FIREWALL, firewall(OPEN, disabled=True))], [], [], id="firewall-disabled"),
        pytest.param([res(FIREWALL, firewall(["10.165.32.0/28"]))], [], [], id="firewall-control-plane"),
        pytest.param(
            [res(FIREWALL, firewall(OPEN, [{"protocol": "tcp", "ports": UNKNOWN_ARRAY_VALUE}]))],
            [],
            [],
            id="firewall-ports-unknown",
        ),
        pytest.param(
            [res(FIREWALL, firewall(["0.0.0.0/1"]), "a"), res(FIREWALL, firewall(["128.0.0.0/1"]), "b")],
            [15012, 15017],
            [15021, 15443],
            id="firewalls-add-up-on-the-same-targets",
        ),
        pytest.param(
            [
                res(FIREWALL, firewall(["0.0.0.0/1"]), "a"),
                res(FIREWALL, firewall(["128.0.0.0/1"], targetTags=["other"]), "b"),
            ],
            [],
            [],
            id="firewalls-on-other-targets",
        ),
        # load balancer source ranges
        pytest.param([res(RELEASE, lb_gateway(OPEN))], [], [15012, 15017, 15021, 15443], id="lb-nothing-routes-istiod"),
        pytest.param(
            [res(RELEASE, lb_gateway(OPEN)), res(ISTIO_GATEWAY, istiod_gateway(), "istiod-gw")],
            [15012, 15017],
            [15021, 15443],
            id="lb-istiod-routed",
        ),
        pytest.param(
            [res(RELEASE, lb_gateway(HALVES)), res(CONFIG_GROUP, config_group(istiod_gateway((15012,))), "cfg")],
            [15012],
            [15017, 15021, 15443],
            id="lb-in-pieces-routed-by-a-config-group",
        ),
        pytest.param(
            [res(RELEASE, lb_gateway(OPEN)), res(ISTIO_GATEWAY, istiod_gateway(), "istiod-gw", "c2-k8s")],
            [],
            [15012, 15017, 15021, 15443],
            id="lb-istiod-routed-on-another-cluster",
        ),
        pytest.param([res(CHART, lb_gateway(OPEN))], [], [15012, 15017, 15021, 15443], id="lb-helm-v4"),
        pytest.param(
            [res(RELEASE, lb_gateway([], service={"annotations": {LB_ANNOTATION: "0.0.0.0/1, 128.0.0.0/1"}}))],
            [],
            [15012, 15017, 15021, 15443],
            id="lb-annotation",
        ),
        pytest.param(
            [res(RELEASE, lb_gateway(OPEN, networkGatewayPorts={"tls": {"port": 16443, "targetPort": 15443}}))],
            [],
            [15012, 15017, 15021, 15443],
            id="lb-moved-port-still-exposes-its-target",
        ),
        pytest.param([res(RELEASE, lb_gateway(["203.0.113.7/32", "198.51.100.9/32"]))], [], [], id="lb-peers-only"),
        pytest.param([res(RELEASE, lb_gateway(OPEN, service={"type": "ClusterIP"}))], [], [], id="lb-not-a-lb"),
        pytest.param([res(RELEASE, lb_gateway(UNKNOWN_ARRAY_VALUE))], [], [], id="lb-ranges-unknown"),
        pytest.param([res(RELEASE, east_west({"networkGateway": "net1"}))], [], [], id="lb-without-ranges"),
        pytest.param(
            [res(RELEASE, release("gateway", "ingress", values={"service": {"loadBalancerSourceRanges": OPEN}}))],
            [],
            [15021],
            id="ingress-gateway-default-ports",
        ),
        pytest.param([res(SERVICE, load_balancer_service(OPEN))], [], [15443], id="service"),
        pytest.param(
            [res(CONFIG_GROUP, config_group(load_balancer_service(OPEN, (15012,)), istiod_gateway()))],
            [15012],
            [],
            id="service-and-gateway-in-a-config-group",
        ),
        pytest.param([res(SERVICE, load_balancer_service(OPEN, type_="NodePort"))], [], [], id="service-not-a-lb"),
    ],
)
def test_mesh_ports_open_to_the_internet(resources: list[StackResource], istiod: list[int], mesh: list[int]) -> None:
    mandatory = rules.istiod_ports_not_open_to_internet(resources)
    advisory = rules.mesh_ports_not_open_to_internet(resources)
    assert [int(m.split(" ", 1)[0]) for m in mandatory] == istiod, mandatory
    assert [int(m.split(" ", 1)[0]) for m in advisory] == mesh, advisory


def test_an_exposure_names_every_piece() -> None:
    [message] = rules.istiod_ports_not_open_to_internet(
        [res(SG_INGRESS, sg_ingress("0.0.0.0/1"), "a"), res(SG_INGRESS, sg_ingress("128.0.0.0/1"), "b")]
    )
    assert message.startswith("15012 (istiod xDS and CA) is open to the whole internet (0.0.0.0/0, in pieces)")
    assert "through a, b" in message


@pytest.mark.parametrize(
    ("cidrs", "expected"),
    [
        pytest.param(["0.0.0.0/0"], ["0.0.0.0/0"], id="all"),
        pytest.param(["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/0"], id="two-halves"),
        pytest.param([" 0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"], ["0.0.0.0/0"], id="all-but-multicast-and-reserved"),
        pytest.param(
            ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2"]
            + ["128.0.0.0/2", "192.0.0.0/3"],
            ["0.0.0.0/0"],
            id="all-but-0/8",
        ),
        pytest.param(["0.0.0.0/1", "128.0.0.0/2"], [], id="three-quarters"),
        pytest.param(["0.0.0.0/1"], [], id="half"),
        pytest.param(["10.0.0.0/8", "203.0.113.7/32"], [], id="private-and-one-address"),
        pytest.param(["::/0"], ["::/0"], id="ipv6-all"),
        pytest.param(["2000::/4", "3000::/4"], ["::/0"], id="ipv6-global-unicast-in-pieces"),
        pytest.param(["2000::/4"], [], id="ipv6-part"),
        pytest.param(["0.0.0.0/1", "128.0.0.0/1", "::/0"], ["0.0.0.0/0", "::/0"], id="both"),
        pytest.param([UNKNOWN, "0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/0"], id="known-pieces-suffice"),
        pytest.param([UNKNOWN, "not-a-cidr", None, 7], [], id="nothing-known"),
        pytest.param([], [], id="empty"),
    ],
)
def test_whole_internet(cidrs: list[Any], expected: list[str]) -> None:
    assert rules.whole_internet(cidrs) == expected


# -- advisory rules ----------------------------------------------------------------------------


def eks(vpc: Any, **extra: Any) -> dict[str, Any]:
    return {"name": "c1", "vpcConfig": vpc, "deletionProtection": True, **extra}


def gke(**extra: Any) -> dict[str, Any]:
    return {"name": "c2", "deletionProtection": True, **extra}


def authorized(*cidrs: str, **extra: Any) -> dict[str, Any]:
    return {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": c} for c in cidrs], **extra}}


@pytest.mark.parametrize(
    ("type_", "props", "violations"),
    [
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.7/32"]}), 0, id="eks-ok"),
        pytest.param(EKS, eks({"endpointPublicAccess": False, "endpointPrivateAccess": True}), 0, id="eks-private"),
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}), 1, id="eks-open"),
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": HALVES}), 1, id="eks-open-in-halves"),
        pytest.param(
            EKS,
            eks({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"]}),
            1,
            id="eks-every-public-address",
        ),
        pytest.param(
            EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/1"]}), 0, id="eks-half-is-not-all"
        ),
        pytest.param(
            EKS,
            eks({"endpointPublicAccess": True, "publicAccessCidrs": [UNKNOWN, *HALVES]}),
            1,
            id="eks-known-pieces-suffice",
        ),
        pytest.param(EKS, eks({"endpointPublicAccess": True}), 1, id="eks-public-without-cidrs"),
        pytest.param(EKS, eks({"subnetIds": ["s1", "s2"]}), 1, id="eks-public-by-default"),
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": []}), 1, id="eks-empty-cidrs"),
        pytest.param(EKS, eks({"endpointPublicAccess": UNKNOWN, "publicAccessCidrs": UNKNOWN}), 0, id="eks-unknown"),
        pytest.param(GKE, gke(**authorized("203.0.113.7/32")), 0, id="gke-ok"),
        pytest.param(GKE, gke(masterAuthorizedNetworksConfig={"cidrBlocks": []}), 0, id="gke-nobody-admitted"),
        pytest.param(GKE, gke(), 1, id="gke-no-authorized-networks"),
        pytest.param(
            GKE,
            gke(masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "0.0.0.0/0", "displayName": "all"}]}),
            1,
            id="gke-open",
        ),
        pytest.param(GKE, gke(**authorized(*HALVES)), 1, id="gke-open-in-halves"),
        pytest.param(GKE, gke(**authorized("0.0.0.0/1")), 0, id="gke-half-is-not-all"),
        pytest.param(
            GKE, gke(**authorized("203.0.113.7/32", gcpPublicCidrsAccessEnabled=True)), 1, id="gke-google-cloud-access"
        ),
        pytest.param(GKE, gke(**authorized(*HALVES, gcpPublicCidrsAccessEnabled=True)), 2, id="gke-both"),
        pytest.param(
            GKE, gke(**authorized("203.0.113.7/32", gcpPublicCidrsAccessEnabled=False)), 0, id="gke-google-cloud-off"
        ),
        pytest.param(
            GKE,
            gke(**authorized("203.0.113.7/32", gcpPublicCidrsAccessEnabled=UNKNOWN)),
            0,
            id="gke-google-cloud-unknown",
        ),
        pytest.param(
            GKE,
            gke(privateClusterConfig={"enablePrivateEndpoint": True}, **authorized(gcpPublicCidrsAccessEnabled=True)),
            0,
            id="gke-private-endpoint-with-google-cloud-access",
        ),
        pytest.param(GKE, gke(privateClusterConfig={"enablePrivateEndpoint": True}), 0, id="gke-private-endpoint"),
        pytest.param(GKE, gke(masterAuthorizedNetworksConfig=UNKNOWN_OBJECT_VALUE), 0, id="gke-unknown"),
    ],
)
def test_cluster_api_not_open_to_internet(type_: str, props: dict[str, Any], violations: int) -> None:
    assert len(rules.cluster_api_not_open_to_internet(type_, props)) == violations


@pytest.mark.parametrize(
    ("type_", "props", "violations"),
    [
        pytest.param(EKS, {"deletionProtection": True}, 0, id="eks-on"),
        pytest.param(EKS, {"deletionProtection": False}, 1, id="eks-off"),
        pytest.param(EKS, {}, 1, id="eks-default-off"),
        pytest.param(GKE, {"deletionProtection": True}, 0, id="gke-on"),
        pytest.param(GKE, {}, 0, id="gke-default-on"),
        pytest.param(GKE, {"deletionProtection": False}, 1, id="gke-off"),
        pytest.param(EKS, {"deletionProtection": UNKNOWN}, 0, id="unknown"),
        pytest.param(SECRET, {}, 0, id="not-a-cluster"),
    ],
)
def test_cluster_deletion_protection(type_: str, props: dict[str, Any], violations: int) -> None:
    assert len(rules.cluster_deletion_protection(type_, props)) == violations


def test_unknown_values_of_the_sdk_are_recognised_too() -> None:
    unknown = pulumi.output.Unknown()
    assert rules.is_unknown(unknown) and rules.is_unknown(UNKNOWN) and not rules.is_unknown("STRICT")
    assert rules.is_unknown(rules.UNKNOWN)
    assert rules.no_mesh_wide_permissive_mtls(PEER_AUTHENTICATION, peer_authentication(unknown)) == []


def test_the_rules_agree_with_meshlib() -> None:
    assert rules.ISTIO_CHART_REPOSITORY == ISTIO_CHART_REPOSITORY
    assert rules.EAST_WEST_GATEWAY == EAST_WEST_GATEWAY_NAME
    assert rules.MESH_PORTS == set(AWS_MESH_PORTS) == set(rules.NETWORK_GATEWAY_PORTS.values())


# -- the pack ----------------------------------------------------------------------------------


def test_policy_names_and_enforcement_levels() -> None:
    assert [(p.name, p.enforcement) for p in rules.POLICIES] == [
        ("istio-no-mesh-wide-permissive-mtls", "mandatory"),
        ("istio-no-mesh-wide-tls-disable", "mandatory"),
        ("istio-istiod-has-cacerts", "mandatory"),
        ("istio-shared-root-of-trust", "mandatory"),
        ("istio-east-west-gateway-mesh-ports-only", "mandatory"),
        ("istio-network-gateway-is-east-west-gateway", "mandatory"),
        ("istio-remote-secrets-use-reader-token", "mandatory"),
        ("istio-charts-pinned-from-istio-repository", "mandatory"),
        ("istio-istiod-ports-not-open-to-internet", "mandatory"),
        ("istio-mesh-ports-not-open-to-internet", "advisory"),
        ("cluster-api-not-open-to-internet", "advisory"),
        ("cluster-deletion-protection", "advisory"),
    ]
    assert all((p.resource_rule is None) != (p.stack_rule is None) for p in rules.POLICIES)
    assert [p.name for p in rules.POLICIES if p.stack_rule] == [
        "istio-istiod-has-cacerts",
        "istio-shared-root-of-trust",
        "istio-istiod-ports-not-open-to-internet",
        "istio-mesh-ports-not-open-to-internet",
    ]
    assert all(p.description for p in rules.POLICIES)
    assert len({p.name for p in rules.POLICIES}) == len(rules.POLICIES)


class _PackRecorder:
    built: list[tuple[str, list[pulumi_policy.Policy]]] = []

    def __init__(self, name: str, policies: list[pulumi_policy.Policy], **_: Any) -> None:
        self.built.append((name, policies))


@pytest.fixture
def pack_recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[pulumi_policy.Policy]]]]:
    """`PolicyPack` replaced by a recorder: the real one starts a gRPC server and blocks."""
    _PackRecorder.built = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", _PackRecorder)
    yield _PackRecorder.built


def test_importing_the_pack_builds_no_policy_pack(pack_recorder: list[Any]) -> None:
    namespace = runpy.run_module("policy.__main__", run_name="policy.__main__")
    assert pack_recorder == []
    built = namespace["build_policies"]()
    assert [(p.name, p.enforcement_level.value) for p in built] == [(p.name, p.enforcement) for p in rules.POLICIES]
    kinds = {p.name: type(p) for p in built}
    assert kinds["istio-shared-root-of-trust"] is pulumi_policy.StackValidationPolicy
    assert kinds["istio-no-mesh-wide-permissive-mtls"] is pulumi_policy.ResourceValidationPolicy


def test_running_the_pack_builds_it_from_the_rules(pack_recorder: list[Any]) -> None:
    runpy.run_module("policy.__main__", run_name="__main__")
    [(name, policies)] = pack_recorder
    assert name == "meshlib-istio-multicluster"
    assert [p.name for p in policies] == [p.name for p in rules.POLICIES]


def test_running_the_pack_as_pulumi_does(pack_recorder: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulumi runs the pack's directory (`runpy.run_path(dir)`): `rules` then imports as a top-level module."""
    monkeypatch.delitem(sys.modules, "rules", raising=False)
    runpy.run_path(str(ROOT / "policy"), run_name="__main__")
    sys.modules.pop("rules", None)
    assert [p.name for p in pack_recorder[0][1]] == [p.name for p in rules.POLICIES]


def test_the_wiring_reads_pulumi_policy_props_with_unknowns() -> None:
    """The validate callbacks see plain props even through pulumi-policy's unknown-checking proxies."""
    from policy.__main__ import build_policies

    policies = {p.name: p for p in build_policies()}
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    def validate(name: str, type_: str, props: dict[str, Any]) -> None:
        args = pulumi_policy.ResourceValidationArgs(
            type_, unknown_checking_proxy(copy.deepcopy(props)), "urn:x", "x", None, None, None, {}
        )
        policies[name].validate(args, report)  # type: ignore[attr-defined]

    validate("istio-no-mesh-wide-permissive-mtls", PEER_AUTHENTICATION, peer_authentication("PERMISSIVE"))
    assert len(reported) == 1
    validate("istio-no-mesh-wide-permissive-mtls", PEER_AUTHENTICATION, peer_authentication(UNKNOWN))
    validate("istio-remote-secrets-use-reader-token", SECRET, remote_secret(UNKNOWN))
    assert len(reported) == 1

    resources = [
        pulumi_policy.PolicyResource(
            r.type,
            unknown_checking_proxy(copy.deepcopy(dict(r.props))),
            f"urn:{r.name}",
            r.name,
            None,  # type: ignore[arg-type]
            pulumi_policy.PolicyProviderResource("pulumi:providers:kubernetes", {}, f"urn:{r.provider}", r.provider),
            None,
            [],
            {},
        )
        for r in [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(UNKNOWN, provider="b")]
    ]
    stack_args = pulumi_policy.StackValidationArgs(resources, None, {})
    for name in ("istio-istiod-has-cacerts", "istio-shared-root-of-trust"):
        policies[name].validate(stack_args, report)  # type: ignore[attr-defined]
    assert len(reported) == 1
    del resources[3]
    policies["istio-istiod-has-cacerts"].validate(stack_args, report)  # type: ignore[attr-defined]
    assert len(reported) == 2 and "urn:b" in reported[1]


def test_the_wiring_places_a_component_by_its_children() -> None:
    """A helm v4 Chart the engine reports without a provider sits on its children's cluster (their parent URN)."""
    from policy.__main__ import build_policies

    policy = {p.name: p for p in build_policies()}["istio-istiod-has-cacerts"]
    chart = pulumi_policy.PolicyResource(
        CHART,
        unknown_checking_proxy(release()),
        "urn:chart",
        "a-istiod",
        None,  # type: ignore[arg-type]
        None,  # a component: the engine may report no provider
        None,
        [],
        {},
    )
    child = pulumi_policy.PolicyResource(
        "kubernetes:core/v1:ServiceAccount",
        unknown_checking_proxy({"metadata": {"name": "istiod", "namespace": "istio-system"}}),
        "urn:chart$sa",
        "a-istiod:istio-system/istiod",
        None,  # type: ignore[arg-type]
        pulumi_policy.PolicyProviderResource("pulumi:providers:kubernetes", {}, "urn:a-k8s", "a-k8s"),
        chart,
        [],
        {},
    )
    reported: list[str] = []
    args = pulumi_policy.StackValidationArgs([chart, child], None, {})
    policy.validate(args, lambda message, urn=None: reported.append(message))  # type: ignore[attr-defined]
    [message] = reported
    assert message.startswith("a-istiod runs istiod") and "(urn:a-k8s)" in message


def test_the_wiring_reads_props_through_the_public_mapping_interface() -> None:
    """Unknowns anywhere (nested maps, lists) become the rules' UNKNOWN marker; known values come through as is."""
    from policy.__main__ import _plain

    props = {"a": {"b": [1, UNKNOWN_STRING_VALUE, {"c": UNKNOWN_ARRAY_VALUE}]}, "d": UNKNOWN_OBJECT_VALUE, "e": "x"}
    assert _plain(unknown_checking_proxy(copy.deepcopy(props))) == {
        "a": {"b": [1, rules.UNKNOWN, {"c": rules.UNKNOWN}]},
        "d": rules.UNKNOWN,
        "e": "x",
    }
    assert _plain(props) == props  # plain input passes unchanged


def test_pack_files() -> None:
    manifest = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python" and manifest["description"]
    requirements = (ROOT / "policy" / "requirements.txt").read_text().split()
    assert "pulumi-policy==1.21.0" in requirements
    assert any(line.startswith("pulumi>=") or line == "pulumi" for line in requirements)


# -- the shipped stacks through the program ------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def adopted_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Adopted clusters of the shipped stacks resolve through `$KUBECONFIG` (as in test_program)."""
    contexts = ["kind-a", "kind-b"]
    for stack in STACKS:
        for cluster in yaml.safe_load(stack.read_text())["config"].get("mesh:clusters", []):
            context = (cluster.get("kubeconfig") or {}).get("context")
            if context and context not in contexts:
                contexts.append(context)
    file = tmp_path_factory.mktemp("kube") / "config"
    file.write_text(placeholder_kubeconfig(contexts))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(file))
        yield


def run_config(config: dict[str, Any], preview: bool = False) -> Run:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config, preview=preview
    )


def stack_resources(run: Run) -> list[StackResource]:
    return [StackResource(r.type, r.name, r.plain, r.provider_name) for r in run.resources]


@pytest.fixture(scope="module", params=[False, True], ids=["deployed", "preview"])
def preview(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(scope="module", params=STACKS, ids=stack_name)
def shipped(request: pytest.FixtureRequest, preview: bool) -> list[StackResource]:
    return stack_resources(run_config(stack_config(request.param), preview=preview))


def test_shipped_stacks_pass_every_mandatory_rule(shipped: list[StackResource]) -> None:
    assert rules.check_stack(shipped, MANDATORY) == {}
    # the rules did look at something
    assert any(r.type == RELEASE and rules._chart_name(r.props) == "istiod" for r in shipped)
    assert any(r.type == SECRET and r.props.get("metadata", {}).get("name") == "cacerts" for r in shipped)


def test_shipped_stacks_raise_no_advisory_finding(shipped: list[StackResource], preview: bool) -> None:
    """The examples keep deletion protection on (meshlib's default) and admit only watching istiods."""
    assert rules.check_stack(shipped, ADVISORY) == {}


def multi_primary() -> dict[str, Any]:
    return stack_config(fixture_stack("multi-primary"))


def test_shipped_stacks_expose_istiod_only_to_known_sources(shipped: list[StackResource]) -> None:
    """What the exposure rules read in the shipped stacks: firewalls and security group rules, none open."""
    if any(r.type == EKS for r in shipped):  # the cloud stacks (the adopted clusters' stack has no network)
        assert any(r.type == rules.GCP_FIREWALL for r in shipped)
        assert any(r.type == rules.AWS_SECURITY_GROUP_INGRESS_RULE for r in shipped)
    assert rules.istiod_ports_not_open_to_internet(shipped) == []
    assert rules.mesh_ports_not_open_to_internet(shipped) == []


def test_a_permissive_mesh_is_refused_by_the_pack() -> None:
    config = multi_primary()
    config["mesh:mtlsMode"] = "PERMISSIVE"
    found = rules.check_stack(stack_resources(run_config(config)), MANDATORY)
    assert set(found) == {"istio-no-mesh-wide-permissive-mtls"}
    assert len(found["istio-no-mesh-wide-permissive-mtls"]) == 2  # one per primary


def test_an_open_unprotected_cluster_is_reported_by_the_pack() -> None:
    config = multi_primary()
    config["mesh:adminCidrs"] = ["0.0.0.0/0"]
    for cluster in config["mesh:clusters"]:
        cluster["deletionProtection"] = False
    run = run_config(config)
    found = rules.check_stack(stack_resources(run), ADVISORY)
    assert {name: len(messages) for name, messages in found.items()} == {
        "cluster-api-not-open-to-internet": 2,
        "cluster-deletion-protection": 2,
    }
    assert rules.check_stack(stack_resources(run), MANDATORY) == {}


def test_admin_cidrs_covering_the_internet_in_pieces_are_reported_by_the_pack() -> None:
    config = multi_primary()
    config["mesh:adminCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]
    run = run_config(config)
    found = rules.check_stack(stack_resources(run), ADVISORY)
    assert {name: len(messages) for name, messages in found.items()} == {"cluster-api-not-open-to-internet": 2}
    assert all("in pieces" in message for message in found["cluster-api-not-open-to-internet"])


def test_a_missing_cacerts_is_refused_by_the_pack() -> None:
    resources = [r for r in stack_resources(run_config(multi_primary())) if r.name != "mesh1-east-istio-cacerts"]
    found = rules.check_stack(resources, MANDATORY)
    assert set(found) == {"istio-istiod-has-cacerts"}
    [message] = found["istio-istiod-has-cacerts"]
    assert message.startswith("mesh1-east-istio-istiod runs istiod with no Secret cacerts")


def test_the_mesh_keeps_a_single_root_when_a_cacerts_is_tampered_with() -> None:
    """The stack rule on real program output: swap one cluster's root and the pack notices."""
    resources = stack_resources(run_config(multi_primary()))
    tampered = []
    for resource in resources:
        if resource.name == "mesh1-central-istio-cacerts":
            props = copy.deepcopy(dict(resource.props))
            props["stringData"]["root-cert.pem"] = "-----BEGIN CERTIFICATE-----\nrogue\n-----END CERTIFICATE-----\n"
            resource = StackResource(resource.type, resource.name, props, resource.provider)
        tampered.append(resource)
    [message] = rules.shared_root_of_trust(tampered)
    assert "2 different root-cert.pem" in message
