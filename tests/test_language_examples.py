"""The examples that use meshlib as a Pulumi package (YAML, TypeScript) and from another stack's outputs.

No Pulumi CLI or node here: the YAML program's inputs are checked against `examples/schema.json`
(names, nesting, types, required keys, which values may be outputs), the TypeScript program's object
literal keys likewise (names and nesting), and the StackReference pair runs on the mock engine: the
networking program first, its outputs then served to the mesh program's `pulumi.StackReference`.
"""

from __future__ import annotations

import json
import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs

from meshlib.offline import engine
from tests import fakes
from tests.conftest import ROOT
from tests.mocks import MeshMocks, Run

EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((EXAMPLES / "schema.json").read_text())
TOKEN = "meshlib:index:MultiClusterMesh"
MESH = SCHEMA["resources"][TOKEN]
STACK_REFERENCE = "pulumi:pulumi:StackReference"


def test_every_language_example_is_there() -> None:
    projects = sorted(str(p.parent.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("Pulumi.yaml"))
    assert {"yaml-mesh", "ts-mesh", "stack-reference/network", "stack-reference/mesh"} <= set(projects)
    readme = (EXAMPLES / "README.md").read_text()
    for folder in ("yaml-mesh", "ts-mesh", "stack-reference", "esc"):
        assert f"]({folder}/)" in readme, f"examples/README.md does not list {folder}/"


# ---- checking a value against the schema -------------------------------------------------------------

_EXPRESSION = re.compile(r"^\$\{([^}]*)\}$")


def _type(ref: str) -> dict[str, Any]:
    assert ref.startswith("#/types/"), ref
    return SCHEMA["types"][ref.removeprefix("#/types/")]  # type: ignore[no-any-return]


def check_object(
    value: Any, properties: dict[str, Any], required: list[str], where: str, outputs_from: set[str]
) -> list[str]:
    """Problems of `value` as an object with `properties` (schema), `required` keys."""
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {value!r}"]
    problems = [f"{where}.{key}: required by the schema" for key in required if key not in value]
    for key, item in value.items():
        if key not in properties:
            problems.append(f"{where}.{key}: not an input of the schema")
        else:
            problems += check_value(item, properties[key], f"{where}.{key}", outputs_from)
    return problems


def check_value(value: Any, prop: dict[str, Any], where: str, outputs_from: set[str]) -> list[str]:
    """Problems of one YAML value against its schema property; `outputs_from` are the program's resources."""
    expression = _EXPRESSION.match(value) if isinstance(value, str) else None
    if expression:
        source = re.split(r"[.\[]", expression.group(1), maxsplit=1)[0]
        if source in outputs_from and prop.get("plain"):
            return [f"{where}: plain in the schema (known at plan time), given the output {value}"]
        return []  # an output into an input, or a config value: its type is the engine's to check
    if "$ref" in prop:
        target = _type(prop["$ref"])
        return check_object(value, target["properties"], target.get("required", []), where, outputs_from)
    kind = prop.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [
            p for i, item in enumerate(value) for p in check_value(item, prop["items"], f"{where}[{i}]", outputs_from)
        ]
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
        "object": (dict,),
    }
    if kind in expected and (
        not isinstance(value, expected[kind]) or (kind in ("integer", "number") and isinstance(value, bool))
    ):
        return [f"{where}: expected {kind}, got {value!r}"]
    return []


def yaml_program() -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLES / "yaml-mesh" / "Pulumi.yaml").read_text())
    assert isinstance(document, dict)
    return document


def yaml_problems(program: dict[str, Any]) -> list[str]:
    resources = program["resources"]
    meshes = {name: r for name, r in resources.items() if r["type"] == TOKEN}
    problems = [] if meshes else ["no resource of type " + TOKEN]
    for name, resource in meshes.items():
        problems += check_object(
            resource.get("properties", {}), MESH["inputProperties"], MESH["requiredInputs"], name, set(resources)
        )
    for key, value in program.get("outputs", {}).items():
        for source, attribute in re.findall(r"\$\{(\w+)\.(\w+)", str(value)):
            if source in meshes and attribute not in MESH["properties"]:
                problems.append(f"outputs.{key}: {source} has no output {attribute}")
    return problems


def test_the_yaml_program_uses_the_package() -> None:
    program = yaml_program()
    assert program["runtime"] == "yaml"
    assert program["packages"] == {"meshlib": "../.."}
    assert [r["type"] for r in program["resources"].values()].count(TOKEN) == 1
    assert set(program["outputs"]) == set(MESH["properties"])


def test_every_input_of_the_yaml_program_is_in_the_schema_with_its_type() -> None:
    assert yaml_problems(yaml_program()) == []


def test_the_yaml_program_passes_another_stacks_outputs_only_where_the_schema_takes_inputs() -> None:
    east = yaml_program()["resources"]["mesh"]["properties"]["clusters"][0]
    assert east["vpcId"] == '${network.outputs["vpcId"]}'
    assert all(item.startswith("${network.outputs[") for item in east["publicSubnetIds"] + east["privateSubnetIds"])


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda p: p.update(meshID="mesh1"), "mesh.meshID: not an input of the schema"),
        (lambda p: p.pop("mode"), "mesh.mode: required by the schema"),
        (lambda p: p["clusters"][0]["nodes"].update(min="2"), "mesh.clusters[0].nodes.min: expected integer"),
        (lambda p: p["clusters"][1].update(region="${network.outputs}"), "mesh.clusters[1].region: plain"),
        (lambda p: p["services"][0]["ports"][0].pop("number"), "mesh.services[0].ports[0].number: required"),
        (lambda p: p.update(dnsCapture="yes"), "mesh.dnsCapture: expected boolean"),
    ],
    ids=["unknown key", "missing key", "wrong type", "output into plain", "nested required", "boolean"],
)
def test_the_yaml_check_finds_mistakes(change: Any, problem: str) -> None:
    program = yaml_program()
    change(program["resources"]["mesh"]["properties"])
    assert any(p.startswith(problem) for p in yaml_problems(program)), yaml_problems(program)


# ---- the TypeScript program ---------------------------------------------------------------------------

_TOKENS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`|//[^\n]*|[{}\[\]()]|[A-Za-z_$][\w$]*\s*:(?!:)")


def ts_object_keys(source: str, start: str) -> list[tuple[str, str]]:
    """(path, key) of every key of the object literal that follows `start` in `source`."""
    body = source[source.index(start) + len(start) :]
    keys: list[tuple[str, str]] = []
    stack: list[str] = []  # the open brackets, each with the key it belongs to
    pending = ""
    for token in _TOKENS.findall(body):
        if token[0] in "\"'`/":
            continue
        if token in "{[(":
            stack.append(pending if token != "(" else "(")
            pending = ""
            if len(stack) == 1 and token != "{":
                raise AssertionError(f"no object literal after {start!r}")
        elif token in "}])":
            stack.pop()
            if not stack:
                return keys
        elif "(" not in stack:
            pending = token.rstrip(":").strip()
            keys.append((".".join(s for s in stack if s), pending))
    raise AssertionError(f"unbalanced object literal after {start!r}")


def ts_key_problems(keys: list[tuple[str, str]]) -> list[str]:
    problems = []
    for path, key in keys:
        properties, prop = MESH["inputProperties"], None
        for part in [p for p in path.split(".") if p]:
            prop = properties.get(part)
            if prop is None:
                break
            ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
            properties = _type(ref)["properties"] if ref else {}
        if key not in properties:
            problems.append(f"{path + '.' if path else ''}{key}: not an input of the schema")
    return problems


def ts_source() -> str:
    return (EXAMPLES / "ts-mesh" / "index.ts").read_text()


def test_the_typescript_program_uses_only_the_schemas_input_names() -> None:
    keys = ts_object_keys(ts_source(), 'new meshlib.MultiClusterMesh("mesh1", ')
    assert ("", "meshId") in keys and ("clusters", "vpcId") in keys and ("clusters.nodes", "instanceType") in keys
    assert ("services.ports", "number") in keys
    assert ts_key_problems(keys) == []
    assert {key for path, key in keys if not path} >= set(MESH["requiredInputs"])
    used_outputs = set(re.findall(r"\bmesh\.(\w+)", ts_source()))
    assert used_outputs and used_outputs <= set(MESH["properties"])


def test_the_typescript_check_finds_a_wrong_name() -> None:
    source = ts_source().replace("instanceType:", "instance_type:").replace("meshId:", "meshID:")
    problems = ts_key_problems(ts_object_keys(source, 'new meshlib.MultiClusterMesh("mesh1", '))
    assert problems == [
        "meshID: not an input of the schema",
        "clusters.nodes.instance_type: not an input of the schema",  # east's
        "clusters.nodes.instance_type: not an input of the schema",  # central's
    ]


def test_the_typescript_project_depends_on_the_generated_sdk() -> None:
    folder = EXAMPLES / "ts-mesh"
    package = json.loads((folder / "package.json").read_text())
    assert package["dependencies"]["@pulumi/meshlib"] == "file:sdks/meshlib"
    assert 'from "@pulumi/meshlib"' in ts_source() and "pulumi package add" in ts_source()
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "nodejs" and project["packages"] == {"meshlib": "../.."}
    assert json.loads((folder / "tsconfig.json").read_text())["files"] == ["index.ts"]


# ---- another stack's outputs, through pulumi.StackReference, on the mock engine -----------------------


@dataclass
class StackMocks(MeshMocks):
    """Mocks that answer `pulumi.StackReference(name)` with `stacks[name]` as the stack's outputs."""

    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        recorded = super().new_resource(args)
        if args.typ != STACK_REFERENCE:
            return recorded
        name = args.inputs["name"]
        return name, {"name": name, "outputs": self.stacks[name], "secretOutputNames": []}


def run_project(folder: Path, mocks: MeshMocks | None = None, preview: bool = False) -> Run:
    """Run the Python project in `folder` with its `Pulumi.dev.yaml` on the mock engine, as Pulumi would."""
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())["name"]
    config = yaml.safe_load((folder / "Pulumi.dev.yaml").read_text())["config"]
    mocks = mocks or MeshMocks()
    mocks.computed, mocks.invoke = fakes.outputs, fakes.call
    return engine.run_program(
        lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__"),
        config=config,
        mocks=mocks,
        project=project,
        stack="dev",
        preview=preview,
    )


NETWORK = EXAMPLES / "stack-reference" / "network"
MESH_PROGRAM = EXAMPLES / "stack-reference" / "mesh"


@pytest.fixture(scope="module")
def network() -> Run:
    return run_project(NETWORK)


def test_the_network_stack_exports_a_vpc_and_subnets_per_zone(network: Run) -> None:
    assert set(network.outputs) == {"vpcId", "publicSubnetIds", "privateSubnetIds", "natPublicIps"}
    assert network.outputs["vpcId"] == "network-id"
    assert network.outputs["publicSubnetIds"] == ["network-public-a-id", "network-public-b-id"]
    assert network.outputs["privateSubnetIds"] == ["network-private-a-id", "network-private-b-id"]
    subnets = network.mocks.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.plain["availabilityZone"] for s in subnets) == [
        "us-east-1a",
        "us-east-1a",
        "us-east-1b",
        "us-east-1b",
    ]
    assert len({s.plain["cidrBlock"] for s in subnets}) == 4
    public = [s for s in subnets if "public" in s.name]
    assert all(s.plain["tags"] == {"kubernetes.io/role/elb": "1"} for s in public)


def mesh_run(network: Run, preview: bool = False) -> Run:
    mocks = StackMocks(stacks={"acme/network/dev": network.outputs})
    return run_project(MESH_PROGRAM, mocks, preview=preview)


def test_the_mesh_stack_puts_its_cluster_into_the_other_stacks_network(network: Run) -> None:
    run = mesh_run(network)
    reference = run.mocks.named("acme/network/dev")
    assert reference.type == STACK_REFERENCE and reference.read
    assert not run.mocks.of_type("aws:ec2/vpc:Vpc") and not run.mocks.of_type("aws:ec2/subnet:Subnet")
    cluster = next(r for r in run.resources if r.type == "aws:eks/cluster:Cluster")
    assert cluster.plain["vpcConfig"]["subnetIds"] == network.outputs["privateSubnetIds"]
    looked_up = [args for token, args in run.mocks.calls if token == "aws:ec2/getVpc:getVpc"]
    assert looked_up and all(args["id"] == network.outputs["vpcId"] for args in looked_up)
    assert not [r for r in run.resources if "-pending" in str(r.inputs)], "a placeholder reached a resource"
    assert set(run.outputs["clusterEndpoints"]) == {"east", "central"}
    assert "kubeconfigs" in run.secret_outputs


def test_the_mesh_stack_admits_the_other_stacks_nat_addresses_to_the_api_servers(network: Run) -> None:
    run = mesh_run(network)
    nat = [f"{ip}/32" for ip in network.outputs["natPublicIps"]]
    assert len(nat) == 2
    gke = next(r for r in run.resources if r.type == "gcp:container/cluster:Cluster")
    eks = next(r for r in run.resources if r.type == "aws:eks/cluster:Cluster")
    blocks = {block["cidrBlock"] for block in gke.plain["masterAuthorizedNetworksConfig"]["cidrBlocks"]}
    assert {"203.0.113.7/32", *nat} <= blocks  # this stack's own CIDR and the adopted VPC's NAT addresses
    assert {"203.0.113.7/32", *nat} <= set(eks.plain["vpcConfig"]["publicAccessCidrs"])


def test_the_mesh_stack_previews_with_the_other_stacks_outputs(network: Run) -> None:
    run = mesh_run(network, preview=True)
    assert any(r.type == "aws:eks/cluster:Cluster" for r in run.resources)
    # Only what adopting a VPC implies (its egress addresses are not the mesh's to know), as documented.
    assert run.warnings == [
        "the egress IPs of east are unknown: add them to mesh:adminCidrs, or their istiod cannot reach the API "
        "server of 'central'",
        "east-west gateway of 'central': ports 15443 (mesh traffic) stay open to every source; the addresses of "
        "the egress of east (adopted) are not known in advance",
    ]


def test_the_esc_environment_logs_in_to_both_clouds_with_oidc() -> None:
    values = yaml.safe_load((EXAMPLES / "esc" / "mesh-aws-gcp.yaml").read_text())["values"]
    aws = values["aws"]["login"]["fn::open::aws-login"]
    assert set(aws) == {"oidc"} and {"roleArn", "sessionName"} <= set(aws["oidc"])
    gcp = values["gcp"]["login"]["fn::open::gcp-login"]
    assert set(gcp) == {"project", "oidc"} and isinstance(gcp["project"], int)  # the project number
    assert set(gcp["oidc"]) == {"workloadPoolId", "providerId", "serviceAccount"}
    variables = values["environmentVariables"]
    assert variables["AWS_SESSION_TOKEN"] == "${aws.login.sessionToken}"
    assert variables["GOOGLE_OAUTH_ACCESS_TOKEN"] == "${gcp.login.accessToken}"
    assert values["pulumiConfig"]["aws:region"] == "${aws.region}"
    assert "static" not in json.dumps(values)  # no stored keys
