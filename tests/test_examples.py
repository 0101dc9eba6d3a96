"""Each example under `examples/` runs on the mock engine and builds a working mesh."""

from __future__ import annotations

import runpy
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.mocks import run_program

EXAMPLES = ROOT / "examples"


def run_example(name: str, config: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return run_program(lambda: runpy.run_path(str(EXAMPLES / name / "__main__.py"), run_name="__main__"), config=config)


def test_import_the_mesh_puts_an_app_on_the_meshs_clusters() -> None:
    config = yaml.safe_load((EXAMPLES / "import-the-mesh" / "Pulumi.dev.yaml").read_text())["config"]
    run = run_example("import-the-mesh", config)
    namespaces = [r for r in run.resources if r.type == "kubernetes:core/v1:Namespace" and r.name.endswith("-shop")]
    assert {(r.name, r.provider_name) for r in namespaces} == {
        ("east-shop", "mesh1-east-k8s"),
        ("central-shop", "mesh1-central-k8s"),
    }
    for namespace in namespaces:
        cluster = namespace.name.removesuffix("-shop")
        assert any(d.endswith(f"::mesh1-{cluster}-istio-istiod") for d in namespace.dependencies)
    assert run.outputs["mesh"]["exportedServices"] == ["reviews.default.svc.central.local -> east"]


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


def test_examples_are_pulumi_projects() -> None:
    for folder in (EXAMPLES / "import-the-mesh", EXAMPLES / "bring-your-own-clusters"):
        project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
        assert project["runtime"]["name"] == "python"
        assert (folder / "requirements.txt").read_text().strip().endswith("-e ../..")
        assert Path(folder / "__main__.py").is_file()
