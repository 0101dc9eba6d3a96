"""Istio on every cluster: trust, control planes, east-west gateways, remote secrets, federation.

The mesh runs on stand-in clusters (`StandInCluster`: a provider and fixed addresses), so
these tests see only what the Istio components register, for any topology.
"""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from meshlib.components import EastWestExposure, MeshCluster, MultiClusterMesh, MultiClusterMeshArgs
from meshlib.plan import base_values, cluster_manifests, gateway_values, istiod_values, plan_mesh
from meshlib.plan.value_paths import PATHS, leaf_paths
from meshlib.spec import MeshSpec, parse_spec
from tests.fakes_k8s import fake_token
from tests.mocks import Registered, Run, fake_ip, registrations, run_program
from tests.test_chart_values import GATEWAY_SCHEMA, covered
from tests.validators import validate_core, validate_istio


class StandInCluster(MeshCluster):
    """A cluster handle with a provider and known addresses, as a caller could pass to the mesh."""

    def __init__(self, name: str, cloud: str, network: str) -> None:
        super().__init__("test:index:StandInCluster", name, None, None)
        self.cluster_name = name
        self.cloud = cloud
        self.network = network
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig="stand-in", cluster_identifier=name, opts=pulumi.ResourceOptions(parent=self)
        )
        self.endpoint = pulumi.Output.from_input(f"https://{name}.api.example.com")
        self.certificate_authority = pulumi.Output.from_input(base64.b64encode(f"CA of {name}".encode()).decode())
        self.kubeconfig = pulumi.Output.secret(f"kubeconfig of {name}")
        self.east_west = EastWestExposure(
            addresses=pulumi.Output.from_input([fake_ip(f"{name}-gw")]), annotations={"cloud/annotation": cloud}
        )
        self.egress_ips = pulumi.Output.from_input([fake_ip(f"{name}-egress")])
        self.egress_known = True
        self.control_plane_egress_known = cloud == "aws"
        self.register_outputs({})


def _cluster(name: str, cloud: str, network: str, **extra: Any) -> dict[str, Any]:
    base = {"name": name, "cloud": cloud, "network": network, **extra}
    if cloud == "aws":
        base["region"] = "us-east-1"
    else:
        base.update(project="p1", region="us-central1")
    return base


TOPOLOGIES: dict[str, dict[str, Any]] = {
    "multi-primary-2": {
        "mode": "multi-primary",
        "clusters": [_cluster("east", "aws", "net-aws"), _cluster("central", "gcp", "net-gcp")],
        "services": [
            {
                "name": "reviews",
                "cluster": "central",
                "consumers": ["east"],
                "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
            }
        ],
    },
    "multi-primary-3": {
        "mode": "multi-primary",
        "clusters": [
            _cluster("east", "aws", "net-aws"),
            _cluster("central", "gcp", "net-gcp"),
            _cluster("west", "gcp", "net-gcp"),
        ],
        "services": [
            {
                "name": "ratings",
                "namespace": "shop",
                "cluster": "east",
                "consumers": ["central", "west"],
                "ports": [{"number": 80, "name": "http"}, {"number": 9090, "name": "grpc", "protocol": "GRPC"}],
            }
        ],
    },
    "primary-remote": {
        "mode": "primary-remote",
        "restrictEastWestSources": True,
        # net-aws's default VPC block would lie in the home of cluster near: pinned where the config error says.
        "networks": {"net-aws": {"vpcCidr": "10.160.0.0/24"}},
        "clusters": [
            _cluster("hub", "gcp", "net-gcp"),
            _cluster("near", "gcp", "net-gcp", role="remote"),  # on its primary's network
            _cluster("far", "aws", "net-aws", role="remote"),  # on a network of its own
        ],
        "services": [
            {
                "name": "reviews",
                "cluster": "far",
                "consumers": ["near"],
                "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
            }
        ],
    },
}


def spec_of(topology: str) -> MeshSpec:
    return parse_spec({"meshId": "mesh1", **TOPOLOGIES[topology]})


def run_mesh(spec: MeshSpec, preview: bool = False) -> Run:
    def build() -> None:
        handles = {c.name: StandInCluster(c.name, c.cloud, str(c.network)) for c in spec.clusters}
        MultiClusterMesh("mesh1", MultiClusterMeshArgs(spec=spec, clusters=handles))

    return run_program(build, preview=preview)


@pytest.fixture(params=list(TOPOLOGIES), scope="module")
def mesh(request: pytest.FixtureRequest) -> tuple[MeshSpec, Run]:
    spec = spec_of(request.param)
    return spec, run_mesh(spec)


def releases(run: Run, chart: str) -> dict[str, Registered]:
    """Helm releases of `chart`, by the cluster whose provider installs them."""
    found = [r for r in run.resources if r.type == "kubernetes:helm.sh/v3:Release" and r.plain["chart"] == chart]
    return {r.provider_name.removesuffix("-k8s"): r for r in found}


def test_release_values_are_the_planned_ones(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    plan = plan_mesh(spec)
    for cluster in plan.clusters:
        primary_address = None if cluster.is_primary else fake_ip(f"{cluster.config_cluster}-gw")
        assert releases(run, "base")[cluster.name].plain["values"] == base_values(spec, cluster, primary_address)
        assert releases(run, "istiod")[cluster.name].plain["values"] == istiod_values(spec, cluster, primary_address)
        if cluster.east_west_gateway:
            values = releases(run, "gateway")[cluster.name].plain["values"]
            expected = gateway_values(spec, cluster, {"cloud/annotation": cluster.cloud})
            assert {k: v for k, v in values.items() if k != "service"} == {
                k: v for k, v in expected.items() if k != "service"
            }
            assert values["service"]["annotations"] == {"cloud/annotation": cluster.cloud}
    gateways = set(releases(run, "gateway"))
    assert gateways == {c.name for c in plan.clusters if c.east_west_gateway}


def test_releases_are_pinned_to_istios_repository(mesh: tuple[MeshSpec, Run]) -> None:
    _, run = mesh
    for release in run.mocks.of_type("kubernetes:helm.sh/v3:Release"):
        assert release.plain["version"] == "1.30.3"
        assert release.plain["repositoryOpts"] == {"repo": "https://istio-release.storage.googleapis.com/charts"}
        assert release.plain["namespace"] == "istio-system"
        assert release.plain["name"] in {"istio-base", "istiod", "istio-eastwestgateway"}  # no random suffix


def test_every_value_path_exists_in_the_charts(mesh: tuple[MeshSpec, Run]) -> None:
    _, run = mesh
    for chart in ("base", "istiod", "gateway"):
        for release in releases(run, chart).values():
            for path in leaf_paths(release.plain["values"]):
                assert covered(path, PATHS["1.30"][chart]), (chart, path)
    import jsonschema

    for release in releases(run, "gateway").values():
        jsonschema.validate(release.plain["values"], GATEWAY_SCHEMA)


def test_every_istio_resource_passes_istios_schema(mesh: tuple[MeshSpec, Run]) -> None:
    _, run = mesh
    custom = [r for r in run.resources if r.type.startswith(("kubernetes:networking.istio.io", "kubernetes:security"))]
    assert custom
    for resource in custom:
        validate_istio({key: resource.plain[key] for key in ("apiVersion", "kind", "metadata", "spec")})


def test_core_objects_pass_kubernetes_schema(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    core = [
        r
        for r in run.resources
        if r.type in ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret")
        and not r.name.endswith("-read")
        and "MeshVerification" not in r.urn  # the checks' own (tests/test_verify.py)
    ]
    # a namespace and cacerts per cluster, a token and a remote secret per watch
    assert len(core) == 2 * len(spec.clusters) + 2 * plan_mesh(spec).remote_secret_count
    for resource in core:
        validate_core(resource.plain)


def test_istio_config_lives_only_in_primaries(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    plan = plan_mesh(spec)
    primaries = {c.name for c in plan.clusters if c.is_primary}
    for resource in run.resources:
        if resource.type.startswith("kubernetes:networking.istio.io"):
            assert resource.provider_name.removesuffix("-k8s") in primaries, resource.name


def test_service_entries_are_in_each_consumers_config_cluster_with_the_sni(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    plan = plan_mesh(spec)
    entries = run.mocks.of_type("kubernetes:networking.istio.io/v1:ServiceEntry")
    rules = run.mocks.of_type("kubernetes:networking.istio.io/v1:DestinationRule")
    expected = {(c.name, i.host) for c in plan.clusters for i in c.imports}
    assert expected
    assert {(r.provider_name.removesuffix("-k8s"), r.plain["spec"]["hosts"][0]) for r in entries} == expected
    assert {(r.provider_name.removesuffix("-k8s"), r.plain["spec"]["host"]) for r in rules} == expected
    for entry in entries:
        exporter = entry.plain["spec"]["hosts"][0].split(".")[3]
        assert entry.plain["spec"]["endpoints"][0]["address"] == fake_ip(f"{exporter}-gw")
        assert set(entry.plain["spec"]["endpoints"][0]["ports"].values()) == {15443}
    # The SNI of each port, written out from the config: what the exporter's gateway routes on.
    sni = {
        f"{s.name}.{s.namespace}.svc.{s.cluster}.local": {
            p.number: f"outbound_.{p.number}_._.{s.name}.{s.namespace}.svc.cluster.local" for p in s.ports
        }
        for s in spec.services
    }
    for rule in rules:
        host = rule.plain["spec"]["host"]
        policy = rule.plain["spec"]["trafficPolicy"]
        if len(sni[host]) == 1:
            ((port, expected_sni),) = sni[host].items()
            assert policy == {"tls": {"mode": "ISTIO_MUTUAL", "sni": expected_sni}}
        else:
            assert policy == {
                "portLevelSettings": [
                    {"port": {"number": port}, "tls": {"mode": "ISTIO_MUTUAL", "sni": value}}
                    for port, value in sni[host].items()
                ]
            }


def test_remote_secrets_hold_a_bearer_token_kubeconfig(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    plan = plan_mesh(spec)
    secrets = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-secret")]
    assert len(secrets) == plan.remote_secret_count
    for secret in secrets:
        watched = secret.plain["metadata"]["annotations"]["networking.istio.io/cluster"]
        assert secret.plain["metadata"]["name"] == f"istio-remote-secret-{watched}"
        assert secret.plain["metadata"]["labels"] == {"istio/multiCluster": "true"}
        assert secret.is_secret("stringData")
        kubeconfig = yaml.safe_load(secret.plain["stringData"][watched])
        assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{watched}.api.example.com"
        user = kubeconfig["users"][0]["user"]
        assert set(user) == {"token"} and "exec" not in user
        assert user["token"] == fake_token(f"mesh1-{secret.name.split('-')[1]}-watches-{watched}-reader-token-read")
        watcher = secret.provider_name.removesuffix("-k8s")
        assert watched in plan.cluster(watcher).watches
        assert any(d.endswith(f"::mesh1-{watcher}-istio-namespace") for d in secret.dependencies)


def test_reader_tokens_are_created_in_the_watched_cluster_after_its_reader_account(
    mesh: tuple[MeshSpec, Run],
) -> None:
    spec, run = mesh
    tokens = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-reader-token")]
    reads = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-reader-token-read")]
    assert len(tokens) == len(reads) == plan_mesh(spec).remote_secret_count
    for read in reads:
        assert "data" in read.additional_secret_outputs  # the token read back stays secret
        assert any(d.endswith(f"::{read.name.removesuffix('-read')}") for d in read.dependencies)
    for token in tokens:
        watcher, watched = token.name.removeprefix("mesh1-").removesuffix("-reader-token").split("-watches-")
        assert token.provider_name == f"{watched}-k8s"
        assert token.plain["metadata"]["name"] == f"meshlib-reader-token-{watcher}"  # one per watcher
        assert token.plain["type"] == "kubernetes.io/service-account-token"
        assert token.plain["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "meshlib-reader"}
        # the account and its bindings first: the token controller deletes a token of a missing account
        for part in ("account", "cluster-role-binding", "role-binding"):
            assert any(dep.endswith(f"::mesh1-{watched}-reader-{part}") for dep in token.dependencies), part


def test_one_root_of_trust_and_secret_keys(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    roots = run.mocks.of_type("tls:index/selfSignedCert:SelfSignedCert")
    assert len(roots) == 1
    cacerts = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-cacerts")]
    assert len(cacerts) == len(spec.clusters)
    root_pems = {c.plain["stringData"]["root-cert.pem"] for c in cacerts}
    assert root_pems == {"-----BEGIN CERTIFICATE-----\nmesh1-trust-root-cert\n-----END CERTIFICATE-----\n"}
    for secret in cacerts:
        assert secret.is_secret("stringData")
        data = secret.plain["stringData"]
        assert data["cert-chain.pem"] == data["ca-cert.pem"] + data["root-cert.pem"]
    keys = run.mocks.of_type("tls:index/privateKey:PrivateKey")
    assert len(keys) == len(spec.clusters) + 1  # the root's and one per intermediate
    for key in keys:
        assert "privateKeyPem" in key.additional_secret_outputs


def test_intermediates_have_istios_properties(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    for cluster in spec.clusters:
        request = run.mocks.named(f"mesh1-trust-{cluster.name}-csr").plain
        assert request["subject"] == {
            "organization": "Istio",
            "commonName": "Intermediate CA",
            "locality": cluster.name,
        }
        assert request["dnsNames"] == ["istiod.istio-system.svc"]
        cert = run.mocks.named(f"mesh1-trust-{cluster.name}-cert").plain
        assert cert["isCaCertificate"] is True and cert["maxPathLength"] == 0
        assert set(cert["allowedUses"]) == {
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "cert_signing",
        }


def test_istiod_waits_for_cacerts_and_base(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    for cluster in spec.clusters:
        istiod = run.mocks.named(f"mesh1-{cluster.name}-istio-istiod")
        assert any(d.endswith(f"::mesh1-{cluster.name}-istio-cacerts") for d in istiod.dependencies)
        assert any(d.endswith(f"::mesh1-{cluster.name}-istio-base") for d in istiod.dependencies)


def test_istio_resources_wait_for_their_clusters_istiod(mesh: tuple[MeshSpec, Run]) -> None:
    _, run = mesh
    for resource in run.resources:
        if resource.type.startswith(("kubernetes:networking.istio.io", "kubernetes:security.istio.io")):
            cluster = resource.provider_name.removesuffix("-k8s")
            assert any(d.endswith(f"::mesh1-{cluster}-istio-istiod") for d in resource.dependencies), resource.name


def test_no_kubernetes_resource_goes_through_another_clusters_provider(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    names = [c.name for c in spec.clusters]
    for resource in run.resources:
        if not resource.type.startswith("kubernetes:"):
            continue
        assert resource.provider_name, f"{resource.name} uses the default provider"
        owner = resource.provider_name.removesuffix("-k8s")
        # The cluster a resource belongs to is named in its resource name; a remote secret
        # belongs to its watcher, its reader token to the watched cluster.
        if "-watches-" in resource.name:
            watcher, watched = resource.name.removeprefix("mesh1-").split("-watches-")
            expected = watched.split("-")[0] if "-reader-token" in resource.name else watcher
        else:
            expected = next(n for n in names if resource.name.startswith(f"mesh1-{n}-"))
        assert owner == expected, resource.name


def test_remote_gets_its_primarys_address_and_waits_for_the_primary() -> None:
    spec = spec_of("primary-remote")
    run = run_mesh(spec)
    far_istiod = releases(run, "istiod")["far"].plain["values"]
    assert far_istiod["global"]["remotePilotAddress"] == fake_ip("hub-gw")
    namespace = run.mocks.named("mesh1-far-istio-namespace").plain["metadata"]
    assert namespace["annotations"] == {"topology.istio.io/controlPlaneClusters": "hub"}
    gateway = run.mocks.named("mesh1-far-eastwest-release")
    assert any(d.endswith("mesh1-far-istio-istiod") for d in gateway.dependencies)  # its injection webhook
    assert any(d.endswith("mesh1-hub-istio-istiod") for d in gateway.dependencies)
    assert any(d.endswith("::mesh1-hub-eastwest-release") for d in gateway.dependencies)  # a component: its children
    assert any("mesh1-hub-watches-far" in d for d in gateway.dependencies)


def test_restricted_gateways_admit_exactly_the_peers_egress() -> None:
    spec = spec_of("primary-remote")
    run = run_mesh(spec)
    far = releases(run, "gateway")["far"].plain["values"]["service"]
    assert far["loadBalancerSourceRanges"] == sorted(f"{fake_ip(f'{n}-egress')}/32" for n in ("hub", "near"))
    # The hub serves istiod to a GKE remote, whose control plane calls webhooks from unknown addresses.
    assert "loadBalancerSourceRanges" not in releases(run, "gateway")["hub"].plain["values"].get("service", {})


def test_preview_of_an_empty_stack_does_not_fail(mesh: tuple[MeshSpec, Run]) -> None:
    spec, _ = mesh
    run = run_mesh(spec, preview=True)
    assert run.mocks.of_type("kubernetes:helm.sh/v3:Release")


def test_same_config_registers_the_same_inputs() -> None:
    spec = spec_of("multi-primary-3")
    first, second = run_mesh(spec), run_mesh(spec)
    assert registrations(first) == registrations(second)


def test_each_cluster_gets_exactly_the_planned_istio_resources(mesh: tuple[MeshSpec, Run]) -> None:
    spec, run = mesh
    plan = plan_mesh(spec)
    addresses = {c.name: [fake_ip(f"{c.name}-gw")] for c in plan.clusters}
    hostnames = {c.name: False for c in plan.clusters}
    for cluster in plan.clusters:
        planned = [validated(m) for m in cluster_manifests(spec, cluster, addresses, hostnames)]
        registered = [
            {key: r.plain[key] for key in ("apiVersion", "kind", "metadata", "spec")}
            for r in run.resources
            if r.type.startswith(("kubernetes:networking.istio.io", "kubernetes:security.istio.io"))
            and r.provider_name == f"{cluster.name}-k8s"
        ]
        key = lambda m: (m["kind"], m["metadata"]["name"])  # noqa: E731
        assert sorted(registered, key=key) == sorted(planned, key=key), cluster.name


def validated(manifest: dict[str, Any]) -> dict[str, Any]:
    validate_istio(manifest)
    return manifest


def test_bring_your_own_root_ca() -> None:
    root_pem = "-----BEGIN CERTIFICATE-----\nour-root\n-----END CERTIFICATE-----\n"
    key_pem = "-----BEGIN PRIVATE KEY-----\nour-root-key\n-----END PRIVATE KEY-----\n"
    raw = {
        "meshId": "mesh1",
        **TOPOLOGIES["multi-primary-2"],
        "rootCa": {"certificate": "rootCert", "privateKey": "rootKey"},
        "rootCert": root_pem,
        "rootKey": key_pem,
    }
    spec = parse_spec(raw)

    def build() -> None:
        handles = {c.name: StandInCluster(c.name, c.cloud, str(c.network)) for c in spec.clusters}
        MultiClusterMesh("mesh1", MultiClusterMeshArgs(spec=spec, clusters=handles))

    run = run_program(build, config={"mesh:rootCert": root_pem, "mesh:rootKey": key_pem})
    assert not run.mocks.of_type("tls:index/selfSignedCert:SelfSignedCert")
    cacerts = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-cacerts")]
    assert len(cacerts) == 2
    assert {c.plain["stringData"]["root-cert.pem"] for c in cacerts} == {root_pem}
    signed = run.mocks.of_type("tls:index/locallySignedCert:LocallySignedCert")
    assert len(signed) == 2
    for cert in signed:
        assert cert.plain["caCertPem"] == root_pem
        assert cert.plain["caPrivateKeyPem"] == key_pem and cert.is_secret("caPrivateKeyPem")
