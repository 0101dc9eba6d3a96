"""Every Helm value path the plan sets is one the Istio charts read (per supported Istio minor).

Helm ignores a misspelt istiod value without a word, so the paths are pinned in
`meshlib.plan.value_paths.PATHS`; `scripts/check_chart_values.py` checks that list
against the real charts. These tests check the plan never strays from the list.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from meshlib.plan import base_values, gateway_values, istiod_values, plan_mesh
from meshlib.plan.value_paths import CHECKED_AGAINST, PATHS, chart_index, chart_schema, covered, leaf_paths, minor_of
from meshlib.spec import DEFAULT_ISTIO_VERSION, MeshSpec, parse_spec
from meshlib.spec.models import SUPPORTED_ISTIO_MINORS
from tests.conftest import ROOT, example

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


def test_paths_were_checked_against_each_supported_minor() -> None:
    assert CHECKED_AGAINST[minor_of(DEFAULT_ISTIO_VERSION)] == DEFAULT_ISTIO_VERSION
    assert set(CHECKED_AGAINST) == set(PATHS) == set(SUPPORTED_ISTIO_MINORS)
    for minor, release in CHECKED_AGAINST.items():
        assert chart_index(minor, "istiod").version == release


@pytest.mark.parametrize("minor", SUPPORTED_ISTIO_MINORS)
def test_every_pinned_path_is_in_that_minors_stored_index(minor: str) -> None:
    for chart, paths in PATHS[minor].items():
        index = chart_index(minor, chart)
        missing = sorted(path for path in paths if not index.known(path))
        assert not missing, f"{chart} {index.version}: {missing}"


REFERENCE = Path(os.environ.get("MESHLIB_ISTIO_CHARTS", "/nonexistent"))
"""Unpacked charts of Istio releases, one folder `istio-<version>` each (`helm pull istio/<chart> --version
<version> --untar`); the checks against them skip where there are none."""


@pytest.mark.parametrize("minor", SUPPORTED_ISTIO_MINORS)
def test_the_stored_index_matches_the_reference_charts(minor: str) -> None:
    charts = REFERENCE / f"istio-{CHECKED_AGAINST[minor]}"
    if not charts.exists():
        pytest.skip("reference charts not at hand")
    script = importlib.util.spec_from_file_location("check_chart_values", ROOT / "scripts" / "check_chart_values.py")
    assert script and script.loader
    module = importlib.util.module_from_spec(script)
    script.loader.exec_module(module)
    stored = (ROOT / "meshlib" / "plan" / "charts" / f"istio-{minor}.json").read_text()
    assert module.render(module.build_index(charts, CHECKED_AGAINST[minor])) == stored


@pytest.mark.parametrize("minor", SUPPORTED_ISTIO_MINORS)
@pytest.mark.parametrize("variant", variants(), ids=["multi-primary", "primary-remote", "existing", "hostname"])
def test_every_value_path_is_a_known_chart_path(variant: MeshSpec, minor: str) -> None:
    version = CHECKED_AGAINST[minor]
    spec = variant.model_copy(update={"istio": variant.istio.model_copy(update={"version": version})})
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
                assert covered(path, PATHS[minor][chart]), f"{chart}: {path} is not pinned for {minor}"
                assert chart_index(version, chart).known(path), f"{chart}: {path} is not a path of chart {version}"
        jsonschema.validate(releases["gateway"], GATEWAY_SCHEMA)
        jsonschema.validate(releases["gateway"], chart_schema(version, "gateway"))


def test_a_misspelt_path_would_be_caught() -> None:
    assert not covered("global.meshId", PATHS["1.30"]["istiod"])
    assert not covered("pilot.env.EXTERNAL_ISTIOD", PATHS["1.30"]["istiod"])
    assert not chart_index("1.30", "istiod").known("global.meshId")
    assert not chart_index("1.29", "gateway").known("networkGatewayPorts")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "networkGateways": "n"}, GATEWAY_SCHEMA)
