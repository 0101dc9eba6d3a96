"""The plugin package: the schema the analyzer infers, and the component on the mock engine."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls
import pytest

from meshlib.components.mesh import checked_admin_cidrs
from meshlib.provider.mesh import ADMIN_CIDR_PLACEHOLDER, MultiClusterMesh, to_spec_input
from meshlib.provider.schema import schema, schema_text
from meshlib.spec.loader import parse_spec
from meshlib.spec.problems import ConfigError
from tests.conftest import ROOT
from tests.mocks import Run, run_program

TOKEN = "meshlib:index:MultiClusterMesh"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return schema()


def test_the_package_exposes_the_mesh_component(document: dict[str, Any]) -> None:
    assert document["name"] == "meshlib"
    assert list(document["resources"]) == [TOKEN]
    assert document["resources"][TOKEN]["isComponent"] is True


def test_inputs_from_other_resources_are_inputs_and_the_rest_plain(document: dict[str, Any]) -> None:
    mesh = document["resources"][TOKEN]
    assert sorted(mesh["requiredInputs"]) == ["clusters", "meshId", "mode"]
    assert mesh["inputProperties"]["clusters"]["items"]["$ref"] == "#/types/meshlib:index:ClusterArgs"
    cluster = document["types"]["meshlib:index:ClusterArgs"]["properties"]
    assert sorted(document["types"]["meshlib:index:ClusterArgs"]["required"]) == ["cloud", "name"]
    for key in ("vpcId", "kubeconfig"):  # may come from another stack: not plain
        assert cluster[key]["type"] == "string" and "plain" not in cluster[key]
    for key in ("publicSubnetIds", "privateSubnetIds"):  # the count is plain, each id an input
        assert cluster[key]["plain"] is True and "plain" not in cluster[key]["items"]
    for key in ("name", "cloud", "eastWestAddress"):  # decide the plan: known at plan time
        assert cluster[key]["plain"] is True


def test_every_property_is_described(document: dict[str, Any]) -> None:
    mesh = document["resources"][TOKEN]
    properties = [*mesh["inputProperties"].items(), *mesh["properties"].items()]
    properties += [(k, v) for t in document["types"].values() for k, v in t["properties"].items()]
    assert [name for name, prop in properties if not prop.get("description")] == []


def test_outputs(document: dict[str, Any]) -> None:
    outputs = document["resources"][TOKEN]["properties"]
    assert sorted(outputs) == ["clusterEndpoints", "eastWestAddresses", "kubeconfigs", "summary"]
    assert outputs["kubeconfigs"]["additionalProperties"]["type"] == "string"
    assert outputs["summary"]["additionalProperties"]["$ref"] == "pulumi.json#/Any"
    # The SDK's schema has no `secret` flag on properties: secrecy travels with the value (see the run below).
    assert "secret" in outputs["kubeconfigs"]["description"]


def test_the_shown_schema_is_current() -> None:
    assert (ROOT / "examples" / "schema.json").read_text() == schema_text(), (
        "regenerate: python -m meshlib.provider.schema > examples/schema.json"
    )


def mesh_args(**east: Any) -> dict[str, Any]:
    return {
        "mesh_id": "mesh1",
        "mode": "multi-primary",
        "admin_cidrs": ["203.0.113.7/32"],
        "clusters": [
            {"name": "east", "cloud": "aws", "region": "us-east-1", "network": "net-aws", **east},
            {"name": "central", "cloud": "gcp", "project": "acme-mesh-prod", "region": "us-central1"},
        ],
        "services": [
            {
                "name": "reviews",
                "cluster": "central",
                "consumers": ["east"],
                "ports": [{"number": 9080, "name": "http"}],
            }
        ],
    }


def adopted_run(preview: bool = False) -> Run:
    def build() -> None:
        vpc = aws.ec2.Vpc("net-vpc", cidr_block="10.9.0.0/16")
        subnets = [aws.ec2.Subnet(f"net-{n}", vpc_id=vpc.id, cidr_block=f"10.9.{i}.0/24") for i, n in enumerate("abcd")]
        mesh = MultiClusterMesh(
            "m",
            mesh_args(
                vpc_id=vpc.id,
                public_subnet_ids=[subnets[0].id, subnets[1].id],
                private_subnet_ids=[subnets[2].id, subnets[3].id],
            ),
        )
        pulumi.export("kubeconfigs", mesh.kubeconfigs)
        pulumi.export("endpoints", mesh.cluster_endpoints)

    return run_program(build, preview=preview)


def test_a_vpc_id_from_another_resource_reaches_the_eks_cluster() -> None:
    run = adopted_run()
    vpc, private = run.mocks.named("net-vpc"), [run.mocks.named(f"net-{n}") for n in "cd"]
    cluster = next(r for r in run.resources if r.type == "aws:eks/cluster:Cluster")
    assert cluster.plain["vpcConfig"]["subnetIds"] == ["net-c-id", "net-d-id"]
    assert {s.urn for s in private} <= set(cluster.property_dependencies["vpcConfig"])
    uses_vpc = [r for r in run.resources if "vpc" in str(r.property_dependencies) and vpc.urn in str(r.dependencies)]
    assert uses_vpc, "no resource of the mesh depends on the VPC it was given"
    placeholders = ("vpc-pending", "subnet-pending")
    assert not [r for r in run.resources if any(p in str(r.inputs) for p in placeholders)], "a placeholder leaked"
    outer, inner = [r for r in run.resources if r.name == "m"]  # the package's component wraps the library's
    assert outer.type == inner.type == TOKEN and inner.parent == outer.urn
    assert run.outputs["endpoints"].keys() == {"east", "central"}
    assert "kubeconfigs" in run.secret_outputs


def test_outputs_are_threaded_and_reported_as_unchecked() -> None:
    converted = to_spec_input(mesh_args(vpc_id=pulumi.Output.from_input("vpc-1"), private_subnet_ids=["subnet-1"]))
    assert converted.raw["clusters"][0]["vpcId"].startswith("vpc-pending")
    assert converted.raw["clusters"][0]["privateSubnetIds"] == ["subnet-1"]
    assert converted.unchecked == ["clusters[0].vpcId"]
    assert set(converted.aws_inputs) == {"east"}


def test_errors_name_keys_in_the_callers_terms() -> None:
    args = mesh_args(vpc_id="vpc-1")
    args["clusters"][1]["name"] = "Central_1"

    def build() -> None:
        MultiClusterMesh("m", args)  # type: ignore[arg-type]

    with pytest.raises(ConfigError) as caught:
        run_program(build)
    keys = [problem.key for problem in caught.value.problems]
    assert "clusters[1].name" in keys
    assert not [key for key in keys if key.startswith("mesh:")]


def test_a_count_that_is_an_output_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"clusters\[0\]\.privateSubnetIds: give a list"):
        to_spec_input(mesh_args(vpc_id="vpc-1", private_subnet_ids=pulumi.Output.from_input(["subnet-1"])))
    with pytest.raises(ConfigError, match=r"clusters\[0\]\.region: must be a plain value"):
        to_spec_input(mesh_args(region=pulumi.Output.from_input("us-east-1")))


EXPOSED_ELSEWHERE = {
    # MeshSpec keys the package does not take yet, and why (docs/package.md).
    "clusterCas": "names config keys of the stack: the package would take PEMs, as it does for rootCa",
    "networks": "the VPC blocks of networks meshlib creates: use the Python API or stack config",
    "readerTokenGeneration": "a rotation counter of stack config",
}
CLUSTER_ELSEWHERE = {
    "istioValues": "Helm values are free-form maps: not in the package yet",
    "masterCidr": "GKE ranges: not in the package yet",
    "nodeCidr": "GKE ranges: not in the package yet",
    "podCidr": "GKE ranges: not in the package yet",
    "releaseChannel": "GKE release channel: not in the package yet",
}
ISTIO_ELSEWHERE = {"values": "Helm values are free-form maps: not in the package yet"}


@pytest.mark.parametrize(
    ("schema_type", "model", "elsewhere"),
    [
        (TOKEN, "MeshSpec", EXPOSED_ELSEWHERE),
        ("meshlib:index:ClusterArgs", "ClusterSpec", CLUSTER_ELSEWHERE),
        ("meshlib:index:IstioArgs", "IstioSpec", ISTIO_ELSEWHERE),
    ],
)
def test_the_package_takes_every_config_key_or_says_why_not(
    document: dict[str, Any], schema_type: str, model: str, elsewhere: dict[str, str]
) -> None:
    from meshlib.spec import models

    fields = {field.alias or name for name, field in getattr(models, model).model_fields.items()}
    if schema_type == TOKEN:
        properties = set(document["resources"][TOKEN]["inputProperties"])
    else:
        properties = set(document["types"][schema_type]["properties"])
    assert fields - properties == set(elsewhere), "a new config key: add it to the package, or say why not"
    if schema_type == TOKEN:
        assert set(TAKEN_DIFFERENTLY) <= fields & properties


TAKEN_DIFFERENTLY = {
    # Keys the package takes under the config's name but in another shape, and how.
    "rootCa": "stack config names the config keys holding the PEMs; the package takes the PEMs (as inputs)",
}


def test_root_ca_takes_pems_not_config_key_names(document: dict[str, Any]) -> None:
    root = document["types"]["meshlib:index:RootCaArgs"]
    assert sorted(root["required"]) == ["certificatePem", "privateKeyPem"]
    assert all(prop["type"] == "string" and "plain" not in prop for prop in root["properties"].values())
    # The SDK's schema has no `secret` flag on inputs either: the description says so, meshlib makes it one.
    assert "secret" in root["properties"]["privateKeyPem"]["description"]


def test_admin_cidrs_are_one_input_list(document: dict[str, Any]) -> None:
    admin = document["resources"][TOKEN]["inputProperties"]["adminCidrs"]
    assert admin["type"] == "array" and "plain" not in admin  # the whole list may be an output


def test_day_two_keys_reach_the_spec_with_the_users_own_names() -> None:
    args = mesh_args()
    args["istio"] = {
        "revisions": [{"name": "1-29-6", "version": "1.29.6"}, {"name": "1-30-3", "version": "1.30.3"}],
        "tags": {"default": "1-29-6", "my-canary": "1-30-3"},
        "gateway_revision": "1-29-6",
    }
    args["clusters"][0]["ingress_gateway"] = {"annotations": {"service.beta.kubernetes.io/aws-x": "y"}}
    args["failover"] = [
        {"name": "web", "clusters": ["east", "central"], "outlier_detection": {"consecutive_5xx_errors": 3}}
    ]
    args["verify"] = {"generation": 2, "client_image": "registry.example.com/curl@sha256:" + "0" * 64}
    raw = to_spec_input(args).raw
    spec = parse_spec(raw, "dev")
    assert spec.failover[0].outlier_detection.consecutive_5xx_errors == 3
    assert spec.verify.generation == 2 and spec.verify.client_image.startswith("registry.example.com/")
    assert raw["istio"]["gatewayRevision"] == "1-29-6"
    assert raw["istio"]["tags"] == {"default": "1-29-6", "my-canary": "1-30-3"}
    assert raw["clusters"][0]["ingressGateway"]["annotations"] == {"service.beta.kubernetes.io/aws-x": "y"}


# ---- adminCidrs from another resource or stack ------------------------------------------------------------

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"


@pytest.fixture
def quiet_failure() -> Iterator[None]:
    """A program that failed in an apply leaves a future per resource awaiting it, each holding the error the
    test already checked: mark them retrieved, or asyncio reports every one on the terminal at exit."""
    yield
    loop = asyncio.get_event_loop()
    loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
    for found in gc.get_objects():
        if isinstance(found, asyncio.Future) and found.done() and not found.cancelled():
            found.exception()


def admin_run(cidrs: Any = None, preview: bool = False) -> Run:
    """The mesh with `adminCidrs` from an Eip's address (or `cidrs(address)`), as another stack would give it."""

    def build() -> None:
        nat = aws.ec2.Eip("nat", domain="vpc")
        args = mesh_args()
        given = cidrs or (lambda ip: [f"{ip}/32", "198.51.100.0/24"])
        args["admin_cidrs"] = nat.public_ip.apply(given)
        MultiClusterMesh("m", args)  # type: ignore[arg-type]

    return run_program(build, preview=preview)


def test_admin_cidrs_from_another_resource_reach_every_api_server() -> None:
    run = admin_run()
    nat = run.mocks.named("nat")
    eks, gke = run.mocks.of_type(EKS)[0], run.mocks.of_type(GKE)[0]
    public = eks.plain["vpcConfig"]["publicAccessCidrs"]
    blocks = [block["cidrBlock"] for block in gke.plain["masterAuthorizedNetworksConfig"]["cidrBlocks"]]
    for access in (public, blocks):
        assert "198.51.100.0/24" in access and any(c.endswith("/32") and c.startswith("203.0.113.") for c in access)
    assert nat.urn in eks.property_dependencies["vpcConfig"]
    assert nat.urn in gke.property_dependencies["masterAuthorizedNetworksConfig"]
    assert not [r.name for r in run.resources if ADMIN_CIDR_PLACEHOLDER.split("/")[0] in str(r.inputs)]
    assert not [w for w in run.warnings if "adminCidrs" in w]


def test_admin_cidrs_not_known_in_preview_are_reported_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *_, **__: logged.append(message))
    run = admin_run(preview=True)
    assert run.mocks.of_type(EKS)  # no refusal of an "empty" list that is only not known yet
    assert any("not checked yet" in message and "adminCidrs" in message for message in logged)
    assert not [r.name for r in run.resources if ADMIN_CIDR_PLACEHOLDER.split("/")[0] in str(r.inputs)]


@pytest.mark.usefixtures("quiet_failure")
def test_a_bad_cidr_in_the_output_names_its_item_in_the_callers_terms() -> None:
    with pytest.raises(Exception, match=r"(?<!mesh:)adminCidrs\[1\]: .*not an IPv4 network") as caught:
        admin_run(lambda ip: [f"{ip}/32", "10.0.0.300/8"])
    assert "mesh:adminCidrs" not in str(caught.value)


@pytest.mark.usefixtures("quiet_failure")
def test_an_empty_output_is_refused_as_the_spec_refuses_an_empty_list() -> None:
    with pytest.raises(Exception, match=r"adminCidrs: empty, so the API servers of east, central") as caught:
        admin_run(lambda ip: [])
    spec_args = to_spec_input({**mesh_args(), "admin_cidrs": []}).raw
    with pytest.raises(ConfigError) as spec_refusal:
        checked_admin_cidrs(parse_spec({**spec_args, "adminCidrs": ["203.0.113.7/32"]}, "test"), [])
    assert spec_refusal.value.problems[0].message in str(caught.value)


def test_admin_cidrs_covering_the_internet_warn_once_known() -> None:
    run = admin_run(lambda ip: ["0.0.0.0/1", "128.0.0.0/1"])
    assert [w for w in run.warnings if "cover the whole internet" in w]


def test_plain_admin_cidrs_are_checked_at_once_in_the_python_api() -> None:
    spec = parse_spec(to_spec_input(mesh_args()).raw, "test")
    assert checked_admin_cidrs(spec, ["203.0.113.0/24"]) == (["203.0.113.0/24"], [])
    with pytest.raises(ConfigError, match=r"mesh:adminCidrs\[0\]"):
        checked_admin_cidrs(spec, ["not-a-cidr"])
    assert checked_admin_cidrs(spec.model_copy(update={"pulumi_inside_networks": True}), []) == ([], [])


# ---- the root CA from another resource ---------------------------------------------------------------------


def test_a_root_ca_from_other_resources_issues_the_clusters_cas_and_stays_secret() -> None:
    def build() -> None:
        key = tls.PrivateKey("my-root-key", algorithm="RSA", rsa_bits=4096)
        cert = tls.SelfSignedCert(
            "my-root-cert",
            private_key_pem=key.private_key_pem,
            subject={"organization": "Acme", "common_name": "Acme root"},
            validity_period_hours=87600,
            is_ca_certificate=True,
            allowed_uses=["cert_signing"],
        )
        args = mesh_args()
        args["root_ca"] = {"certificate_pem": cert.cert_pem, "private_key_pem": key.private_key_pem}
        MultiClusterMesh("m", args)  # type: ignore[arg-type]

    run = run_program(build)
    key, cert = run.mocks.named("my-root-key"), run.mocks.named("my-root-cert")
    assert not [r.name for r in run.resources if r.name.startswith("m-trust-root")], "a root was generated"
    issued = run.mocks.of_type("tls:index/locallySignedCert:LocallySignedCert")
    assert sorted(r.name for r in issued) == ["m-trust-central-cert", "m-trust-east-cert"]
    for resource in issued:
        assert resource.is_secret("caPrivateKeyPem")
        assert resource.plain["caPrivateKeyPem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        assert "my-root-key" in resource.plain["caPrivateKeyPem"]
        assert "my-root-cert" in resource.plain["caCertPem"]
        assert {key.urn, cert.urn} <= set(resource.dependencies)
    secrets = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret" and r.name.endswith("cacerts")]
    assert secrets and all(r.is_secret("stringData") for r in secrets)


def test_root_ca_keys_are_required_and_checked_in_the_callers_terms() -> None:
    with pytest.raises(ConfigError, match=r"rootCa\.privateKeyPem: required"):
        to_spec_input({**mesh_args(), "root_ca": {"certificate_pem": "pem"}})
    converted = to_spec_input({**mesh_args(), "root_ca": {"certificate_pem": "c", "private_key_pem": "k"}})
    assert "rootCa" not in converted.raw and converted.root_ca is not None
