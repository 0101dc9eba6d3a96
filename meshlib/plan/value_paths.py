"""The Helm value paths meshlib sets, and each supported Istio minor's chart facts.

The istiod chart has no values schema, so a misspelt path is silently ignored by Helm.
Every path the plan layer may set is listed in `PATHS` per Istio minor;
`tests/test_chart_values.py` fails when the plan sets one that is not, or when one is
not a path of that minor's charts. The charts' facts are a stored index per minor
(`meshlib/plan/charts/istio-<minor>.json`: every value path of `base`, `istiod` and
`gateway` with its JSON type, and which maps take free keys), generated and checked
against real charts by `scripts/check_chart_values.py CHARTS_DIR [--write]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "CHARTS",
    "CHECKED_AGAINST",
    "INDEX_DIR",
    "PATHS",
    "ChartIndex",
    "chart_index",
    "chart_schema",
    "covered",
    "leaf_paths",
    "minor_of",
    "paths_for",
]

CHARTS = ("base", "istiod", "gateway")
"""The Istio charts meshlib installs (the ingress gateway is another release of `gateway`)."""

CHECKED_AGAINST: dict[str, str] = {"1.29": "1.29.6", "1.30": "1.30.3"}
"""Per supported Istio minor: the release whose charts the stored index and `PATHS` were checked against."""

INDEX_DIR = Path(__file__).resolve().parent / "charts"
"""Where the per-minor chart indexes are stored (package data)."""

READER_SWITCH = "global.enableReaderRBAC"
"""Turns Istio's own reader RBAC off (meshlib's `meshlib-reader` instead): read by the charts since 1.30 only."""
_BASE = frozenset({"profile", "defaultRevision", "base.validationURL"})
_ISTIOD = frozenset(
    {
        "profile",
        "revision",
        "revisionTags",
        "global.meshID",
        "global.multiCluster.clusterName",
        "global.network",
        "global.externalIstiod",
        "global.configCluster",
        "global.remotePilotAddress",
        "istiodRemote.injectionPath",
        "istiodRemote.injectionURL",
        "base.validationURL",  # read by the chart's validatingwebhookconfiguration template
        # meshConfig is handed to istiod as MeshConfig, whose fields these are:
        "meshConfig.trustDomain",
        "meshConfig.defaultConfig.proxyMetadata",
        "autoscaleMin",
        "replicaCount",
        "topologySpreadConstraints",
    }
)
_GATEWAY = frozenset(
    {
        "name",
        "networkGateway",
        "revision",
        "service.annotations",
        "service.loadBalancerIP",
        "service.loadBalancerSourceRanges",
        "replicaCount",
        "autoscaling.minReplicas",
        "podDisruptionBudget",
        "topologySpreadConstraints",
    }
)

PATHS: dict[str, dict[str, frozenset[str]]] = {
    "1.29": {"base": _BASE, "istiod": _ISTIOD, "gateway": _GATEWAY},
    # The reader-clusterrole templates read the switch with `dig`; istiod's values.yaml does not list it.
    "1.30": {"base": _BASE | {READER_SWITCH}, "istiod": _ISTIOD | {READER_SWITCH}, "gateway": _GATEWAY},
}
"""Per Istio minor, per chart: the value paths meshlib sets (east-west and ingress gateways alike).
A path covers everything below it (maps of free keys)."""


def minor_of(version: str) -> str:
    """`1.30` of `1.30.3`."""
    major, minor, *_ = version.split(".")
    return f"{major}.{minor}"


def paths_for(version: str) -> dict[str, frozenset[str]]:
    """Per chart, the value paths meshlib sets for Istio `version` (a release or a minor)."""
    return PATHS[minor_of(version)]


@dataclass(frozen=True)
class ChartIndex:
    """Every value path of one chart of one Istio release, from the stored index.

    `entries` maps a dotted path to its facts: `type` (JSON types; absent: any), `free`
    (a map taking keys of its own), `values` (JSON types of a free map's values), `enum`,
    `items` (JSON types of an array's items), `template` (read by the templates though
    absent from values.yaml). `typed` charts (the gateway's JSON schema) make types binding.
    """

    chart: str
    version: str
    typed: bool
    entries: Mapping[str, Mapping[str, Any]]

    def lookup(self, path: tuple[str, ...]) -> tuple[str, Mapping[str, Any]] | None:
        """The entry at `path`, or the free map `path` lies below (its dotted path, its facts); None if unknown."""
        for depth in range(len(path), 0, -1):
            dotted = ".".join(path[:depth])
            entry = self.entries.get(dotted)
            if entry is not None and (depth == len(path) or entry.get("free")):
                return dotted, entry
            if entry is not None:
                return None
        return None

    def known(self, path: str) -> bool:
        """Whether dotted `path` is a value of this chart (or lies below one of its free maps)."""
        return self.lookup(tuple(path.split("."))) is not None


@cache
def _load(minor: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((INDEX_DIR / f"istio-{minor}.json").read_text())
    return data


def chart_index(version: str, chart: str) -> ChartIndex:
    """The stored index of `chart` (`base`, `istiod` or `gateway`) for Istio `version` (a release or a minor)."""
    data = _load(minor_of(version))
    facts = data["charts"][chart]
    return ChartIndex(chart=chart, version=data["version"], typed=facts["typed"], entries=facts["paths"])


def chart_schema(version: str, chart: str) -> dict[str, Any]:
    """A JSON schema of `chart`'s values built from the stored index: unknown keys refused at every level.

    Stricter than the gateway chart's own schema (whose nested objects accept any key the
    templates then ignore), so that merged values passing it pass the chart's.
    """
    index = chart_index(version, chart)
    tree: dict[str, Any] = {}
    for dotted in sorted(index.entries):
        node = tree
        for part in dotted.split("."):
            node = node.setdefault(part, {})
    return _schema_of(index, "", tree)


def _schema_of(index: ChartIndex, prefix: str, children: dict[str, Any]) -> dict[str, Any]:
    entry = index.entries.get(prefix, {}) if prefix else {"type": ["object"]}
    schema: dict[str, Any] = {}
    if index.typed and entry.get("type"):
        schema["type"] = list(entry["type"])
    if index.typed and "enum" in entry:
        schema["enum"] = list(entry["enum"])
    if index.typed and "items" in entry:
        schema["items"] = {"type": list(entry["items"])}
    if entry.get("free"):
        if index.typed and "values" in entry:
            schema["additionalProperties"] = {"type": list(entry["values"])}
        return schema
    if children:
        schema["properties"] = {
            key: _schema_of(index, f"{prefix}.{key}" if prefix else key, sub) for key, sub in children.items()
        }
        schema["additionalProperties"] = False
    return schema


def leaf_paths(values: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the leaves of `values` (lists and empty maps are leaves)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, f"{path}.")
        else:
            yield path


def covered(path: str, allowed: frozenset[str]) -> bool:
    """Whether `path` is one of `allowed` or lies below one of them."""
    return any(path == known or path.startswith(f"{known}.") for known in allowed)
