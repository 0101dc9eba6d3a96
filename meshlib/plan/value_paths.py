"""The Helm value paths meshlib sets, and the chart version they were checked against.

The istiod chart has no values schema, so a misspelt path is silently ignored by Helm.
Every path the plan layer may set is listed here; `tests/test_chart_values.py` fails
when the plan sets one that is not, and `scripts/check_chart_values.py CHARTS_DIR`
checks the list against real charts (values.yaml, values.schema.json).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["CHECKED_AGAINST", "PATHS", "covered", "leaf_paths"]

CHECKED_AGAINST = "1.30.3"

PATHS: dict[str, frozenset[str]] = {
    "base": frozenset({"profile", "defaultRevision", "base.validationURL", "global.enableReaderRBAC"}),
    "istiod": frozenset(
        {
            "profile",
            "revision",
            "global.meshID",
            "global.multiCluster.clusterName",
            "global.network",
            "global.externalIstiod",
            "global.configCluster",
            "global.remotePilotAddress",
            "global.enableReaderRBAC",  # read by the reader-clusterrole templates (`dig`), not in values.yaml
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
    ),
    "gateway": frozenset(
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
    ),
}
"""Per chart: the value paths meshlib sets. A path covers everything below it (maps of free keys)."""


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
