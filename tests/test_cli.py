"""`python -m meshlib`: offline plans of every stack in every format, diffs, the config reference."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlib.__main__ import main
from meshlib.plan import plan_mesh
from meshlib.spec import load_spec_file
from meshlib.spec.reference import config_reference
from tests.conftest import ROOT, STACKS, fixture_stack, stack_name
from tests.mermaid import read_flowchart
from tests.validators import validate_istio

FORMATS = ["text", "json", "yaml", "mermaid"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every stack planned once with `--out`, which writes every format."""
    out = tmp_path_factory.mktemp("plans")
    directories = {}
    for stack in STACKS:
        name = stack_name(stack)
        directories[name] = out / name
        assert main(["plan", "--stack", str(stack), "--out", str(out / name)]) == 0
    return directories


def test_each_format_is_printed(capsys: pytest.CaptureFixture[str], planned: dict[str, Path]) -> None:
    for fmt in FORMATS:
        assert main(["plan", "--stack", str(STACKS[0]), "--format", fmt]) == 0
        printed = capsys.readouterr()
        assert printed.out == (planned[stack_name(STACKS[0])] / _file(fmt)).read_text()
        assert "resources registered" in printed.err  # progress on stderr


def _file(fmt: str) -> str:
    return {"text": "plan.txt", "json": "plan.json", "yaml": "plan.yaml", "mermaid": "mesh.mmd"}[fmt]


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_text_names_every_cluster_and_summarises(stack: Path, planned: dict[str, Path]) -> None:
    text = (planned[stack_name(stack)] / "plan.txt").read_text()
    spec = load_spec_file(stack)
    for cluster in spec.clusters:
        assert f"{spec.mesh_id}-{cluster.name}" in text
        assert f"Istio resources in {cluster.name}" in text or cluster.role == "remote"
    assert re.search(r"^Summary: \d+ clusters \(.*\), \d+ resources \(.*\), \d+ with secret inputs$", text, re.M)
    assert "+ meshlib:index:MultiClusterMesh" in text


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_json_round_trips_into_diff(stack: Path, planned: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plan = planned[stack_name(stack)] / "plan.json"
    document = json.loads(plan.read_text())
    assert document["stack"] == stack_name(stack) and document["resources"]
    assert main(["diff", str(plan), str(plan)]) == 0
    assert "no changes" in capsys.readouterr().out


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_yaml_manifests_pass_istios_schema(stack: Path, planned: dict[str, Path]) -> None:
    documents = list(yaml.safe_load_all((planned[stack_name(stack)] / "plan.yaml").read_text()))
    manifests = [d for d in documents if "apiVersion" in d]
    releases = [d for d in documents if "chart" in d]
    assert manifests and {r["chart"] for r in releases} >= {"base", "istiod"}
    for manifest in manifests:
        validate_istio(manifest)


CLOUD_LABELS = {"aws": "AWS (EKS)", "gcp": "Google Cloud (GKE)", "existing": "Adopted clusters"}
DRAWN_EDGES = {  # the traffic of each shipped stack, exactly
    "existing": [
        ("c_kind_a", "-->", "15443", "gw_kind_b"),
        ("gw_kind_b", "-->", "5000", "svc_kind_b_sample_helloworld"),
        ("c_kind_a", "-.->", "watches", "c_kind_b"),
        ("c_kind_b", "-.->", "watches", "c_kind_a"),
    ],
    "multi-primary": [
        ("c_east", "-->", "15443", "gw_central"),
        ("gw_central", "-->", "9080", "svc_central_default_reviews"),
        ("c_east", "-.->", "watches", "c_central"),
        ("c_central", "-.->", "watches", "c_east"),
    ],
    "primary-remote": [
        ("c_spoke", "==>", "15012/15017", "gw_hub"),
        ("gw_hub", "==>", "istiod", "c_hub"),
        ("c_hub", "-.->", "watches", "c_spoke"),
    ],
}


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_mermaid_draws_the_traffic_in_cloud_and_network_groups(stack: Path, planned: dict[str, Path]) -> None:
    chart = read_flowchart((planned[stack_name(stack)] / "mesh.mmd").read_text())
    spec = load_spec_file(stack)
    plan = plan_mesh(spec)

    def node(kind: str, *names: str) -> str:
        return "_".join((kind, *names)).replace("-", "_")

    assert chart.edges == DRAWN_EDGES[stack_name(stack)]
    clouds = {g: label for g, label in chart.groups.items() if g not in chart.parent}
    assert sorted(clouds.values()) == sorted({CLOUD_LABELS[c.cloud] for c in plan.clusters})
    networks = {(chart.groups[chart.parent[g]], label) for g, label in chart.groups.items() if g in chart.parent}
    assert len(networks) == len(chart.groups) - len(clouds)  # one group per network of a cloud
    assert networks == {(CLOUD_LABELS[c.cloud], f"network {c.network}") for c in plan.clusters}
    assert {n for n in chart.nodes if n.startswith("c_")} == {node("c", c.name) for c in plan.clusters}
    for cluster in plan.clusters:
        group = chart.parent[node("c", cluster.name)]
        assert chart.groups[group] == f"network {cluster.network}"
        assert chart.groups[chart.parent[group]] == CLOUD_LABELS[cluster.cloud]
        assert chart.nodes[node("c", cluster.name)].startswith(f"{cluster.name}<br/>")
        assert chart.classes[node("c", cluster.name)] == cluster.role
        if cluster.east_west_gateway:
            assert chart.parent[node("gw", cluster.name)] == group  # in its cluster's network group
    assert chart.edges_labelled("15443") == {
        (node("c", consumer), node("gw", service.cluster))
        for service in spec.services
        for consumer in service.consumers
    }
    for service in spec.services:
        target = node("svc", service.cluster, service.namespace, service.name)
        assert chart.parent[target] == chart.parent[node("c", service.cluster)]
        ports = ", ".join(str(port.number) for port in service.ports)
        assert (node("gw", service.cluster), "-->", ports, target) in chart.edges
    assert chart.edges_labelled("15012/15017") == {
        (node("c", c.name), node("gw", c.config_cluster)) for c in plan.clusters if not c.is_primary
    }
    watches = {(node("c", c.name), node("c", watched)) for c in plan.clusters for watched in c.watches}
    assert chart.edges_labelled("watches") == watches


def _changed_stack(tmp_path: Path, change: Any) -> Path:
    """A copy of the project whose multi-primary stack went through `change(config)`."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copy(ROOT / "__main__.py", project)
    (project / "stacks").mkdir()
    config_file = project / "stacks" / "Pulumi.multi-primary.yaml"
    document = yaml.safe_load(fixture_stack("multi-primary").read_text())
    change(document["config"])
    config_file.write_text(yaml.safe_dump(document))
    return config_file


def _plan_json(stack: Path, out: Path) -> Path:
    assert main(["plan", "--stack", str(stack), "--out", str(out)]) == 0
    return out / "plan.json"


def test_diff_reports_exactly_a_node_count_change(tmp_path: Path, planned: dict[str, Path], capsys: Any) -> None:
    changed = _changed_stack(tmp_path, lambda config: config["mesh:clusters"][0]["nodes"].update(max=7))
    new = _plan_json(changed, tmp_path / "new")
    capsys.readouterr()
    assert main(["diff", str(planned["multi-primary"] / "plan.json"), str(new)]) == 1
    out = capsys.readouterr().out
    assert "0 to create, 1 to update, 0 to replace, 0 to delete" in out
    assert out.endswith("~ aws:eks/nodeGroup:NodeGroup mesh1-east-nodes\n    ~ scalingConfig.maxSize: 5 => 7\n")


def test_diff_reports_exactly_a_new_exported_service(tmp_path: Path, planned: dict[str, Path], capsys: Any) -> None:
    ratings = {
        "name": "ratings",
        "cluster": "east",
        "consumers": ["central"],
        "ports": [{"number": 9080, "name": "http"}],
    }
    changed = _changed_stack(tmp_path, lambda config: config["mesh:services"].append(ratings))
    new = _plan_json(changed, tmp_path / "new")
    capsys.readouterr()
    assert main(["diff", str(planned["multi-primary"] / "plan.json"), str(new)]) == 1
    out = capsys.readouterr().out
    # central imported nothing before: its ServiceFederation is new too; so are the check that it reaches
    # ratings, and the namespace and account of its first call check
    assert "6 to create, 0 to update, 0 to replace, 0 to delete" in out
    assert "+ kubernetes:batch/v1:Job mesh1-central-verify-call-ratings-default-east-9080\n" in out
    assert "+ meshlib:index:ServiceFederation mesh1-central-federation\n" in out
    assert "+ kubernetes:networking.istio.io/v1:ServiceEntry mesh1-central-federation-serviceentry-ratings" in out
    assert "+ kubernetes:networking.istio.io/v1:DestinationRule mesh1-central-federation-destinationrule-ratings" in out


def test_bad_config_exits_non_zero_with_the_message_only(tmp_path: Path, capsys: Any) -> None:
    changed = _changed_stack(tmp_path, lambda config: config["mesh:clusters"][0].update(cloud="azure"))
    assert main(["plan", "--stack", str(changed)]) == 2
    err = capsys.readouterr().err
    assert "mesh:clusters[0].cloud: Input should be 'aws', 'gcp' or 'existing'" in err
    assert "Traceback" not in err


def test_unknown_stack_is_reported(capsys: Any) -> None:
    assert main(["plan", "--stack", "nope"]) == 2
    assert "no stack 'nope'" in capsys.readouterr().err


def test_diff_against_a_git_revision(tmp_path: Path) -> None:
    """`diff --base REF` plans the stack with the code and config of REF (here: a commit of a copy)."""
    project = tmp_path / "repo"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.egg-info"))
    shutil.copy(fixture_stack("multi-primary"), project / "stacks")  # fixed input, not the shipped stack
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    config = project / "stacks" / "Pulumi.multi-primary.yaml"
    config.write_text(config.read_text().replace("max: 5", "max: 6", 1))
    result = subprocess.run(
        [sys.executable, "-m", "meshlib", "diff", "--base", "HEAD", "--stack", "multi-primary", "--markdown"],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "### stack multi-primary: HEAD -> working tree" in result.stdout
    assert "~ aws:eks/nodeGroup:NodeGroup mesh1-east-nodes" in result.stdout


def test_config_reference_is_generated_and_current() -> None:
    reference = (ROOT / "docs" / "config.md").read_text()
    assert reference == config_reference(), "regenerate it: python -m meshlib reference --out docs/config.md"
