"""Offline plans of stacks whose inputs live elsewhere: Pulumi ESC environments, an existing VPC."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlib.__main__ import main
from meshlib.offline.invokes import PLACEHOLDER_RANGE, offline_invoke
from meshlib.offline.program import UnresolvedEnvironmentError, environments, plan_stack, resolve_stack
from meshlib.spec import ConfigError
from tests.conftest import ROOT, fixture_stack

ESC = fixture_stack("esc")  # multi-primary, mesh:adminCidrs from ESC environment acme/mesh-prod
ADMIN = '["203.0.113.7/32"]'


def test_a_missing_value_names_the_environment_and_how_to_give_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", str(ESC)]) == 2
    err = capsys.readouterr().err
    assert "mesh:adminCidrs: empty" in err  # the problem itself, as always
    assert "imports Pulumi ESC environment 'acme/mesh-prod', which an offline plan cannot read" in err
    assert "mesh:adminCidrs is not set in Pulumi.esc.yaml and may come from it" in err
    assert f"--stack {ESC.relative_to(Path.cwd())} --config-file local.yaml" in err
    assert f"--set mesh:adminCidrs='{ADMIN}'" in err
    assert "Traceback" not in err


def test_without_environments_the_error_is_the_plain_one(tmp_path: Path) -> None:
    with pytest.raises(UnresolvedEnvironmentError):
        plan_stack(resolve_stack(str(ESC), ROOT))
    document = yaml.safe_load(ESC.read_text())
    del document["environment"]
    copy = tmp_path / "Pulumi.plain.yaml"
    copy.write_text(yaml.safe_dump(document))
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    with pytest.raises(ConfigError) as raised:
        plan_stack(resolve_stack(str(copy), tmp_path))
    assert not isinstance(raised.value, UnresolvedEnvironmentError)
    assert "mesh:adminCidrs: empty" in str(raised.value) and "ESC" not in str(raised.value)


def test_set_supplies_what_the_environment_would(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", str(ESC), "--format", "json", "--set", f"mesh:adminCidrs={ADMIN}"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["resources"]
    assert "acme/mesh-prod, which an offline plan cannot read: planned from Pulumi.esc.yaml, with " in printed.err
    assert "mesh:adminCidrs given locally" in printed.err


def test_a_local_config_file_gives_the_same_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = tmp_path / "local.yaml"
    local.write_text("mesh:adminCidrs:\n  - 203.0.113.7/32\n")
    assert main(["plan", "--stack", str(ESC), "--format", "json", "--config-file", str(local)]) == 0
    from_file = capsys.readouterr().out
    assert main(["plan", "--stack", str(ESC), "--format", "json", "--set", f"mesh:adminCidrs={ADMIN}"]) == 0
    assert capsys.readouterr().out == from_file
    # a stack file's shape works too; --set wins over the file
    local.write_text("config:\n  mesh:adminCidrs: [203.0.113.7/32]\n  mesh:meshId: other\n")
    args = ["plan", "--stack", str(ESC), "--format", "json", "--config-file", str(local), "--set", "mesh:meshId=mesh1"]
    assert main(args) == 0
    assert capsys.readouterr().out == from_file


@pytest.mark.parametrize(
    ("setting", "message"),
    [("adminCidrs", "expected mesh:KEY=VALUE"), ("mesh:clusters[0].region=x", "only top-level mesh:* keys")],
)
def test_bad_settings_are_reported(setting: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", str(ESC), "--set", setting]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"environment": ["a/b", "c"]}, ["a/b", "c"]),
        ({"environment": {"imports": ["a/b", {"c": {"merge": False}}]}}, ["a/b", "c"]),
        ({"environment": "solo"}, ["solo"]),
        ({"config": {}}, []),
    ],
)
def test_environments_of_a_stack_file(document: dict[str, Any], expected: list[str], tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(yaml.safe_dump(document))
    assert environments(path) == expected


# -- an existing VPC ------------------------------------------------------------------------------


def test_a_stack_in_an_existing_vpc_plans_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", str(fixture_stack("adopted-vpc")), "--format", "json"]) == 0
    printed = capsys.readouterr()
    plan = json.loads(printed.out)
    types = {r["type"] for r in plan["resources"]}
    assert "aws:eks/cluster:Cluster" in types
    assert not types & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet"}  # adopted, not created
    assert "adopted VPC vpc-0abc1234def567890 not looked up offline" in printed.err
    assert "subnet-0bbb2222private0001, subnet-0bbb2222private0002 not looked up offline" in printed.err


def test_the_placeholder_answers_are_stable_and_in_the_benchmark_range() -> None:
    vpc = offline_invoke("aws:ec2/getVpc:getVpc", {"id": "vpc-1", "region": "eu-west-1"})
    subnet = offline_invoke("aws:ec2/getSubnet:getSubnet", {"id": "subnet-1", "region": "eu-west-1"})
    assert vpc == offline_invoke("aws:ec2/getVpc:getVpc", {"id": "vpc-1", "region": "eu-west-1"})
    for block in (vpc["cidrBlock"], subnet["cidrBlock"]):
        assert ipaddress.IPv4Network(block).subnet_of(PLACEHOLDER_RANGE)
    zones = offline_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {"region": "eu-west-1"})
    assert zones["names"][:2] == ["eu-west-1a", "eu-west-1b"]
    with pytest.raises(Exception, match="no canned answer for provider function aws:ec2/getAmi:getAmi"):
        offline_invoke("aws:ec2/getAmi:getAmi", {})
