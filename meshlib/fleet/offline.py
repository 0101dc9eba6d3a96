"""`fleet plan` offline: every stack of the fleet run on the mock engine, in layer order.

Each stack's StackReferences answer with what the earlier stacks' runs exported, values known
before deployment as they are and the others unknown: what a `pulumi preview` of each stack
shows, as if the earlier stacks had been previewed rather than deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshlib.fleet.layout import FleetLayout, plan_fleet
from meshlib.fleet.units import FLEET_BASE_KEY, FLEET_STACK_KEY
from meshlib.offline.engine import Run
from meshlib.offline.program import OfflineStack, plan_stack
from meshlib.spec.loader import load_spec_file

__all__ = ["FleetPlan", "plan_fleet_offline"]

STACK_REFERENCE = "pulumi:pulumi:StackReference"


@dataclass(frozen=True)
class FleetPlan:
    """The layout, and each stack's run (by stack name)."""

    layout: FleetLayout
    runs: Mapping[str, Run]

    @property
    def largest(self) -> tuple[str, int]:
        """The stack with the most resources it manages (StackReferences and reads aside), and how many."""
        counts = {name: managed(run) for name, run in self.runs.items()}
        name = max(counts, key=lambda found: (counts[found], found))
        return name, counts[name]


def managed(run: Run) -> int:
    """How many resources a run manages: what `pulumi up` creates (not StackReferences, not reads)."""
    return sum(1 for r in run.resources if r.type != STACK_REFERENCE and not r.read)


def plan_fleet_offline(stack: OfflineStack) -> FleetPlan:
    """Plan every fleet stack of `stack` (the base stack: its config is every fleet stack's)."""
    layout = plan_fleet(load_spec_file(stack.config_file, stack.name))
    exported: dict[str, tuple[dict[str, Any], set[str]]] = {}
    runs: dict[str, Run] = {}

    def references(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if type_ != STACK_REFERENCE:
            return {}
        outputs, secrets = exported[str(inputs["name"]).rsplit("/", 1)[-1]]
        return {"outputs": outputs, "secretOutputNames": sorted(secrets)}

    for layer in layout.layers:
        for fleet_stack in layer:
            qualified = f"{stack.name}.{fleet_stack.name}"
            overrides = {
                **stack.overrides,
                f"meshlib:{FLEET_STACK_KEY}": fleet_stack.name,
                f"meshlib:{FLEET_BASE_KEY}": stack.name,
            }
            _, run = plan_stack(
                OfflineStack(qualified, stack.config_file, stack.project, overrides),
                computed=references,
            )
            runs[fleet_stack.name] = run
            exported[qualified] = (run.unknown_outputs, run.secret_outputs)
    return FleetPlan(layout=layout, runs=runs)
