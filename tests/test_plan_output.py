"""What the offline plan shows a reviewer: reads as reads, whole numbers, YAML grouped by cluster, help."""

from __future__ import annotations

import re

import pytest

from meshlib.__main__ import _parser, main
from meshlib.offline.program import plan_stack, resolve_stack
from meshlib.offline.render import resource_tree
from tests.conftest import ROOT, fixture_stack


def test_reads_show_as_reads_not_creates() -> None:
    _, run = plan_stack(resolve_stack(str(fixture_stack("multi-primary")), ROOT))
    tree = resource_tree(run).splitlines()
    reads = [line for line in tree if "-reader-token-read" in line]
    assert reads and all(line.lstrip().startswith("> ") and line.endswith("(read)") for line in reads)
    assert not [line for line in tree if line.lstrip().startswith("+ ") and line.endswith("-reader-token-read")]


def test_yaml_groups_istio_resources_by_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", str(fixture_stack("multi-primary")), "--format", "yaml"]) == 0
    out = capsys.readouterr().out
    groups = re.findall(r"^# Istio resources of cluster (\S+):", out, flags=re.MULTILINE)
    assert groups == ["east", "central"]
    assert not re.search(r"(number|port|targetPort|replicaCount|minAvailable|maxSkew): \d+\.0$", out, re.MULTILINE)
    assert "number: 9080\n" in out  # ports and counts print as whole numbers


def test_every_command_line_option_has_help() -> None:
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        for action in command._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"
