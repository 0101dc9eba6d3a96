"""The policy pack in `policy/`: each rule on resources that pass and fail, the pack's wiring, and the shipped stacks.

Rules are pure functions over `(type, props)` (or the stack's resources), so most tests
need neither the Pulumi CLI nor the policy engine. Props are written the way the engine
serialises inputs (camelCase), which is what `Registered.plain` shows for a mock run.
"""

from __future__ import annotations

import base64
import copy
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
from tests.conftest import ROOT, STACKS, stack_name
from tests.mocks import Run, run_program
from tests.test_program import stack_config

RELEASE = rules.HELM_RELEASE
SECRET = rules.SECRET
EKS = rules.EKS_CLUSTER
GKE = rules.GKE_CLUSTER
PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication"
UNKNOWN = UNKNOWN_STRING_VALUE
MANDATORY = [p for p in rules.POLICIES if p.enforcement == "mandatory"]
ADVISORY = [p for p in rules.POLICIES if p.enforcement == "advisory"]
CACERTS_METADATA = {"name": "cacerts", "namespace": "istio-system"}


# -- builders ----------------------------------------------------------------------------------


def peer_authentication(
    mode: Any = "STRICT", namespace: Any = "istio-system", name: str = "default", selector: Any = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {} if mode is None else {"mtls": {"mode": mode}}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def release(
    chart: str = "istiod",
    name: str = "istiod",
    version: Any = "1.30.3",
    repo: Any = ISTIO_CHART_REPOSITORY,
    values: Any = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "chart": chart,
        "name": name,
        "namespace": "istio-system",
        "values": {} if values is None else values,
    }
    if version is not None:
        props["version"] = version
    if repo is not None:
        props["repositoryOpts"] = {"repo": repo}
    return props


def east_west(values: Any) -> dict[str, Any]:
    return release("gateway", "istio-eastwestgateway", values=values)


def kubeconfig(user: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "c2", "cluster": {"server": "https://c2.example", "certificate-authority-data": "Q0E="}}
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


def cacerts(
    root: Any = "ROOT", provider: str = "c1-k8s", name: str = "cacerts", encoded: bool = False
) -> StackResource:
    data = {"ca-cert.pem": "INT", "ca-key.pem": "KEY", "cert-chain.pem": "INT\nROOT"}
    if root is not None:
        data["root-cert.pem"] = root
    props: dict[str, Any] = {"metadata": {"name": name, "namespace": "istio-system"}, "type": "Opaque"}
    if encoded:
        props["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        props["stringData"] = data
    return StackResource(SECRET, f"{provider}-cacerts", props, provider)


def istiod_on(provider: str) -> StackResource:
    return StackResource(RELEASE, f"{provider}-istiod", release(), provider)


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
    ("resources", "expected"),
    [
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(provider="b")], [], id="ok"),
        pytest.param(
            [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts(provider="b", encoded=True)],
            [],
            id="ok-base64-data",
        ),
        pytest.param([istiod_on("a"), istiod_on("b"), cacerts(provider="a")], ["no Secret cacerts"], id="missing"),
        pytest.param([istiod_on("a"), cacerts(provider="a", name="cacerts-old")], ["no Secret cacerts"], id="misnamed"),
        pytest.param([istiod_on("a"), cacerts(provider="b")], ["no Secret cacerts"], id="on-another-cluster-only"),
        pytest.param(
            [istiod_on("a"), istiod_on("b"), cacerts(provider="a"), cacerts("OTHER ROOT", provider="b")],
            ["2 different root-cert.pem"],
            id="different-roots",
        ),
        pytest.param([istiod_on("a"), cacerts(None, provider="a")], ["has no root-cert.pem"], id="no-root"),
        pytest.param([cacerts(provider="a")], [], id="no-istiod-no-requirement"),
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
def test_shared_root_of_trust(resources: list[StackResource], expected: list[str]) -> None:
    found = rules.shared_root_of_trust(resources)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


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
    ],
)
def test_east_west_gateway_mesh_ports_only(props: dict[str, Any], violations: int) -> None:
    assert len(rules.east_west_gateway_mesh_ports_only(RELEASE, props)) == violations


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
    ],
)
def test_remote_secrets_use_reader_token(props: dict[str, Any], violations: int) -> None:
    found = rules.remote_secrets_use_reader_token(SECRET, props)
    assert len(found) == violations, found
    assert all("eyJ" not in message for message in found)


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
    ],
)
def test_istio_charts_pinned_from_istio_repository(props: dict[str, Any], violations: int) -> None:
    assert len(rules.istio_charts_pinned_from_istio_repository(RELEASE, props)) == violations


# -- advisory rules ----------------------------------------------------------------------------


def eks(vpc: Any, **extra: Any) -> dict[str, Any]:
    return {"name": "c1", "vpcConfig": vpc, "deletionProtection": True, **extra}


def gke(**extra: Any) -> dict[str, Any]:
    return {"name": "c2", "deletionProtection": True, **extra}


@pytest.mark.parametrize(
    ("type_", "props", "violations"),
    [
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.7/32"]}), 0, id="eks-ok"),
        pytest.param(EKS, eks({"endpointPublicAccess": False, "endpointPrivateAccess": True}), 0, id="eks-private"),
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}), 1, id="eks-open"),
        pytest.param(EKS, eks({"endpointPublicAccess": True}), 1, id="eks-public-without-cidrs"),
        pytest.param(EKS, eks({"subnetIds": ["s1", "s2"]}), 1, id="eks-public-by-default"),
        pytest.param(EKS, eks({"endpointPublicAccess": True, "publicAccessCidrs": []}), 1, id="eks-empty-cidrs"),
        pytest.param(EKS, eks({"endpointPublicAccess": UNKNOWN, "publicAccessCidrs": UNKNOWN}), 0, id="eks-unknown"),
        pytest.param(
            GKE,
            gke(masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "203.0.113.7/32"}]}),
            0,
            id="gke-ok",
        ),
        pytest.param(GKE, gke(masterAuthorizedNetworksConfig={"cidrBlocks": []}), 0, id="gke-nobody-admitted"),
        pytest.param(GKE, gke(), 1, id="gke-no-authorized-networks"),
        pytest.param(
            GKE,
            gke(masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "0.0.0.0/0", "displayName": "all"}]}),
            1,
            id="gke-open",
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
    assert rules.no_mesh_wide_permissive_mtls(PEER_AUTHENTICATION, peer_authentication(unknown)) == []


def test_the_rules_agree_with_meshlib() -> None:
    assert rules.ISTIO_CHART_REPOSITORY == ISTIO_CHART_REPOSITORY
    assert rules.EAST_WEST_GATEWAY == EAST_WEST_GATEWAY_NAME
    assert rules.MESH_PORTS == set(AWS_MESH_PORTS)


# -- the pack ----------------------------------------------------------------------------------


def test_policy_names_and_enforcement_levels() -> None:
    assert [(p.name, p.enforcement) for p in rules.POLICIES] == [
        ("istio-no-mesh-wide-permissive-mtls", "mandatory"),
        ("istio-shared-root-of-trust", "mandatory"),
        ("istio-east-west-gateway-mesh-ports-only", "mandatory"),
        ("istio-remote-secrets-use-reader-token", "mandatory"),
        ("istio-charts-pinned-from-istio-repository", "mandatory"),
        ("cluster-api-not-open-to-internet", "advisory"),
        ("cluster-deletion-protection", "advisory"),
    ]
    assert all((p.resource_rule is None) != (p.stack_rule is None) for p in rules.POLICIES)
    assert [p.name for p in rules.POLICIES if p.stack_rule] == ["istio-shared-root-of-trust"]


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
    policies["istio-shared-root-of-trust"].validate(stack_args, report)  # type: ignore[attr-defined]
    assert len(reported) == 1
    del resources[3]
    policies["istio-shared-root-of-trust"].validate(stack_args, report)  # type: ignore[attr-defined]
    assert len(reported) == 2 and "urn:b" in reported[1]


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
    return stack_config(ROOT / "stacks" / "Pulumi.multi-primary.yaml")


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
