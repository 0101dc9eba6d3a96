"""examples/fleet: the committed fleet stack files are what `fleet plan --write-config` writes now; it plans offline.

The example is copied to a temporary directory (its project files and the base stack file only, with the
repository's `__main__.py` where the example's program finds it), `python -m meshlib fleet plan --stack fleet
--write-config` runs there, and what it writes is compared with the files committed in examples/fleet/stacks/.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest
import yaml

from meshlib.__main__ import main
from meshlib.fleet.config import FLEET_BASE_KEY, FLEET_STACK_KEY, read_base_config
from meshlib.fleet.layout import plan_fleet
from meshlib.spec.loader import load_spec_file
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "fleet"
STACKS = EXAMPLE / "stacks"
BASE_FILE = STACKS / "Pulumi.fleet.yaml"
REGENERATE = "regenerate: cd examples/fleet && python -m meshlib fleet plan --stack fleet --write-config"


@dataclass(frozen=True)
class Planned:
    """What `fleet plan --write-config` printed and wrote in a copy of the example."""

    output: str
    written: dict[str, str]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Planned:
    root = tmp_path_factory.mktemp("repo")
    project = root / "examples" / "fleet"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy(EXAMPLE / name, project / name)
    shutil.copy(BASE_FILE, project / "stacks" / BASE_FILE.name)
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")  # the ready program, where the example runs it from
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        capture = _Capture()
        patch.setattr("sys.stdout", capture)
        assert main(["fleet", "plan", "--stack", "fleet", "--write-config"]) == 0
    written = {p.name: p.read_text() for p in (project / "stacks").glob("Pulumi.fleet.*.yaml")}
    return Planned(capture.text, written)


class _Capture:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        return "".join(self.parts)


def committed() -> dict[str, str]:
    return {p.name: p.read_text() for p in STACKS.glob("Pulumi.fleet.*.yaml")}


def test_the_committed_fleet_stack_files_are_exactly_what_fleet_plan_writes(planned: Planned) -> None:
    assert sorted(committed()) == sorted(planned.written), REGENERATE  # none missing, none left over
    stale = [name for name, text in committed().items() if text != planned.written[name]]
    assert stale == [], REGENERATE


def test_there_is_one_file_per_fleet_stack_with_the_base_config_and_its_fleet_keys() -> None:
    layout = plan_fleet(load_spec_file(BASE_FILE, "fleet"))
    base, _ = read_base_config(BASE_FILE)
    assert sorted(committed()) == sorted(f"Pulumi.fleet.{stack.name}.yaml" for stack in layout.stacks)
    for stack in layout.stacks:
        config = yaml.safe_load((STACKS / f"Pulumi.fleet.{stack.name}.yaml").read_text())["config"]
        assert config == {**base, FLEET_STACK_KEY: stack.name, FLEET_BASE_KEY: "fleet"}


def test_the_example_is_a_python_project_with_its_stacks_in_stacks() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["stackConfigDir"] == "stacks"
    assert (EXAMPLE / "requirements.txt").read_text().strip().endswith("-e ../..")


def test_the_example_fleet_plans_offline_every_stack_in_five_layers(planned: Planned) -> None:
    layout = plan_fleet(load_spec_file(BASE_FILE, "fleet"))
    assert len(layout.layers) == 5  # multi-primary: network, cluster, istio, wiring, verify
    lines = planned.output.splitlines()
    assert lines[0] == f"Fleet of stack fleet: {len(layout.stacks)} stacks in 5 layers"
    per_stack = {
        line.strip().split(": ")[0]: int(line.strip().split(": ")[1])
        for line in lines[
            lines.index("Resources per stack (planned offline, every stack with the outputs of those it reads)") + 1 :
        ]
        if line.startswith("  ")
    }
    assert sorted(per_stack) == sorted(stack.name for stack in layout.stacks)
    assert all(count > 0 for count in per_stack.values()), per_stack
    assert lines[-1].startswith("Largest stack: ")


def test_the_readme_shows_the_layers_fleet_plan_prints(planned: Planned) -> None:
    readme = (EXAMPLE / "README.md").read_text()
    layers = [line for line in planned.output.splitlines() if line.startswith(("Fleet of stack", "layer "))]
    assert "\n".join(layers) in readme, "update the layers in examples/fleet/README.md"
