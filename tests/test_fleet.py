"""Fleets: the layout has no cycles, a fleet builds exactly the single-stack mesh, and a change stays local.

Every stack of a fleet runs the ready program (`__main__.py`) on the mock engine with
`meshlib:fleetStack` set; its StackReferences answer with what the earlier stacks' runs
exported (`FleetRuns`). Deployed mode (tests.fakes compute the clouds' outputs), so that values
crossing stacks are compared as they would be after `pulumi up`.
"""

from __future__ import annotations

import copy
import re
import runpy
from typing import Any

import pytest

from meshlib.fleet.layout import FleetLayout, plan_fleet
from meshlib.fleet.migrate import migration_script, qualified_type, state_moves
from meshlib.fleet.offline import plan_fleet_offline
from meshlib.offline import engine
from meshlib.offline.engine import MeshMocks, Registered, Run, unwrap
from meshlib.offline.program import OfflineStack, plan_stack, project_name
from meshlib.offline.replacements import changes
from meshlib.spec import parse_spec
from tests import fakes
from tests.conftest import ROOT, STACKS, example, fixture_stack, stack_name
from tests.test_failure import run_config
from tests.test_lifecycle import base, belongs, primary_remote, without

BASE = "test"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
SHARED = {"pulumi:providers:kubernetes", "meshlib:index:MultiClusterMesh"}
"""What several stacks of a fleet register alike: the root component, and a cluster's provider (with the
stand-in component that holds it, typed as the cluster component)."""


def spec_of(config: dict[str, Any]) -> Any:
    return parse_spec({key.removeprefix("mesh:"): value for key, value in config.items()}, BASE)


def run_fleet(config: dict[str, Any]) -> dict[str, Run]:
    """Every stack of `config`'s fleet, layer by layer, each reading the runs before it."""
    layout = plan_fleet(spec_of(config))
    exported: dict[str, tuple[dict[str, Any], set[str]]] = {}
    runs: dict[str, Run] = {}

    def outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if type_ == STACK_REFERENCE:
            found, secrets = exported[str(inputs["name"]).rsplit("/", 1)[-1]]
            return {"outputs": found, "secretOutputNames": sorted(secrets)}
        return fakes.outputs(type_, name, inputs)

    for layer in layout.layers:
        for stack in layer:
            mocks = MeshMocks(computed=outputs, invoke=fakes.call)
            run = engine.run_program(
                lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                config={**config, "meshlib:fleetStack": stack.name, "meshlib:fleetBase": BASE},
                mocks=mocks,
                stack=f"{BASE}.{stack.name}",
            )
            runs[stack.name] = run
            exported[f"{BASE}.{stack.name}"] = (run.outputs, run.secret_outputs)
    return runs


def key(resource: Registered) -> str:
    """The URN without its stack: the same resource in a single-stack mesh and in a fleet stack."""
    return re.sub(r"^urn:pulumi:[^:]+::", "urn:pulumi::", resource.urn)


def owned(runs: dict[str, Run]) -> dict[str, tuple[str, Registered]]:
    """Each resource a fleet manages (custom, not shared) by its stack-less URN, with the one stack that holds it."""
    found: dict[str, tuple[str, Registered]] = {}
    for stack, run in runs.items():
        for resource in run.resources:
            if not resource.custom or resource.type in (STACK_REFERENCE, *SHARED):
                continue
            assert key(resource) not in found, f"{resource.name} is in {found[key(resource)][0]} and {stack}"
            found[key(resource)] = (stack, resource)
    return found


def _stand_in(resource: Registered, run: Run) -> bool:
    """A cluster component in a stack after the cluster's own: it holds nothing but the provider."""
    if resource.custom or not resource.type.endswith(("EksCluster", "GkeCluster", "ExistingCluster")):
        return False
    return not any(r.parent == resource.urn and r.type != "pulumi:providers:kubernetes" for r in run.resources)


# -- the layout ---------------------------------------------------------------------------------------------


def _synthetic(size: int, mode: str) -> Any:
    from benchmarks.scale import mesh_config

    return spec_of({**mesh_config(size, mode), "mesh:adminCidrs": ["203.0.113.7/32"]})


@pytest.mark.parametrize("size", [2, 8, 33])
@pytest.mark.parametrize("mode", ["multi-primary", "primary-remote"])
def test_the_layers_are_a_fixed_few_whatever_the_size(size: int, mode: str) -> None:
    layout = plan_fleet(_synthetic(size, mode))
    assert len(layout.layers) == (6 if mode == "primary-remote" else 5)
    _assert_each_layer_reads_only_earlier_ones(layout)


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_every_test_stack_is_layered_without_cycles(stack: Any) -> None:
    _assert_each_layer_reads_only_earlier_ones(plan_fleet(example(stack_name(stack))))


def _assert_each_layer_reads_only_earlier_ones(layout: FleetLayout) -> None:
    seen: set[str] = set()
    for layer in layout.layers:
        for stack in layer:
            assert set(stack.needs) <= seen, (stack.name, set(stack.needs) - seen)
        seen |= {stack.name for stack in layer}
    assert seen == {stack.name for stack in layout.stacks}


# -- a fleet is the single-stack mesh, split -----------------------------------------------------------------


def day_two() -> dict[str, Any]:
    """Two revisions with tags, namespaces, an ingress, failover and a responder: every unit a stack can hold."""
    config = primary_remote()
    config["mesh:clusters"].append({"name": "edge", "cloud": "aws", "region": "eu-west-1", "role": "primary"})
    config["mesh:istio"] = {
        "revisions": [{"name": "1-29-6", "version": "1.29.6"}, {"name": "1-30-3", "version": "1.30.3"}],
        "tags": {"default": "1-29-6", "canary": "1-30-3"},
        "gatewayRevision": "1-29-6",
    }
    config["mesh:namespaces"] = [{"name": "shop", "tag": "canary"}]
    config["mesh:clusters"][1]["ingressGateway"] = {}
    config["mesh:services"] = [
        {
            "name": "web",
            "cluster": "spoke",
            "consumers": ["edge"],
            "ports": [{"number": 80, "name": "http"}],
            "responder": True,
        },
        {"name": "api", "cluster": "spoke", "consumers": ["edge", "hub"], "ports": [{"number": 8080, "name": "http"}]},
    ]
    config["mesh:failover"] = [{"name": "web", "clusters": ["spoke", "edge"]}]
    return config


@pytest.fixture(
    scope="module", params=[base, primary_remote, day_two], ids=["multi-primary", "primary-remote", "day-2"]
)
def both(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Run, dict[str, Run]]:
    config = request.param()
    config["mesh:services"] = config.get("mesh:services", [])
    return config, run_config(config), run_fleet(config)


def test_a_fleet_manages_exactly_the_single_stack_meshs_resources_with_the_same_inputs(
    both: tuple[dict[str, Any], Run, dict[str, Run]],
) -> None:
    _, single, fleet = both
    mesh = {key(r): r for r in single.resources if r.custom and r.type not in SHARED}
    split = owned(fleet)
    assert sorted(set(mesh) ^ set(split)) == []
    # Components (a remote secret's halves live in two stacks) under the same names and parents:
    components = {key(r) for r in single.resources if not r.custom}
    assert {key(r) for run in fleet.values() for r in run.resources if not r.custom} == components
    different = [name for name, resource in mesh.items() if unwrap(resource.inputs) != unwrap(split[name][1].inputs)]
    assert different == []


def test_each_provider_of_a_fleet_is_the_single_stack_meshs(both: tuple[dict[str, Any], Run, dict[str, Run]]) -> None:
    _, single, fleet = both
    providers = {key(r): unwrap(r.inputs) for r in single.resources if r.type == "pulumi:providers:kubernetes"}
    for run in fleet.values():
        for resource in run.resources:
            if resource.type == "pulumi:providers:kubernetes":
                assert unwrap(resource.inputs) == providers[key(resource)], resource.name


def test_secrets_cross_stacks_as_secrets(both: tuple[dict[str, Any], Run, dict[str, Run]]) -> None:
    _, _, fleet = both
    assert "cacerts" in fleet["trust"].secret_outputs
    for name, run in fleet.items():
        if name.startswith("cluster-"):
            assert "cluster" in run.secret_outputs  # the kubeconfig inside
        if name.startswith("istio-"):
            assert "readerTokens" in run.secret_outputs


# -- a change stays local ------------------------------------------------------------------------------------


def test_removing_a_cluster_leaves_the_other_clusters_infrastructure_in_place() -> None:
    old, new = run_fleet(base()), run_fleet(without(base(), "west"))
    assert {name for name in old if name.endswith("-west")} == set(old) - set(new)
    for name in ("cluster-east", "cluster-central"):
        result = changes(old[name].resources, new[name].resources)
        # Only what was about west goes (east's security group rules for west's subnets on their shared VPC).
        assert [c.name for c in result.values() if c.action in ("replace", "create")] == []
        assert all(belongs(c, ("west",)) for c in result.values() if c.action == "delete")
        # What learns of it: the API server no longer admits the egress of the watcher that left.
        updated = {c.name: c.paths for c in result.values() if c.action == "update"}
        assert set(updated) <= {"mesh1-east-eks", "mesh1-central-cluster"}
    # central's own network and trust in it are untouched.
    for name in ("network-net-gcp", "istio-central"):
        result = changes(old[name].resources, new[name].resources)
        assert {c.action for c in result.values() if not belongs(c, ("west",))} == {"same"}, name


def test_adding_a_cluster_creates_its_stacks_and_replaces_nothing_elsewhere() -> None:
    grown = copy.deepcopy(base())
    grown["mesh:clusters"].append({"name": "south", "cloud": "aws", "region": "us-east-1", "network": "net-south"})
    old, new = run_fleet(base()), run_fleet(grown)
    assert set(new) - set(old) == {f"{kind}-south" for kind in ("cluster", "istio", "wiring", "verify")} | {
        "network-net-south"
    }
    for name, run in old.items():
        result = changes(run.resources, new[name].resources)
        lost = [c.name for c in result.values() if c.action in ("replace", "delete")]
        assert lost == [], name


# -- moving a single-stack mesh into a fleet ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["multi-primary", "primary-remote", "existing"])
def test_the_migration_moves_every_resource_of_the_single_stack_once(name: str) -> None:
    stack = OfflineStack(name, fixture_stack(name), ROOT)
    _, single = plan_stack(stack)
    by_urn = {r.urn: r for r in single.resources}
    project = project_name(ROOT)
    expected = {
        f"urn:pulumi:{name}::{project}::{'$'.join(qualified_type(r, by_urn))}::{r.name}"
        for r in single.resources
        if r.custom and r.type != "pulumi:providers:kubernetes"
    }
    moves = state_moves(plan_fleet_offline(stack), name, project)
    moved = [urn for move in moves for urn in move.urns]
    assert sorted(moved) == sorted(expected)  # each once
    assert [move.dest for move in moves][:1] == [f"{name}.trust"]
    script = migration_script(plan_fleet_offline(stack), name, project)
    assert script.count("pulumi state move") == sum(1 for move in moves if move.urns)
