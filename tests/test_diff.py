"""`python -m meshlib diff`: old -> new values, replacements with the input that forces them, chains, a header.

Each case plans a base stack and a changed copy offline and compares the plans exactly as a
reviewer reads them in a pull request.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlib.__main__ import main
from meshlib.offline.diff import diff_plans, is_dangerous, render_diff
from meshlib.offline.program import OfflineStack, plan_stack
from meshlib.offline.render import plan_document
from tests.conftest import ROOT

BASE: dict[str, Any] = {
    "mesh:meshId": "mesh1",
    "mesh:mode": "multi-primary",
    "mesh:adminCidrs": ["203.0.113.7/32"],
    "mesh:istio": {"version": "1.30.3"},
    "mesh:clusters": [
        {"name": "east", "cloud": "aws", "region": "us-east-1", "network": "net-aws", "vpcCidr": "10.10.0.0/16"},
        {"name": "central", "cloud": "gcp", "project": "acme", "region": "us-central1", "network": "net-gcp"},
    ],
    "mesh:services": [
        {"name": "reviews", "cluster": "central", "consumers": ["east"], "ports": [{"number": 9080, "name": "http"}]}
    ],
}


def plan(config: dict[str, Any], tmp_path: Path, label: str) -> dict[str, Any]:
    path = tmp_path / label / "Pulumi.review.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({"config": config}))
    stack = OfflineStack(name="review", config_file=path, project=ROOT)
    spec, run = plan_stack(stack)
    return plan_document(stack.name, spec, run)


def compare(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> str:
    new = copy.deepcopy(BASE)
    change(new)
    return render_diff(diff_plans(plan(BASE, tmp_path, "old"), plan(new, tmp_path, "new")))


def test_a_patch_bump_shows_each_version_old_and_new(tmp_path: Path) -> None:
    text = compare(tmp_path, lambda c: c.update({"mesh:istio": {"version": "1.30.4"}}))
    releases = ("central-eastwest-release", "central-istio-base", "central-istio-istiod") + (
        "east-eastwest-release",
        "east-istio-base",
        "east-istio-istiod",
    )
    assert text == "0 to create, 6 to update, 0 to replace, 0 to delete\n" + "".join(
        f'~ kubernetes:helm.sh/v3:Release mesh1-{r}\n    ~ version: "1.30.3" => "1.30.4"\n' for r in releases
    )


EXPECTED = Path(__file__).parent / "expected"


def test_a_region_move_is_a_dangerous_replacement_named_by_its_input(tmp_path: Path) -> None:
    # Dangerous first: the address peers use, the cluster and its nodes, the NAT addresses; then what
    # follows through computed values. The provider is only updated: its clusterIdentifier stays.
    expected = (EXPECTED / "diff-region-move.txt").read_text()
    assert compare(tmp_path, lambda c: c["mesh:clusters"][1].update(region="europe-west1")) == expected


def test_a_vpc_cidr_change_names_the_cluster_and_nodes_whose_subnet_ids_are_computed(tmp_path: Path) -> None:
    expected = (EXPECTED / "diff-vpc-cidr-change.txt").read_text()
    assert compare(tmp_path, lambda c: c["mesh:clusters"][0].update(vpcCidr="10.11.0.0/16")) == expected


def test_a_cluster_added_creates_and_updates_only(tmp_path: Path) -> None:
    def add(config: dict[str, Any]) -> None:
        config["mesh:clusters"].append({"name": "north", "cloud": "gcp", "project": "acme", "region": "us-east4"})

    diff = diff_plans(plan(BASE, tmp_path, "old"), plan({**copy.deepcopy(BASE), **_with(add)}, tmp_path, "new"))
    assert diff.count("replace") == 0 and diff.count("delete") == 0
    assert diff.count("create") > 40
    assert not [c for c in diff.changes if is_dangerous(c)]


def test_a_cluster_removed_is_dangerous_and_comes_first(tmp_path: Path) -> None:
    three = copy.deepcopy(BASE)
    three["mesh:clusters"].append({"name": "north", "cloud": "gcp", "project": "acme", "region": "us-east4"})
    diff = diff_plans(plan(three, tmp_path, "old"), plan(BASE, tmp_path, "new"))
    assert diff.count("create") == 0 and diff.count("replace") == 0
    first = diff.changes[0]
    assert is_dangerous(first) and first.action == "delete" and "north" in first.name
    text = render_diff(diff, markdown=True)
    assert text.startswith("**0 to create, ")
    assert "**Dangerous:** `mesh1-north-" in text and "<details><summary>Every change</summary>" in text


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    change(config)
    return config


def test_json_for_other_tools_and_numbers_stay_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = (
        plan(BASE, tmp_path, "old"),
        plan(_with(lambda c: c["mesh:clusters"][0].update(nodes={"max": 7})), tmp_path, "new"),
    )
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}
    (change,) = document["changes"]
    assert change["name"] == "mesh1-east-nodes"
    assert change["inputs"] == [{"path": "scalingConfig.maxSize", "old": 5, "new": 7, "forcesReplacement": False}]
    ports = [r for r in new["resources"] if r["type"] == "kubernetes:networking.istio.io/v1:ServiceEntry"]
    assert ports[0]["inputs"]["spec"]["ports"][0]["number"] == 9080  # not 9080.0


def test_diff_base_with_a_bad_ref_prints_gits_message_without_planning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--base", "no-such-ref-xyz"]) == 2
    err = capsys.readouterr().err
    assert "meshlib: fatal: Needed a single revision" in err
    assert "planning stack" not in err


def test_a_plan_file_that_is_not_json_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.json").write_text("not json")
    assert main(["diff", str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 2
    assert "is not JSON" in capsys.readouterr().err
