"""Each example under `examples/` runs on the mock engine, builds a working mesh, and plans offline."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
import yaml

from meshlib.__main__ import main
from tests.conftest import ROOT
from tests.mocks import run_program

EXAMPLES = ROOT / "examples"
# The Python programs importing meshlib; the package examples (YAML, TypeScript, StackReference) are
# checked by tests/test_language_examples.py.
FOLDERS = sorted(
    path.parent
    for path in EXAMPLES.glob("*/Pulumi.yaml")
    if "python" in str(yaml.safe_load(path.read_text())["runtime"]) and path.parent.name != "fleet"
)  # examples/fleet (stacks in stacks/, run as a fleet): tests/test_fleet_example.py


def stack_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml")


def run_example(name: str):  # type: ignore[no-untyped-def]
    config = yaml.safe_load((EXAMPLES / name / "Pulumi.dev.yaml").read_text())["config"]
    return run_program(lambda: runpy.run_path(str(EXAMPLES / name / "__main__.py"), run_name="__main__"), config=config)


def test_import_the_mesh_deploys_the_service_it_exports_on_the_meshs_clusters() -> None:
    run = run_example("import-the-mesh")
    namespaces = [r for r in run.resources if r.type == "kubernetes:core/v1:Namespace" and r.name.endswith("-shop")]
    assert {(r.name, r.provider_name) for r in namespaces} == {
        ("east-shop", "mesh1-east-k8s"),
        ("central-shop", "mesh1-central-k8s"),
    }
    for namespace in namespaces:
        cluster = namespace.name.removesuffix("-shop")
        assert any(d.endswith(f"::mesh1-{cluster}-istio-istiod") for d in namespace.dependencies)
    assert run.outputs["mesh"]["exportedServices"] == ["reviews.shop.svc.central.local -> east"]
    assert run.outputs["reviewsFromEast"] == "http://reviews.shop.svc.central.local:9080"
    # The workload behind that name: a Deployment and a Service in central's `shop`, through central's provider.
    workloads = [r for r in run.resources if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service")]
    assert sorted(
        (r.type, r.name, r.provider_name) for r in workloads if r.plain["metadata"]["namespace"] == "shop"
    ) == [
        ("kubernetes:apps/v1:Deployment", "central-reviews", "mesh1-central-k8s"),
        ("kubernetes:core/v1:Service", "central-reviews", "mesh1-central-k8s"),
    ]
    deployment = next(r for r in workloads if r.type == "kubernetes:apps/v1:Deployment")
    service = next(r for r in workloads if r.type == "kubernetes:core/v1:Service" and r.name == "central-reviews")
    assert deployment.plain["metadata"]["name"] == service.plain["metadata"]["name"] == "reviews"
    pod = deployment.plain["spec"]["template"]
    assert pod["metadata"]["labels"] == service.plain["spec"]["selector"] == {"app": "reviews"}
    assert pod["spec"]["containers"][0]["ports"] == [{"name": "http", "containerPort": 9080}]
    assert service.plain["spec"]["ports"] == [{"name": "http", "port": 9080, "targetPort": 9080}]
    assert any(d.endswith("::central-shop") for d in deployment.dependencies)


def test_bring_your_own_clusters() -> None:
    run = run_example("bring-your-own-clusters")
    # Exactly the caller's two clusters, parented to the program, none built by the mesh.
    components = [r for r in run.resources if r.type in ("meshlib:index:EksCluster", "meshlib:index:GkeCluster")]
    assert sorted((r.name, r.parent_name) for r in components) == [
        ("byo-catalog", "istio-multicluster-test"),
        ("byo-payments", "istio-multicluster-test"),
    ]
    assert (
        len([r for r in run.resources if r.type in ("aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster")]) == 2
    )
    node_group = next(r for r in run.resources if r.type == "aws:eks/nodeGroup:NodeGroup")
    assert node_group.plain["instanceTypes"] == ["m6i.xlarge"]
    eks = next(r for r in run.resources if r.type == "aws:eks/cluster:Cluster")
    access = eks.plain["vpcConfig"]["publicAccessCidrs"]
    assert access[0] == "198.51.100.0/24" and all(c.endswith("/32") for c in access[1:]) and len(access) > 1
    entries = [r for r in run.resources if r.type == "kubernetes:networking.istio.io/v1:ServiceEntry"]
    assert [(e.provider_name, e.plain["spec"]["hosts"]) for e in entries] == [
        ("byo-payments-k8s", ["catalog.default.svc.catalog.local"])
    ]


def test_examples_are_pulumi_projects_with_a_stack() -> None:
    assert [folder.name for folder in FOLDERS] == ["bring-your-own-clusters", "import-the-mesh"]
    for folder in FOLDERS:
        project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
        assert project["runtime"]["name"] == "python"
        assert (folder / "requirements.txt").read_text().strip().endswith("-e ../..")
        assert Path(folder / "__main__.py").is_file()
        assert stack_files(folder), f"{folder.name} has no Pulumi.<stack>.yaml to plan"


@pytest.mark.parametrize(
    "stack", [s for folder in FOLDERS for s in stack_files(folder)], ids=lambda s: f"{s.parent.name}/{s.name}"
)
def test_every_example_plans_offline(
    stack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # `python -m meshlib plan --stack examples/<example>/Pulumi.<stack>.yaml`
    assert main(["plan", "--stack", str(stack.relative_to(ROOT)), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stack"] == stack.name.removeprefix("Pulumi.").removesuffix(".yaml")
    assert any(r["type"] == "meshlib:index:MultiClusterMesh" for r in plan["resources"])
