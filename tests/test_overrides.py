"""User Helm value overrides: checked against each Istio release's charts, refused where meshlib owns them, merged."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from meshlib.plan import gateway_values, plan_mesh
from meshlib.plan.overrides import OWNED, merge_values, override_problems, user_layers, user_paths
from meshlib.plan.value_paths import chart_index, chart_schema
from meshlib.spec import ConfigError, MeshSpec, parse_spec
from meshlib.spec.models import SUPPORTED_ISTIO_MINORS
from tests.mocks import MeshMocks
from tests.test_failure import multi_primary, run_config

REFERENCE = Path(os.environ.get("MESHLIB_ISTIO_CHARTS", "/nonexistent"))
"""Unpacked charts of Istio releases, one folder `istio-<version>` each (`helm pull istio/<chart> --version
<version> --untar`); the checks against them skip where there are none."""


def raw(istio: dict[str, Any] | None = None, **cluster_values: dict[str, Any]) -> dict[str, Any]:
    """Two existing clusters `a` and `b`; `cluster_values` are `b`'s `istioValues`."""
    return {
        "meshId": "m",
        "mode": "multi-primary",
        "istio": istio or {},
        "clusters": [
            {"name": "a", "cloud": "existing", "kubeconfig": {"context": "a"}, "eastWestAddress": "192.0.2.1"},
            {
                "name": "b",
                "cloud": "existing",
                "kubeconfig": {"context": "b"},
                "eastWestAddress": "192.0.2.2",
                "istioValues": cluster_values,
            },
        ],
    }


def problems(config: dict[str, Any]) -> dict[str, str]:
    spec = MeshSpec.model_validate(config)
    return {problem.key: problem.message for problem in override_problems(spec)}


def test_valid_overrides_pass() -> None:
    istio = {
        "version": "1.29.6",
        "values": {
            "istiod": {
                "resources": {"limits": {"cpu": "2"}},
                "env": {"PILOT_X": "1"},
                "meshConfig": {"accessLogFile": "/dev/stdout"},
            },
            "gateway": {"resources": {"requests": {"cpu": "100m"}}, "service": {"type": "NodePort"}},
            "base": {"global": {"imagePullSecrets": ["x"]}},
        },
    }
    assert problems(raw(istio, ingressGateway={"labels": {"team": "web"}})) == {}


def test_an_unknown_path_names_its_key_and_the_nearest_valid_path() -> None:
    values = {"pilot": {"resourcs": {}}, "autoscaleMn": 3, "global": {"proxy": {"resourcs": {"cpu": 1}}}}
    found = problems(raw({"values": {"istiod": values}}))
    at = "mesh:istio.values.istiod"
    assert set(found) == {f"{at}.pilot", f"{at}.autoscaleMn", f"{at}.global.proxy.resourcs"}  # first unknown key
    assert "not a value of chart `istiod` 1.30.3 (Helm would ignore it)" in found[f"{at}.autoscaleMn"]
    assert "nearest valid path: `autoscaleMin`" in found[f"{at}.autoscaleMn"]
    assert "nearest valid path: `global.proxy.resources`" in found[f"{at}.global.proxy.resourcs"]
    typo = problems(raw(gateway={"service": {"loadBalancerClas": "x"}}))
    assert "`service.loadBalancerIP`" in typo["mesh:clusters[1].istioValues.gateway.service.loadBalancerClas"]


@pytest.mark.parametrize(
    ("chart", "values", "path", "owner"),
    [
        ("istiod", {"global": {"meshID": "other"}}, "global.meshID", "`mesh:meshId`"),
        ("istiod", {"global": {"multiCluster": {"clusterName": "x"}}}, "global.multiCluster.clusterName", "name"),
        ("istiod", {"global": {"network": "n"}}, "global.network", "`mesh:clusters[].network`"),
        ("istiod", {"istiodRemote": {"injectionURL": "https://x"}}, "istiodRemote.injectionURL", "role / primary"),
        ("istiod", {"meshConfig": {"trustDomain": "x.org"}}, "meshConfig.trustDomain", "`mesh:trustDomain`"),
        ("istiod", {"revision": "r"}, "revision", "`mesh:istio.revisions / tags`"),
        ("istiod", {"global": {"multiCluster": None}}, "global.multiCluster", "clusters[].name"),  # above
        ("base", {"defaultRevision": "r"}, "defaultRevision", "`mesh:istio.revisions / tags`"),
        ("gateway", {"networkGateway": "n"}, "networkGateway", "`mesh:clusters[].network`"),
        ("gateway", {"service": {"annotations": {"a": "b"}}}, "service.annotations.a", "eastWestInternal"),
        ("ingressGateway", {"name": "x"}, "name", "`mesh:clusters[].ingressGateway.name`"),
    ],
)
def test_an_owned_path_is_refused_with_the_key_that_sets_it(
    chart: str, values: dict[str, Any], path: str, owner: str
) -> None:
    found = problems(raw({"values": {chart: values}}))
    message = found[f"mesh:istio.values.{chart}.{path}"]
    assert "set by meshlib" in message and owner in message, message


def test_owned_paths_are_chart_paths() -> None:
    for chart, owned in OWNED.items():
        index = chart_index("1.30.3", "gateway" if chart == "ingressGateway" else chart)
        for path in owned:
            assert index.known(path) or path in ("defaultRevision",), (chart, path)


@pytest.mark.parametrize(
    ("values", "path", "expected"),
    [
        ({"replicaCount": "three"}, "replicaCount", "must be integer or null, not string"),
        ({"autoscaling": {"enabled": "yes"}}, "autoscaling.enabled", "must be boolean"),
        ({"kind": "StatefulSet"}, "kind", "must be one of"),
        ({"service": {"selectorLabels": {"app": 1}}}, "service.selectorLabels.app", "must be string"),
        ({"tolerations": {"key": "x"}}, "tolerations.key", "`tolerations` must be array, not a map"),
    ],
)
def test_a_gateway_value_of_the_wrong_type_is_refused(values: dict[str, Any], path: str, expected: str) -> None:
    found = problems(raw({"values": {"ingressGateway": values}}))
    assert expected in found[f"mesh:istio.values.ingressGateway.{path}"]


def test_istiod_types_are_not_binding() -> None:  # no schema: values.yaml's defaults are examples, not types
    assert problems(raw({"values": {"istiod": {"replicaCount": "3"}}})) == {}


def test_a_path_of_one_minor_only_is_checked_against_every_revision() -> None:
    ports = {"networkGatewayPorts": {"tls": {"port": 15443}}}
    assert problems(raw({"version": "1.30.3", "values": {"ingressGateway": ports}})) == {}
    only_29 = problems(raw({"version": "1.29.6", "values": {"ingressGateway": ports}}))
    assert "not a value of chart `gateway` 1.29.6" in only_29["mesh:istio.values.ingressGateway.networkGatewayPorts"]
    canary = {
        "revisions": [{"name": "1-29-6", "version": "1.29.6"}, {"name": "1-30-3", "version": "1.30.3"}],
        "gatewayRevision": "1-30-3",
    }
    both = problems(raw(canary, ingressGateway=ports))
    message = both["mesh:clusters[1].istioValues.ingressGateway.networkGatewayPorts"]
    assert "1.29.6" in message and "it is one of 1.30.3" in message


def test_the_stored_indexes_differ_where_the_charts_do() -> None:
    assert chart_index("1.30.3", "gateway").known("networkGatewayPorts")
    assert not chart_index("1.29.6", "gateway").known("networkGatewayPorts")
    assert {chart_index(f"{minor}.0", "istiod").version[:4] for minor in SUPPORTED_ISTIO_MINORS} == {"1.29", "1.30"}


def test_merge_semantics() -> None:
    meshlib = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": "x"}
    mesh_wide = {"a": {"c": [3], "d": {"g": 2}}, "h": {"i": 1}}
    cluster = {"a": {"b": {"nested": True}}, "f": None, "h": 5}
    before = json.dumps([meshlib, mesh_wide, cluster])
    merged = merge_values(meshlib, mesh_wide, cluster)
    assert merged == {"a": {"b": {"nested": True}, "c": [3], "d": {"e": 1, "g": 2}}, "f": None, "h": 5}
    assert json.dumps([meshlib, mesh_wide, cluster]) == before  # inputs untouched
    merged["a"]["c"].append(4)
    assert mesh_wide["a"]["c"] == [3]  # no shared lists either
    opaque = object()  # a Pulumi Output stands for a leaf
    assert merge_values({"x": {"y": 1}}, {"x": opaque})["x"] is opaque


def test_per_cluster_overrides_win_over_mesh_wide_ones() -> None:
    config = raw(
        {"values": {"gateway": {"replicaCount": 3, "labels": {"team": "net", "tier": "edge"}}}},
        gateway={"replicaCount": 4, "labels": {"tier": "core"}},
    )
    spec = parse_spec(config)
    plan = plan_mesh(spec)
    for name, replicas, tier in (("a", 3, "edge"), ("b", 4, "core")):
        cluster = plan.cluster(name)
        merged = merge_values(gateway_values(spec, cluster), *user_layers(spec, "gateway", name))
        assert merged["replicaCount"] == replicas
        assert merged["labels"] == {"team": "net", "tier": tier}
        assert merged["networkGateway"] == cluster.network  # meshlib's own values stay
    assert user_paths(spec, "gateway", "b") == {"replicaCount", "labels.team", "labels.tier"}
    assert user_paths(spec, "istiod", "a") == set()


GATEWAY_OVERRIDES = {
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
    "service": {"type": "LoadBalancer", "ports": [{"name": "tls", "port": 15443, "targetPort": 15443}]},
    "podAnnotations": {"example.com/a": "b"},
    "labels": {"team": "net"},
    "autoscaling": {"maxReplicas": 6},
}


@pytest.mark.parametrize("version", ["1.29.6", "1.30.3"])
def test_merged_gateway_values_pass_the_charts_schema(version: str) -> None:
    spec = parse_spec(raw({"version": version, "values": {"gateway": GATEWAY_OVERRIDES}}))
    plan = plan_mesh(spec)
    for cluster in plan.clusters:
        meshlib = gateway_values(spec, cluster, {"a/b": "c"}, "203.0.113.2", ["192.0.2.0/24"])
        merged = merge_values(meshlib, *user_layers(spec, "gateway", cluster.name))
        jsonschema.validate(merged, chart_schema(version, "gateway"))  # the stored index: always
        reference = REFERENCE / f"istio-{version}" / "gateway" / "values.schema.json"
        if reference.exists():  # the chart's own schema, where the reference charts are at hand
            jsonschema.Draft7Validator(json.loads(reference.read_text())).validate(merged)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"service": {"typo": 1}}, chart_schema(version, "gateway"))


def test_bad_overrides_are_config_errors_listing_every_problem() -> None:
    config = raw(
        {"values": {"istiod": {"global": {"meshID": "x"}, "pilot": {"resources": {}}}}},
        gateway={"replicaCount": "two"},
    )
    config["clusters"][0]["name"] = "b"  # a cross-field problem too
    with pytest.raises(ConfigError) as raised:
        parse_spec(config)
    keys = {problem.key for problem in raised.value.problems}
    assert keys >= {
        "mesh:istio.values.istiod.global.meshID",
        "mesh:istio.values.istiod.pilot",
        "mesh:clusters[1].istioValues.gateway.replicaCount",
        "mesh:clusters[1].name",
    }


def test_a_bad_override_stops_the_program_before_any_resource() -> None:
    config = multi_primary()
    config["mesh:istio"] = {**config.get("mesh:istio", {}), "values": {"istiod": {"global": {"network": "n"}}}}
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_config(config, mocks)
    assert "mesh:istio.values.istiod.global.network" in {problem.key for problem in raised.value.problems}
    assert mocks.resources == []
