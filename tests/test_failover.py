"""Failover between clusters (issue 12, section 5): model, rules, plan, component.

A service running in several clusters gets, in each config cluster serving its callers, a
DestinationRule with outlier detection and `localityLbSetting.failoverPriority`; config that
cannot fail over (one cluster, unknown clusters, duplicates, no endpoint discovery) is refused
before any resource registers.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshlib.offline.render import istio_manifests
from meshlib.plan import plan_mesh
from meshlib.plan.failover import failover_destination_rule, failover_rules
from meshlib.spec import ConfigError, MeshSpec, parse_spec
from meshlib.spec.models import FailoverSpec
from tests.conftest import fixture_stack
from tests.mocks import MeshMocks, Registered, Run, fake_ip
from tests.test_failure import run_config
from tests.test_program import stack_config
from tests.validators import validate_istio

DR = "kubernetes:networking.istio.io/v1:DestinationRule"
ALL_LEVELS = [
    "topology.istio.io/network",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/cluster",
]


def existing(name: str, **fields: Any) -> dict[str, Any]:
    """An adopted cluster (no cloud fields needed); primaries need an east-west address."""
    address = {"eastWestAddress": fake_ip(name)}
    return {"name": name, "cloud": "existing", "kubeconfig": {"context": name}, **address, **fields}


def mesh(clusters: list[dict[str, Any]], failover: list[dict[str, Any]], **extra: Any) -> MeshSpec:
    return parse_spec({"meshId": "mesh1", "mode": "multi-primary", "clusters": clusters, "failover": failover, **extra})


THREE_PRIMARIES = [existing("east"), existing("west"), existing("central")]


# -- the rule ------------------------------------------------------------------------------------


def test_the_rule_passes_istios_schema_with_detection_and_priority_in_config_order() -> None:
    failover = FailoverSpec.model_validate(
        {
            "name": "reviews",
            "namespace": "shop",
            "clusters": ["east", "west"],
            "priority": ["cluster", "zone"],
            "outlierDetection": {"consecutive5xxErrors": 2, "interval": "500ms", "baseEjectionTime": "1m"},
        }
    )
    rule = failover_destination_rule(failover)
    validate_istio(rule)
    assert rule["metadata"] == {"name": "reviews.shop-failover", "namespace": "istio-system"}
    assert rule["spec"]["host"] == "reviews.shop.svc.cluster.local"
    assert rule["spec"]["exportTo"] == ["*"]
    policy = rule["spec"]["trafficPolicy"]
    assert policy["loadBalancer"]["localityLbSetting"] == {
        "enabled": True,
        "failoverPriority": ["topology.istio.io/cluster", "topology.kubernetes.io/zone"],
    }
    assert policy["outlierDetection"] == {
        "consecutive5xxErrors": 2,
        "interval": "500ms",
        "baseEjectionTime": "1m",
        "maxEjectionPercent": 100,
    }


def test_defaults_prefer_network_then_region_zone_cluster() -> None:
    rule = failover_destination_rule(FailoverSpec.model_validate({"name": "reviews", "clusters": ["a", "b"]}))
    validate_istio(rule)
    assert rule["spec"]["host"] == "reviews.default.svc.cluster.local"
    assert rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"] == ALL_LEVELS
    assert set(rule["spec"]["trafficPolicy"]["outlierDetection"]) == {
        "consecutive5xxErrors",
        "interval",
        "baseEjectionTime",
        "maxEjectionPercent",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", ["zone", "region", "zone"]),
        ("priority", ["subzone"]),
        ("priority", []),
        ("outlierDetection", {"interval": "10"}),
        ("outlierDetection", {"interval": 10}),
        ("outlierDetection", {"baseEjectionTime": "0ms"}),
        ("outlierDetection", {"maxEjectionPercent": 101}),
        ("outlierDetection", {"consecutive5xxErrors": 0}),
        ("outlierDetection", {"consecutiveErrors": 5}),
    ],
)
def test_bad_fields_are_refused_with_their_key(field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        mesh(THREE_PRIMARIES, [{"name": "reviews", "clusters": ["east", "west"], field: value}])
    assert any(p.key.startswith(f"mesh:failover[0].{field}") for p in caught.value.problems), caught.value


# -- where the rules go ----------------------------------------------------------------------------


def test_multi_primary_every_consumer_primary_holds_the_rule() -> None:
    spec = mesh(
        THREE_PRIMARIES,
        [
            {"name": "reviews", "clusters": ["east", "west"]},  # consumers: every cluster
            {"name": "ratings", "namespace": "shop", "clusters": ["west", "central"], "consumers": ["central"]},
        ],
    )
    rules = failover_rules(plan_mesh(spec))
    assert list(rules) == ["east", "west", "central"]
    hosts = {cluster: [rule["spec"]["host"] for rule in found] for cluster, found in rules.items()}
    assert hosts == {
        "east": ["reviews.default.svc.cluster.local"],
        "west": ["reviews.default.svc.cluster.local"],
        "central": ["reviews.default.svc.cluster.local", "ratings.shop.svc.cluster.local"],
    }
    for found in rules.values():
        for rule in found:
            validate_istio(rule)


def test_primary_remote_the_primary_holds_the_rule_for_its_remotes_once() -> None:
    spec = parse_spec(
        {
            "meshId": "mesh1",
            "mode": "primary-remote",
            "clusters": [
                existing("hub"),
                existing("spoke1", role="remote"),
                existing("spoke2", role="remote"),
            ],
            "failover": [{"name": "reviews", "clusters": ["spoke1", "spoke2"], "consumers": ["spoke1", "spoke2"]}],
        }
    )
    rules = failover_rules(plan_mesh(spec))
    assert list(rules) == ["hub"]
    assert [rule["metadata"]["name"] for rule in rules["hub"]] == ["reviews.default-failover"]


def test_two_primaries_with_remotes_each_serving_consumers() -> None:
    spec = parse_spec(
        {
            "meshId": "mesh1",
            "mode": "primary-remote",
            "clusters": [
                existing("hub1"),
                existing("hub2"),
                existing("spoke1", role="remote", primary="hub1"),
                existing("spoke2", role="remote", primary="hub2"),
            ],
            "failover": [{"name": "reviews", "clusters": ["spoke1", "spoke2"], "consumers": ["spoke2"]}],
        }
    )
    assert list(failover_rules(plan_mesh(spec))) == ["hub2"]


def test_no_failover_no_rules() -> None:
    assert failover_rules(plan_mesh(mesh(THREE_PRIMARIES, []))) == {}


# -- refusals ------------------------------------------------------------------------------------


def refusals(spec: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_spec(spec)
    return {problem.key: problem.message for problem in caught.value.problems}


def test_every_failover_problem_is_listed_at_once() -> None:
    problems = refusals(
        {
            "meshId": "mesh1",
            "mode": "multi-primary",
            "clusters": THREE_PRIMARIES,
            "failover": [
                {"name": "reviews", "clusters": ["east"]},
                {"name": "ratings", "clusters": ["east", "south"], "consumers": ["north"]},
                {"name": "ratings", "clusters": ["east", "west"]},
                {"name": "details", "clusters": ["east", "east"]},
            ],
        }
    )
    assert set(problems) == {
        "mesh:failover[0].clusters",
        "mesh:failover[1].clusters[1]",
        "mesh:failover[1].consumers[0]",
        "mesh:failover[2]",
        "mesh:failover[3].clusters",
        "mesh:failover[3].clusters[1]",
    }
    assert "at least two clusters" in problems["mesh:failover[0].clusters"]
    assert "no cluster named 'south'" in problems["mesh:failover[1].clusters[1]"]
    assert "mesh:failover[1]" in problems["mesh:failover[2]"]
    assert "listed twice" in problems["mesh:failover[3].clusters[1]"]


def test_federated_mode_is_refused_with_the_reason() -> None:
    problems = refusals(
        {
            "meshId": "mesh1",
            "mode": "multi-primary",
            "endpointDiscovery": False,
            "clusters": THREE_PRIMARIES,
            "failover": [{"name": "reviews", "clusters": ["east", "west"]}],
        }
    )
    assert list(problems) == ["mesh:failover"]
    assert "endpointDiscovery: true" in problems["mesh:failover"]
    assert "only its own cluster's endpoints" in problems["mesh:failover"]


# -- on the mock engine ------------------------------------------------------------------------------


def with_failover(stack: str, failover: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    config = copy.deepcopy(stack_config(fixture_stack(stack)))
    config["mesh:failover"] = failover
    config.update({f"mesh:{key}": value for key, value in extra.items()})
    return config


@pytest.mark.parametrize(
    ("mutation", "keys"),
    [
        pytest.param(
            {"failover": [{"name": "reviews", "clusters": ["east"]}]}, {"mesh:failover[0].clusters"}, id="one"
        ),
        pytest.param(
            {"failover": [{"name": "reviews", "clusters": ["east", "nowhere"]}]},
            {"mesh:failover[0].clusters[1]"},
            id="unknown",
        ),
        pytest.param(
            {"failover": [{"name": "reviews", "clusters": ["east", "central"]}] * 2},
            {"mesh:failover[1]"},
            id="duplicate",
        ),
        pytest.param(
            {
                "failover": [{"name": "reviews", "clusters": ["east", "central"]}],
                "endpointDiscovery": False,
            },
            {"mesh:failover"},
            id="federated",
        ),
    ],
)
def test_refusals_stop_the_program_before_any_resource(mutation: dict[str, Any], keys: set[str]) -> None:
    failover = mutation.pop("failover")
    config = with_failover("multi-primary", failover, **mutation)
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as caught:
        run_config(config, mocks)
    assert {problem.key for problem in caught.value.problems} == keys
    assert mocks.resources == []


@pytest.fixture(scope="module")
def multi_primary_run() -> Run:
    return run_config(with_failover("multi-primary", [{"name": "reviews", "clusters": ["east", "central"]}]))


def failover_rules_of(run: Run) -> list[Registered]:
    return [r for r in run.mocks.of_type(DR) if r.name.endswith("-failover")]


def test_each_primary_gets_the_rule_on_its_provider_after_its_istiod(multi_primary_run: Run) -> None:
    run = multi_primary_run
    found = {r.name: r for r in failover_rules_of(run)}
    assert set(found) == {f"mesh1-{c}-failover-destinationrule-reviews.default-failover" for c in ("east", "central")}
    by_urn = {r.urn: r for r in run.resources}
    for cluster in ("east", "central"):
        rule = found[f"mesh1-{cluster}-failover-destinationrule-reviews.default-failover"]
        assert rule.provider_name == f"mesh1-{cluster}-k8s"
        assert rule.parent_name == f"mesh1-{cluster}-failover"
        [parent] = [r for r in run.resources if r.name == rule.parent_name]
        assert parent.type == "meshlib:index:ServiceFailover"
        istiods = [
            by_urn[urn]
            for urn in rule.dependencies
            if by_urn[urn].type == "kubernetes:helm.sh/v3:Release" and "istiod" in by_urn[urn].name
        ]
        assert istiods, f"{rule.name} does not wait for an istiod"
        assert {istiod.provider_name for istiod in istiods} == {f"mesh1-{cluster}-k8s"}
        manifest = {key: rule.plain[key] for key in ("apiVersion", "kind", "metadata", "spec")}
        validate_istio(manifest)
        assert manifest["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"] == ALL_LEVELS


def test_primary_remote_on_the_mock_engine_the_primary_alone_holds_it() -> None:
    run = run_config(with_failover("primary-remote", [{"name": "reviews", "clusters": ["hub", "spoke"]}]))
    rules = failover_rules_of(run)
    assert [(r.name, r.provider_name) for r in rules] == [
        ("mesh1-hub-failover-destinationrule-reviews.default-failover", "mesh1-hub-k8s")
    ]


def test_the_offline_plan_lists_the_rules_per_cluster(multi_primary_run: Run) -> None:
    """`meshlib plan` prints every Istio resource per cluster (render.istio_manifests): failover rules too."""
    config = with_failover("multi-primary", [{"name": "reviews", "clusters": ["east", "central"]}])
    spec = parse_spec({key.removeprefix("mesh:"): value for key, value in config.items()})
    manifests = istio_manifests(spec, multi_primary_run)
    for cluster in ("east", "central"):
        names = [m["metadata"]["name"] for m in manifests[cluster] if m["kind"] == "DestinationRule"]
        assert "reviews.default-failover" in names
