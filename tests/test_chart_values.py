"""Every Helm value path the plan sets is one the Istio charts read (checked against 1.30.3).

Helm ignores a misspelt istiod value without a word, so the paths are pinned in
`meshlib.plan.value_paths.PATHS`; `scripts/check_chart_values.py` checks that list
against the real charts. These tests check the plan never strays from the list.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from meshlib.plan import base_values, gateway_values, istiod_values, plan_mesh
from meshlib.plan.value_paths import CHECKED_AGAINST, PATHS, covered, leaf_paths
from meshlib.spec import DEFAULT_ISTIO_VERSION, MeshSpec, parse_spec
from tests.conftest import example

# The part of the gateway chart's values.schema.json (1.30.3) that meshlib's values touch;
# the chart's schema refuses unknown top-level keys, as this one does.
GATEWAY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "networkGateway": {"type": "string"},
        "revision": {"type": "string"},
        "replicaCount": {"type": ["integer", "null"]},
        "autoscaling": {
            "type": "object",
            "properties": {
                "enabled": {"type": "boolean"},
                "maxReplicas": {"type": "integer"},
                "minReplicas": {"type": "integer"},
                "targetCPUUtilizationPercentage": {"type": "integer"},
            },
        },
        "podDisruptionBudget": {
            "type": "object",
            "properties": {
                "minAvailable": {"type": ["integer", "string"]},
                "maxUnavailable": {"type": ["integer", "string"]},
                "unhealthyPodEvictionPolicy": {"type": "string", "enum": ["", "IfHealthyBudget", "AlwaysAllow"]},
            },
        },
        "topologySpreadConstraints": {"type": "array"},
        "service": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "annotations": {"type": "object"},
                "loadBalancerIP": {"type": "string"},
                "loadBalancerSourceRanges": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


def variants() -> list[MeshSpec]:
    hub_and_spokes = {
        "meshId": "m",
        "mode": "primary-remote",
        "istio": {"revision": "stable"},
        "dnsCapture": True,
        "clusters": [
            {
                "name": "hub",
                "cloud": "existing",
                "kubeconfig": {"context": "a"},
                "eastWestAddress": "gw.example.com",
                "network": "n",
            },
            {"name": "spoke", "cloud": "existing", "kubeconfig": {"context": "b"}, "role": "remote", "network": "n"},
        ],
    }
    return [example("multi-primary"), example("primary-remote"), example("existing"), parse_spec(hub_and_spokes)]


def test_paths_were_checked_against_the_default_version() -> None:
    assert CHECKED_AGAINST == DEFAULT_ISTIO_VERSION


@pytest.mark.parametrize("spec", variants(), ids=["multi-primary", "primary-remote", "existing", "hostname"])
def test_every_value_path_is_a_known_chart_path(spec: MeshSpec) -> None:
    plan = plan_mesh(spec)
    for cluster in plan.clusters:
        primary = plan.cluster(cluster.config_cluster)
        address = "gw.example.com" if primary.address_is_hostname else "203.0.113.1"
        releases: dict[str, dict[str, Any]] = {
            "base": base_values(spec, cluster, address, primary.address_is_hostname),
            "istiod": istiod_values(spec, cluster, address, primary.address_is_hostname),
            "gateway": gateway_values(spec, cluster, {"a/b": "c"}, "203.0.113.2", ["192.0.2.0/24"]),
        }
        for chart, values in releases.items():
            for path in leaf_paths(values):
                assert covered(path, PATHS[chart]), f"{chart}: {path} is not a path of chart {CHECKED_AGAINST}"
        jsonschema.validate(releases["gateway"], GATEWAY_SCHEMA)


def test_a_misspelt_path_would_be_caught() -> None:
    assert not covered("global.meshId", PATHS["istiod"])
    assert not covered("pilot.env.EXTERNAL_ISTIOD", PATHS["istiod"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "networkGateways": "n"}, GATEWAY_SCHEMA)
