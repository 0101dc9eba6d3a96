"""How the program fails and changes: bad config, a cluster removed, and delete ordering.

- A config error in any field stops the program before a single resource registers.
- Removing a cluster from config removes exactly its resources (and the remote secrets
  that mention it) and changes nothing else but what must change.
- Every Kubernetes resource reaches its cluster through a provider that depends on the
  cluster's nodes, so `pulumi destroy` deletes load balancers before nodes and VPCs.
"""

from __future__ import annotations

import copy
import re
import runpy
from collections.abc import Callable
from typing import Any

import pytest

from meshlib.spec import ConfigError
from tests.conftest import ROOT, fixture_stack
from tests.mocks import MeshMocks, Registered, Run, fake_ip, registrations, run_program
from tests.test_program import stack_config

MESH = "mesh1"
Key = tuple[str, str]


def run_config(config: dict[str, Any], mocks: MeshMocks | None = None) -> Run:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config, mocks=mocks
    )


# -- config errors -------------------------------------------------------------------------------


def multi_primary() -> dict[str, Any]:
    return stack_config(fixture_stack("multi-primary"))


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting `mesh:<path>` to `value` (`...` deletes the key)."""

    def mutate(config: dict[str, Any]) -> None:
        node: Any = config
        key: str | int = f"mesh:{path[0]}"
        for part in path[1:]:
            node, key = node[key], part
        if value is ...:
            del node[key]
        else:
            node[key] = value

    return mutate


BAD_CONFIGS = [
    # top level
    pytest.param(_set("mode", value="mesh-federation"), "mesh:mode", id="mode"),
    pytest.param(_set("meshId", value="Mesh_1"), "mesh:meshId", id="mesh-id"),
    pytest.param(_set("adminCidr", value=["10.0.0.0/8"]), "mesh:adminCidr", id="top-level-typo"),
    pytest.param(_set("adminCidrs", value=["10.0.0.300/8"]), "mesh:adminCidrs[0]", id="admin-cidr"),
    pytest.param(_set("trustDomain", value="Not A Domain"), "mesh:trustDomain", id="trust-domain"),
    pytest.param(_set("clusters", value=[]), "mesh:clusters", id="no-clusters"),
    # istio
    pytest.param(_set("istio", "version", value="1.28.2"), "mesh:istio.version", id="istio-version"),
    pytest.param(_set("istio", "version", value=1.3), "mesh:istio.version", id="istio-version-number"),
    pytest.param(_set("istio", "revision", value="default"), "mesh:istio.revision", id="istio-revision"),
    pytest.param(_set("istio", "hub", value="docker.io/istio"), "mesh:istio.hub", id="istio-typo"),
    # clusters
    pytest.param(_set("clusters", 1, "cloud", value="azure"), "mesh:clusters[1].cloud", id="cloud"),
    pytest.param(_set("clusters", 0, "name", value="East_1"), "mesh:clusters[0].name", id="cluster-name"),
    pytest.param(_set("clusters", 1, "name", value="east"), "mesh:clusters[1].name", id="duplicate-name"),
    pytest.param(_set("clusters", 0, "region", value=...), "mesh:clusters[0].region", id="no-region"),
    pytest.param(_set("clusters", 0, "nodes", "min", value=9), "mesh:clusters[0].nodes.min", id="nodes"),
    pytest.param(_set("clusters", 0, "vpcCidr", value="192.0.2.0/24"), "mesh:clusters[0].vpcCidr", id="vpc"),
    pytest.param(_set("clusters", 0, "kubernetesVersion", value=1.33), "mesh:clusters[0].kubernetesVersion", id="k8s"),
    pytest.param(_set("clusters", 1, "role", value="remote"), "mesh:clusters[1].role", id="role"),
    pytest.param(_set("clusters", 1, "network", value="net-aws"), "mesh:clusters[1].network", id="cross-cloud"),
    pytest.param(_set("clusters", 1, "regoin", value="x"), "mesh:clusters[1].regoin", id="cluster-typo"),
    # services
    pytest.param(_set("services", 0, "cluster", value="south"), "mesh:services[0].cluster", id="exporter"),
    pytest.param(
        _set("services", 0, "consumers", value=["central"]), "mesh:services[0].consumers[0]", id="self-import"
    ),
    pytest.param(
        _set("services", 0, "ports", 0, "number", value=70000),
        "mesh:services[0].ports[0].number",
        id="port-range",
    ),
]


@pytest.mark.parametrize(("mutate", "key"), BAD_CONFIGS)
def test_a_config_error_stops_the_program_before_any_resource(
    mutate: Callable[[dict[str, Any]], None], key: str
) -> None:
    config = multi_primary()
    mutate(config)
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as caught:
        run_config(config, mocks)
    assert key in {problem.key for problem in caught.value.problems}, caught.value
    assert mocks.resources == []


def test_every_problem_is_reported_at_once_and_nothing_registers() -> None:
    config = multi_primary()
    for mutate, _key in [param.values for param in BAD_CONFIGS[:3]]:  # type: ignore[misc]
        mutate(config)  # type: ignore[operator]
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_config(config, mocks)
    assert {p.key for p in raised.value.problems} >= {"mesh:mode", "mesh:meshId", "mesh:adminCidr"}
    assert mocks.resources == []


# -- removing a cluster ---------------------------------------------------------------------------


def three_primaries(west_network: str) -> dict[str, Any]:
    """east (EKS), west (EKS, own network or east's), central (GKE); every cluster CIDR explicit."""
    west_region = "us-east-1" if west_network == "net-aws" else "us-west-2"
    return {
        "mesh:meshId": MESH,
        "mesh:mode": "multi-primary",
        "mesh:adminCidrs": ["203.0.113.7/32"],  # where Pulumi runs from: it must reach the API servers it creates
        "mesh:istio": {"version": "1.30.3"},
        "mesh:clusters": [
            {
                "name": "east",
                "cloud": "aws",
                "region": "us-east-1",
                "network": "net-aws",
                "vpcCidr": "10.10.0.0/16",
                "serviceCidr": "10.100.0.0/20",
            },
            {
                "name": "west",
                "cloud": "aws",
                "region": west_region,
                "network": west_network,
                "vpcCidr": "10.20.0.0/16",
                "serviceCidr": "10.100.16.0/20",
            },
            {
                "name": "central",
                "cloud": "gcp",
                "project": "acme-mesh-prod",
                "region": "us-central1",
                "network": "net-gcp",
                "nodeCidr": "10.30.0.0/20",
                "podCidr": "10.32.0.0/14",
                "serviceCidr": "10.36.0.0/20",
                "masterCidr": "10.38.0.0/28",
            },
        ],
        "mesh:services": [
            {
                "name": "reviews",
                "cluster": "central",
                "consumers": ["east"],
                "ports": [{"number": 9080, "name": "http"}],
            }
        ],
    }


def without(config: dict[str, Any], cluster: str) -> dict[str, Any]:
    smaller = copy.deepcopy(config)
    smaller["mesh:clusters"] = [c for c in smaller["mesh:clusters"] if c["name"] != cluster]
    return smaller


@pytest.fixture(scope="module")
def own_network_runs() -> tuple[Run, Run]:
    config = three_primaries("net-west")
    return run_config(config), run_config(without(config, "west"))


@pytest.fixture(scope="module")
def shared_network_runs() -> tuple[Run, Run]:
    config = three_primaries("net-aws")
    return run_config(config), run_config(without(config, "west"))


def changed_inputs(before: Run, after: Run) -> tuple[dict[Key, set[str]], set[Key]]:
    """Surviving resources whose inputs changed (by top-level input key), and those whose registration changed.

    The deploy-time checks follow what they verify (tests/test_verify.py), so they are left out here.
    """
    old, new = registrations(before), registrations(after)
    old = {key: value for key, value in old.items() if "-verify" not in key[1]}
    inputs: dict[Key, set[str]] = {}
    changed: set[Key] = set()
    for key in old.keys() & new.keys():
        if old[key] != new[key]:
            changed.add(key)
        a, b = old[key][0], new[key][0]
        keys = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if keys:
            inputs[key] = keys
    return inputs, changed


def by_name(run: Run) -> dict[str, Registered]:
    return {r.name: r for r in run.resources if r.custom}


def nat_cidrs(run: Run, network: str) -> set[str]:
    """The /32s of a network's NAT Elastic IPs (the fakes derive each EIP's address from its name)."""
    return {
        f"{fake_ip(r.name)}/32" for r in run.mocks.of_type("aws:ec2/eip:Eip") if r.name.startswith(f"{network}-nat-")
    }


def _removed_with_west(name: str, network_prefixes: tuple[str, ...]) -> bool:
    own = (
        f"{MESH}-west-",  # its cluster, control plane, gateway, and the remote secrets it holds
        f"{MESH}-trust-west-",  # its intermediate CA
        *(f"{prefix}-" for prefix in network_prefixes),  # its network (or its part of a shared one)
    )
    return (
        name in (f"{MESH}-west", *network_prefixes)
        or name.startswith(own)
        or re.fullmatch(rf"{MESH}-[a-z0-9-]+-watches-west(-.*)?", name) is not None  # remote secrets about it
    )


def test_removing_a_cluster_on_its_own_network(own_network_runs: tuple[Run, Run]) -> None:
    before, after = own_network_runs
    old, new = registrations(before), registrations(after)
    assert new.keys() - old.keys() == set()
    removed = old.keys() - new.keys()
    assert removed == {key for key in old if _removed_with_west(key[1], (f"{MESH}-net-west",))}
    names = {name for _, name in removed}
    assert {
        f"{MESH}-west-k8s",
        f"{MESH}-west-nodes",
        f"{MESH}-west-eks",
        f"{MESH}-net-west-vpc",
        f"{MESH}-trust-west-cert",
        f"{MESH}-east-watches-west-secret",
        f"{MESH}-central-watches-west-secret",
        f"{MESH}-west-watches-east-secret",
        f"{MESH}-west-watches-central-secret",
    } <= names

    # What legitimately changes: the API servers west's istiod watched stop admitting west's NAT IPs.
    inputs, changed = changed_inputs(before, after)
    east, central = (
        ("aws:eks/cluster:Cluster", f"{MESH}-east-eks"),
        ("gcp:container/cluster:Cluster", f"{MESH}-central-cluster"),
    )
    gateways = {
        ("kubernetes:helm.sh/v3:Release", f"{MESH}-{c}-eastwest-release"): {"values"} for c in ("east", "central")
    }
    assert inputs == {east: {"vpcConfig"}, central: {"masterAuthorizedNetworksConfig"}, **gateways}
    assert changed == set(inputs)  # nothing else changed parent, provider or dependencies either
    assert_only_source_ranges_change(before, after, gateways)
    west_nat = nat_cidrs(before, f"{MESH}-net-west")
    assert len(west_nat) == 2
    east_before = set(by_name(before)[east[1]].plain["vpcConfig"]["publicAccessCidrs"])
    east_after = set(by_name(after)[east[1]].plain["vpcConfig"]["publicAccessCidrs"])
    assert east_before - east_after == west_nat and east_after < east_before

    def authorized(run: Run) -> set[str]:
        blocks = by_name(run)[central[1]].plain["masterAuthorizedNetworksConfig"]["cidrBlocks"]
        return {block["cidrBlock"] for block in blocks}

    assert authorized(before) - authorized(after) == west_nat and authorized(after) < authorized(before)


def test_removing_a_cluster_that_shares_a_network(shared_network_runs: tuple[Run, Run]) -> None:
    before, after = shared_network_runs
    old, new = registrations(before), registrations(after)
    assert new.keys() - old.keys() == set()
    removed = old.keys() - new.keys()
    # its subnets and CIDR block in the shared VPC go; the VPC, NAT and gateways stay for east.
    # east's rules admitting west (its block on the mesh ports, its private subnets on all) go with it.
    rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    ports = (15012, 15017, 15021, 15443)
    expected = {key for key in old if _removed_with_west(key[1], (f"{MESH}-net-aws-west",))}
    expected |= {(rule, f"{MESH}-east-mesh-{port}-from-west") for port in ports}
    expected |= {(rule, f"{MESH}-east-from-west-{zone}") for zone in "ab"}
    assert removed == expected
    assert (
        "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
        f"{MESH}-net-aws-west-cidr",
    ) in removed
    assert not any(name.startswith(f"{MESH}-net-aws-") and "west" not in name for _, name in removed)

    # Nothing else changes but east's API access: east's own rules stay as they were (one per port and block).
    inputs, changed = changed_inputs(before, after)
    east = ("aws:eks/cluster:Cluster", f"{MESH}-east-eks")
    mesh_rules = {(rule, f"{MESH}-east-mesh-{port}-from-east") for port in ports}
    assert mesh_rules <= new.keys()
    gateways = {("kubernetes:helm.sh/v3:Release", f"{MESH}-east-eastwest-release"): {"values"}}
    assert inputs == {east: {"vpcConfig"}, **gateways}
    assert changed == set(inputs)
    assert_only_source_ranges_change(before, after, gateways)
    # east's API server no longer admits its own network's NAT (west's istiod egress); central's is unchanged
    # because east's istiod still leaves through that same NAT.
    shared_nat = nat_cidrs(before, f"{MESH}-net-aws")
    east_before = set(by_name(before)[east[1]].plain["vpcConfig"]["publicAccessCidrs"])
    east_after = set(by_name(after)[east[1]].plain["vpcConfig"]["publicAccessCidrs"])
    assert east_before - east_after == shared_nat and east_after < east_before
    for _, name in mesh_rules:
        assert by_name(before)[name].plain["cidrIpv4"] == by_name(after)[name].plain["cidrIpv4"] == "10.10.0.0/16"
    for port in ports:
        assert by_name(before)[f"{MESH}-east-mesh-{port}-from-west"].plain["cidrIpv4"] == "10.20.0.0/16"


def test_removing_a_cluster_leaves_default_cidrs_of_the_others_alone() -> None:
    """Default CIDRs do not depend on the other clusters: removing one replaces no subnet or cluster elsewhere."""
    config = three_primaries("net-west")
    for cluster in config["mesh:clusters"]:
        for key in ("vpcCidr", "serviceCidr", "nodeCidr", "podCidr", "masterCidr"):
            cluster.pop(key, None)
    before, after = run_config(config), run_config(without(config, "west"))
    inputs, _ = changed_inputs(before, after)
    gateways = {
        ("kubernetes:helm.sh/v3:Release", f"{MESH}-{c}-eastwest-release"): {"values"} for c in ("east", "central")
    }
    assert inputs == {
        ("aws:eks/cluster:Cluster", f"{MESH}-east-eks"): {"vpcConfig"},
        ("gcp:container/cluster:Cluster", f"{MESH}-central-cluster"): {"masterAuthorizedNetworksConfig"},
        **gateways,
    }
    assert_only_source_ranges_change(before, after, gateways)


def assert_only_source_ranges_change(before: Run, after: Run, gateways: dict[Key, set[str]]) -> None:
    """East-west gateways stop admitting the removed cluster's egress, and change nothing else."""
    for _, name in gateways:
        old, new = by_name(before)[name].plain["values"], by_name(after)[name].plain["values"]
        old_ranges = set(old["service"].pop("loadBalancerSourceRanges"))
        new_ranges = set(new["service"].pop("loadBalancerSourceRanges"))
        assert new_ranges < old_ranges and old == new


def test_no_two_resources_manage_the_same_kubernetes_object(own_network_runs: tuple[Run, Run]) -> None:
    """Each Kubernetes object has one owner, so deleting one resource never deletes what another uses.

    With 3+ primaries every cluster is watched by several istiods: each needs a reader token of its own,
    so that removing one watcher revokes its token only.
    """
    owners: dict[tuple[str, str, str, str], list[str]] = {}
    for r in own_network_runs[0].resources:
        if r.type.startswith("kubernetes:") and r.custom and r.inputs:  # reads (`.get`) carry no inputs
            metadata = r.plain.get("metadata") or {}
            namespace = metadata.get("namespace") or r.plain.get("namespace") or ""
            name = metadata.get("name") or r.plain.get("name") or r.name
            owners.setdefault((r.provider_name, r.type, namespace, name), []).append(r.name)
    shared = {key: names for key, names in owners.items() if len(names) > 1}
    assert shared == {}, "one Kubernetes object, several Pulumi resources (deleting one deletes it for all)"


# -- delete ordering -------------------------------------------------------------------------------

NODES = ("aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool")


def test_every_kubernetes_resource_waits_for_its_clusters_nodes(
    own_network_runs: tuple[Run, Run], shared_network_runs: tuple[Run, Run]
) -> None:
    """Through the provider: created after the nodes, deleted before them (load balancers before VPCs)."""
    for run in (own_network_runs[0], shared_network_runs[0]):
        providers = {r.name: r for r in run.mocks.of_type("pulumi:providers:kubernetes")}
        nodes = [r for r in run.resources if r.type in NODES]
        used = {r.provider_name for r in run.resources if r.type.startswith("kubernetes:")}
        assert used == set(providers) == {f"{MESH}-{c}-k8s" for c in ("east", "west", "central")}
        for name in sorted(used):
            provider = providers[name]
            [own_nodes] = [n for n in nodes if n.parent == provider.parent]  # the same cluster component
            assert own_nodes.name == name.removesuffix("-k8s") + "-nodes"
            assert own_nodes.urn in provider.dependencies, f"{name} does not wait for {own_nodes.name}"
            others = [n.urn for n in nodes if n is not own_nodes]
            assert not set(others) & set(provider.dependencies), f"{name} waits for another cluster's nodes"
