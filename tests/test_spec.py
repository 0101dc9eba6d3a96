"""Layer 1: parsing, validation and dependent defaults of the `mesh:*` config."""

from __future__ import annotations

import copy
import ipaddress
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pydantic import BaseModel

from meshlib.spec import ConfigError, MeshSpec, load_spec, load_spec_file, parse_spec
from meshlib.spec.rules import cidrs_of
from tests.conftest import ROOT, example, fixture_stack


def valid() -> dict[str, Any]:
    """A valid multi-primary config of three clusters to break in one place per case."""
    return {
        "meshId": "mesh1",
        "mode": "multi-primary",
        "clusters": [
            {"name": "east", "cloud": "aws", "region": "us-east-1", "network": "net-aws"},
            {"name": "central", "cloud": "gcp", "project": "p1", "region": "us-central1", "network": "net-gcp"},
            {"name": "west", "cloud": "aws", "region": "us-east-1", "network": "net-aws"},
        ],
        "services": [
            {
                "name": "reviews",
                "namespace": "default",
                "cluster": "central",
                "consumers": ["east"],
                "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
            }
        ],
    }


def test_example_stacks_parse(stack_file: Path) -> None:
    spec = load_spec_file(stack_file)
    assert spec.clusters and all(cluster.network for cluster in spec.clusters)


def test_shipped_stacks_include_the_contract_examples() -> None:
    names = {path.name for path in (ROOT / "stacks").glob("Pulumi.*.yaml")}
    assert {"Pulumi.multi-primary.yaml", "Pulumi.primary-remote.yaml", "Pulumi.existing.yaml"} <= names


def test_every_config_field_is_documented() -> None:
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        assert model.__doc__, f"{model.__name__} has no docstring"
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            for candidate in _models_in(field.annotation):
                walk(candidate)

    walk(MeshSpec)
    assert len(seen) >= 7


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets `path` (`clusters.1.network`) to `value`."""

    def mutate(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = config
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _primary_remote(config: dict[str, Any]) -> None:
    config["mode"] = "primary-remote"
    config["clusters"][2]["role"] = "remote"


def _adopted_remote_exporter(config: dict[str, Any]) -> None:
    """`central` becomes an adopted remote on its primary's network (so it needs no address of its own)."""
    config["mode"] = "primary-remote"
    config["clusters"] = [
        {"name": "north", "cloud": "existing", "kubeconfig": {}, "network": "n1", "eastWestAddress": "192.0.2.9"},
        {"name": "central", "cloud": "existing", "kubeconfig": {}, "network": "n1", "role": "remote"},
        {"name": "east", "cloud": "existing", "kubeconfig": {}, "network": "n1", "role": "remote"},
    ]


BAD_CONFIGS: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("unknown mode", _set("mode", "star"), "mesh:mode", "'multi-primary' or 'primary-remote'"),
    ("unknown cloud", _set("clusters.0.cloud", "azure"), "mesh:clusters[0].cloud", "'aws', 'gcp' or 'existing'"),
    ("duplicate names", _set("clusters.2.name", "east"), "mesh:clusters[2].name", "duplicate cluster name 'east'"),
    ("name not DNS-1123", _set("clusters.1.name", "Central_1"), "mesh:clusters[1].name", "not a DNS-1123 label"),
    ("mesh id not DNS-1123", _set("meshId", "Mesh 1"), "mesh:meshId", "not a DNS-1123 label"),
    ("typo top-level", _set("meshID", "x"), "mesh:meshID", "unknown key (a typo?)"),
    ("typo in cluster", _set("clusters.0.regoin", "x"), "mesh:clusters[0].regoin", "valid keys here:"),
    ("typo in nodes", _set("clusters.0.nodes", {"minimum": 1}), "mesh:clusters[0].nodes.minimum", "unknown key"),
    ("unsupported istio", _set("istio", {"version": "1.22.0"}), "mesh:istio.version", "is not supported"),
    ("istio version typo", _set("istio", {"version": "1.30"}), "mesh:istio.version", "is not an Istio release"),
    ("istio version number", _set("istio", {"version": 1.3}), "mesh:istio.version", "quoted string"),
    ("revision default", _set("istio", {"revision": "default"}), "mesh:istio.revision", "leave `revision` unset"),
    ("remote in multi-primary", _set("clusters.2.role", "remote"), "mesh:clusters[2].role", "primary-remote"),
    (
        "no primary",
        lambda c: [_primary_remote(c), *(cl.update(role="remote") for cl in c["clusters"])],
        "mesh:clusters",
        "needs at least one cluster with `role: primary`",
    ),
    (
        "remote's primary missing",
        lambda c: [_primary_remote(c), c["clusters"][2].update(primary="north")],
        "mesh:clusters[2].primary",
        "no cluster named 'north'",
    ),
    (
        "remote's primary is a remote",
        lambda c: [
            _primary_remote(c),
            c["clusters"][1].update(role="remote"),
            c["clusters"][2].update(primary="central"),
        ],
        "mesh:clusters[2].primary",
        "is itself a remote",
    ),
    (
        "ambiguous primary",
        lambda c: [_primary_remote(c)],
        "mesh:clusters[2].primary",
        "required when there are several primaries",
    ),
    (
        "clouds share a network",
        _set("clusters.1.network", "net-aws"),
        "mesh:clusters[1].network",
        "clusters on different clouds cannot share",
    ),
    (
        "aws network across regions",
        _set("clusters.2.region", "eu-west-1"),
        "mesh:clusters[2].network",
        "an AWS VPC cannot span regions",
    ),
    (
        "overlapping VPC CIDRs on one network",
        lambda c: [c["clusters"][0].update(vpcCidr="10.1.0.0/16"), c["clusters"][2].update(vpcCidr="10.1.0.0/17")],
        "mesh:clusters[2].vpcCidr",
        "overlaps 10.1.0.0/16 (mesh:clusters[0].vpcCidr)",
    ),
    (
        "pod CIDR overlapping its own nodes",
        lambda c: c["clusters"][1].update(nodeCidr="10.40.0.0/20", podCidr="10.40.0.0/16"),
        "mesh:clusters[1].podCidr",
        "overlaps 10.40.0.0/20",
    ),
    ("CIDR with host bits", _set("clusters.0.vpcCidr", "10.0.0.1/16"), "mesh:clusters[0].vpcCidr", "host bits"),
    ("public CIDR", _set("clusters.0.vpcCidr", "8.8.0.0/16"), "mesh:clusters[0].vpcCidr", "not in a private range"),
    ("master not /28", _set("clusters.1.masterCidr", "172.16.0.0/24"), "mesh:clusters[1].masterCidr", "/28"),
    ("gcp field on aws", _set("clusters.0.project", "p1"), "mesh:clusters[0].project", "not used with cloud 'aws'"),
    ("gcp without project", lambda c: c["clusters"][1].pop("project"), "mesh:clusters[1].project", "required"),
    ("aws without region", lambda c: c["clusters"][0].pop("region"), "mesh:clusters[0].region", "required"),
    ("nodes min > max", _set("clusters.0.nodes", {"min": 6, "max": 3}), "mesh:clusters[0].nodes.min", "larger"),
    (
        "existing without kubeconfig",
        _set("clusters.2", {"name": "west", "cloud": "existing", "eastWestAddress": "192.0.2.1"}),
        "mesh:clusters[2].kubeconfig",
        "required for cloud 'existing'",
    ),
    (
        "bad east-west address",
        _set("clusters.2", {"name": "west", "cloud": "existing", "kubeconfig": {}, "eastWestAddress": "not an ip!"}),
        "mesh:clusters[2].eastWestAddress",
        "neither an IPv4 address nor a DNS hostname",
    ),
    (
        "GKE name too long",
        _set("clusters.1.name", "c" * 41),
        "mesh:clusters[1].name",
        "over the limit of 40",
    ),
    (
        "clusters on one AWS network in different VPCs",
        lambda c: c["clusters"][2].update(vpcId="vpc-1", publicSubnetIds=["a", "b"], privateSubnetIds=["c", "d"]),
        "mesh:clusters[2].vpcId",
        "share one VPC",
    ),
    (
        "adopted exporter without an address",
        lambda c: _adopted_remote_exporter(c),
        "mesh:services[0].cluster",
        "has no `eastWestAddress`",
    ),
    ("service from unknown cluster", _set("services.0.cluster", "north"), "mesh:services[0].cluster", "no cluster"),
    (
        "service to unknown cluster",
        _set("services.0.consumers", ["north"]),
        "mesh:services[0].consumers[0]",
        "no cluster named 'north'",
    ),
    (
        "service to itself",
        _set("services.0.consumers", ["central"]),
        "mesh:services[0].consumers[0]",
        "exports the service itself",
    ),
    ("port out of range", _set("services.0.ports.0.number", 70000), "mesh:services[0].ports[0].number", "65535"),
    ("port zero", _set("services.0.ports.0.number", 0), "mesh:services[0].ports[0].number", "greater than or equal"),
    ("bad protocol", _set("services.0.ports.0.protocol", "QUIC"), "mesh:services[0].ports[0].protocol", "'HTTP'"),
    ("no consumers", _set("services.0.consumers", []), "mesh:services[0].consumers", "at least 1 item"),
    ("bad mtls mode", _set("mtlsMode", "DISABLE"), "mesh:mtlsMode", "'STRICT' or 'PERMISSIVE'"),
    ("one cluster", lambda c: c["clusters"].pop() and c["clusters"].pop(), "mesh:clusters", "at least 2 items"),
    ("missing mesh id", lambda c: c.pop("meshId"), "mesh:meshId", "required"),
    (
        "kubernetes version as number",
        _set("clusters.0.kubernetesVersion", 1.3),
        "mesh:clusters[0].kubernetesVersion",
        "quoted string",
    ),
    (
        "secret kubeconfig not set",
        _set(
            "clusters.2",
            {
                "name": "west",
                "cloud": "existing",
                "kubeconfig": {"secret": "westKubeconfig"},
                "eastWestAddress": "192.0.2.1",
            },
        ),
        "mesh:clusters[2].kubeconfig.secret",
        "config key mesh:westKubeconfig is not set",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "key", "fragment"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_refused_with_its_key(
    case: str, mutate: Callable[[dict[str, Any]], None], key: str, fragment: str
) -> None:
    config = valid()
    mutate(config)
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    error = caught.value
    assert isinstance(error, pulumi.RunError)  # printed by Pulumi without a traceback
    lines = [str(problem) for problem in error.problems]
    assert any(line.startswith(f"{key}: ") and fragment in line for line in lines), lines
    assert "Traceback" not in str(error)


def test_bad_config_table_is_large() -> None:
    assert len(BAD_CONFIGS) >= 20


def test_the_valid_base_config_is_valid() -> None:
    parse_spec(valid())


def test_every_problem_is_listed_at_once() -> None:
    config = valid()
    config["mode"] = "star"
    config["clusters"][0]["cloud"] = "azure"
    config["services"][0]["ports"][0]["number"] = 0
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    assert [p.key for p in caught.value.problems] == [
        "mesh:clusters[0].cloud",
        "mesh:mode",
        "mesh:services[0].ports[0].number",
    ]
    assert str(caught.value).startswith("invalid mesh configuration (3 problems):\n  - mesh:clusters[0].cloud: ")


def test_cross_field_problems_are_listed_together_word_for_word() -> None:
    config = valid()
    config["clusters"][2]["name"] = "east"
    config["services"][0]["consumers"] = ["central", "north"]
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    assert [str(p) for p in caught.value.problems] == [
        "mesh:clusters[2].name: duplicate cluster name 'east' (already used by mesh:clusters[0])",
        "mesh:services[0].consumers[0]: 'central' exports the service itself: list only other clusters",
        "mesh:services[0].consumers[1]: no cluster named 'north': one of east, central",
    ]


def test_defaults_fill_networks_primaries_and_disjoint_cidrs() -> None:
    config = valid()
    _primary_remote(config)
    config["clusters"][2]["primary"] = "east"
    config["clusters"][0]["vpcCidr"] = "10.0.0.0/16"  # the allocator must step around it
    spec = parse_spec(config)
    ranges = [cidr for cluster in spec.clusters for cidr in cidrs_of(cluster).values()]
    for first, second in itertools.combinations(ranges, 2):
        assert not first.overlaps(second), (first, second)
    assert spec.clusters[0].vpc_cidr == ipaddress.IPv4Network("10.0.0.0/16")
    assert all(cluster.service_cidr for cluster in spec.clusters)
    assert spec.clusters[1].master_cidr is not None and spec.clusters[1].master_cidr.prefixlen == 28
    assert parse_spec(config) == spec  # deterministic


def test_remote_primary_defaults_to_the_only_primary() -> None:
    spec = example("primary-remote")
    assert spec.clusters[1].primary == "hub"


def test_network_defaults_to_the_cluster_name() -> None:
    config = valid()
    for cluster in config["clusters"]:
        cluster.pop("network")
    spec = parse_spec(config)
    assert [c.network for c in spec.clusters] == ["east", "central", "west"]


def test_load_spec_reads_pulumi_config_like_the_file() -> None:
    path = fixture_stack("multi-primary")
    config = yaml.safe_load(path.read_text())["config"]
    # Pulumi hands structured values to the program as JSON text.
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )
    try:
        assert load_spec() == load_spec_file(path, stack=pulumi.get_stack())
    finally:
        pulumi.runtime.set_all_config({})


def test_unknown_top_level_config_key_is_refused_from_pulumi_config() -> None:
    config = {"mesh:meshId": "m", "mesh:mode": "multi-primary", "mesh:clustrs": "[]"}
    pulumi.runtime.set_all_config(config)
    try:
        with pytest.raises(ConfigError) as caught:
            load_spec()
    finally:
        pulumi.runtime.set_all_config({})
    keys = [p.key for p in caught.value.problems]
    assert "mesh:clustrs" in keys and "mesh:clusters" in keys


def test_spec_is_immutable() -> None:
    spec = example("multi-primary")
    with pytest.raises(ValueError):
        spec.clusters[0].name = "x"  # type: ignore[misc]
    assert copy.deepcopy(spec) == spec


def test_default_cidrs_do_not_move_when_other_clusters_come_and_go() -> None:
    config = valid()
    full = {c.name: cidrs_of(c) for c in parse_spec(config).clusters}
    config["clusters"].pop(0)  # east goes
    config["services"] = []
    config["clusters"].insert(0, {"name": "north", "cloud": "gcp", "project": "p1", "region": "us-central1"})
    changed = {c.name: cidrs_of(c) for c in parse_spec(config).clusters}
    assert changed["central"] == full["central"] and changed["west"] == full["west"]


def test_adding_a_cluster_whose_defaults_would_clash_is_refused_with_what_to_pin() -> None:
    config = valid()
    config["services"] = []
    before = {c.name: cidrs_of(c) for c in parse_spec(config).clusters}
    config["clusters"].append({"name": "c203", "cloud": "aws", "region": "us-east-1", "network": "n9"})
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    assert [str(p) for p in caught.value.problems] == [
        "mesh:clusters[3]: the default ranges of cluster 'c203' would lie in 10.112.0.0/14, which cluster 'west' "
        "already takes; pin them: vpcCidr: 10.116.0.0/16, serviceCidr: 10.117.0.0/20"
    ]
    config["clusters"][3].update(vpcCidr="10.116.0.0/16", serviceCidr="10.117.0.0/20")  # pinned as told
    after = {c.name: cidrs_of(c) for c in parse_spec(config).clusters}
    assert {name: after[name] for name in before} == before  # nobody already there moved


def test_an_aws_network_owns_a_vpc_block_that_stays_when_its_first_cluster_goes() -> None:
    config = valid()
    config["services"] = []
    block = parse_spec(config).networks["net-aws"].vpc_cidr
    assert block is not None and block.prefixlen == 24
    config["clusters"].pop(0)  # east, the first cluster of net-aws, goes
    assert parse_spec(config).networks["net-aws"].vpc_cidr == block


def test_cloud_names_carry_the_stack_and_refuse_to_be_cut() -> None:
    config = valid()
    assert parse_spec(config, stack="prod").name_prefix == "mesh1-prod"
    assert parse_spec(config, stack="Prod_EU.1").name_prefix == "mesh1-prod-eu-1"
    assert parse_spec({**config, "namePrefix": ""}, stack="prod").name_prefix == ""
    with pytest.raises(ConfigError) as caught:
        parse_spec(config, stack="production-europe-west")
    assert [str(p) for p in caught.value.problems] == [
        "mesh:clusters[1].name: the service account id 'mesh1-production-europe-west-central' has 36 characters, "
        "over the limit of 30: shorten it or mesh:namePrefix (now 'mesh1-production-europe-west')"
    ]
