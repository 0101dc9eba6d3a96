"""The plugin package: the schema the analyzer infers, and the component on the mock engine."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from meshlib.provider.mesh import MultiClusterMesh, to_spec_input
from meshlib.provider.schema import schema, schema_text
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
    "rootCa": "names config keys of the stack: other languages pass PEMs, which the package does not take yet",
    "clusterCas": "names config keys of the stack, as rootCa",
    "networks": "the VPC blocks of networks meshlib creates: use the Python API or stack config",
    "readerTokenGeneration": "a rotation counter of stack config",
    "failover": "not in the package yet: use the Python API or stack config",
    "verify": "not in the package yet: the checks run with their defaults",
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


def test_day_two_keys_reach_the_spec_with_the_users_own_names() -> None:
    args = mesh_args(vpc_id="vpc-1")
    args["istio"] = {
        "revisions": [{"name": "1-29-6", "version": "1.29.6"}, {"name": "1-30-3", "version": "1.30.3"}],
        "tags": {"default": "1-29-6", "my-canary": "1-30-3"},
        "gateway_revision": "1-29-6",
    }
    args["clusters"][0]["ingress_gateway"] = {"annotations": {"service.beta.kubernetes.io/aws-x": "y"}}
    raw = to_spec_input(args).raw
    assert raw["istio"]["gatewayRevision"] == "1-29-6"
    assert raw["istio"]["tags"] == {"default": "1-29-6", "my-canary": "1-30-3"}
    assert raw["clusters"][0]["ingressGateway"]["annotations"] == {"service.beta.kubernetes.io/aws-x": "y"}
