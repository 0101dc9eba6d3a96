"""User Helm value overrides (`mesh:istio.values`, `clusters[].istioValues`): checked, then merged.

Every override path must be a value of its chart in each Istio release it applies to (the
stored chart index of `meshlib.plan.value_paths`); the gateway chart's JSON types apply;
paths meshlib owns because the mesh breaks without them are refused with the config key
that sets them instead. Overrides deep-merge over meshlib's values: mesh-wide, then per cluster.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from meshlib.plan.value_paths import CHECKED_AGAINST, ChartIndex, chart_index, minor_of
from meshlib.spec.models import ChartValuesSpec, MeshSpec
from meshlib.spec.problems import Problem, key_path

__all__ = [
    "CHART_OF",
    "OWNED",
    "merge_values",
    "override_problems",
    "override_versions",
    "user_layers",
    "user_paths",
    "with_overrides",
]

Values = dict[str, Any]
Path = tuple[str, ...]

CHART_OF = {"base": "base", "istiod": "istiod", "gateway": "gateway", "ingressGateway": "gateway"}
"""Per override key (of `ChartValuesSpec`): the Istio chart it sets values of."""

_FIELD = {"base": "base", "istiod": "istiod", "gateway": "gateway", "ingressGateway": "ingress_gateway"}

_ROLE = "mesh:clusters[].role / primary"
_REVISIONS = "mesh:istio.revisions / tags"
_READER = "mesh:readerTokenGeneration (meshlib installs its own `meshlib-reader` account)"

OWNED: dict[str, dict[str, str]] = {
    "base": {
        "profile": _ROLE,
        "defaultRevision": _REVISIONS,
        "base.validationURL": _ROLE,
        "global.enableReaderRBAC": _READER,
    },
    "istiod": {
        "global.meshID": "mesh:meshId",
        "global.multiCluster.clusterName": "mesh:clusters[].name",
        "global.network": "mesh:clusters[].network",
        "global.remotePilotAddress": _ROLE,
        "global.configCluster": _ROLE,
        "global.externalIstiod": _ROLE,
        "global.enableReaderRBAC": _READER,
        "istiodRemote": _ROLE,
        "profile": _ROLE,
        "base.validationURL": _ROLE,
        "revision": _REVISIONS,
        "revisionTags": _REVISIONS,
        "defaultRevision": _REVISIONS,
        "meshConfig.trustDomain": "mesh:trustDomain",
        "meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE": "mesh:dnsCapture",
    },
    "gateway": {
        "name": "meshlib (the east-west Gateways select `istio-eastwestgateway`)",
        "networkGateway": "mesh:clusters[].network",
        "revision": "mesh:istio.gatewayRevision",
        "service.loadBalancerIP": "mesh:clusters[].eastWestAddress (cloud clusters reserve one)",
        "service.loadBalancerSourceRanges": "mesh:restrictEastWestSources",
        "service.annotations": "mesh:clusters[].eastWestInternal",
    },
    "ingressGateway": {
        "name": "mesh:clusters[].ingressGateway.name",
        "revision": "mesh:istio.gatewayRevision",
    },
}
"""Per override key: the value paths meshlib owns (a path covers everything below it) -> what sets it instead."""


def override_versions(spec: MeshSpec) -> list[str]:
    """The Istio releases overrides apply to: every revision's, or the single `mesh:istio.version`."""
    if spec.istio.revisions:
        versions = {revision.version for revision in spec.istio.revisions}
    else:
        versions = {spec.istio.version}
    # an unsupported release is refused by the model already
    return sorted((v for v in versions if minor_of(v) in CHECKED_AGAINST), key=_release_order)


def _release_order(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def override_problems(spec: MeshSpec) -> list[Problem]:
    """Every problem of the spec's value overrides, mesh-wide and per cluster."""
    versions = override_versions(spec)
    problems: list[Problem] = []
    sources: list[tuple[tuple[str | int, ...], ChartValuesSpec]] = [(("istio", "values"), spec.istio.values)]
    sources += [(("clusters", i, "istioValues"), c.istio_values) for i, c in enumerate(spec.clusters)]
    for loc, chart_values in sources:
        for key, field in _FIELD.items():
            values = getattr(chart_values, field)
            for leaf, value in _leaves(values):
                found = _problem(key, leaf, value, versions)
                if found:
                    path, message = found
                    problems.append(Problem(f"{key_path((*loc, key))}.{'.'.join(path)}", message))
    return problems


def _problem(key: str, path: Path, value: Any, versions: list[str]) -> tuple[Path, str] | None:
    """What is wrong with the override of leaf `path`, and where (an unknown map: its own path)."""
    owner = _owner(key, path, value)
    if owner:
        return path, f"set by meshlib, which the mesh needs: use {owner} instead"
    chart = CHART_OF[key]
    unknown = []
    for version in versions:
        index = chart_index(version, chart)
        found = index.lookup(path)
        if found is None:
            scalar = _scalar_prefix(index, path)
            if scalar:
                return path, scalar
            unknown.append(index)
            continue
        if index.typed:
            wrong = _type_problem(path, found, value)
            if wrong:
                return path, f"{wrong} (chart `{chart}` {index.version}'s schema)"
    if not unknown:
        return None
    path = path[: min(_known_depth(index, path) for index in unknown) + 1]
    valid_in = sorted(set(versions) - {index.version for index in unknown}, key=_release_order)
    releases = ", ".join(index.version for index in unknown)
    extra = f" (it is one of {', '.join(valid_in)}, but this applies to {releases} too)" if valid_in else ""
    helm = "Helm would ignore it" if chart != "gateway" else "its schema refuses it"
    return path, (
        f"not a value of chart `{chart}` {releases} ({helm}){extra}; nearest valid path: `{_nearest(unknown[0], path)}`"
    )


def _known_depth(index: ChartIndex, path: Path) -> int:
    """How many leading segments of `path` name values of the chart."""
    depth = 0
    while depth < len(path) and ".".join(path[: depth + 1]) in index.entries:
        depth += 1
    return depth


def _scalar_prefix(index: ChartIndex, path: Path) -> str | None:
    """Why a map cannot go where a typed chart wants a non-map (`tolerations: {key: x}`), if that is the case."""
    for depth in range(len(path) - 1, 0, -1):
        entry = index.entries.get(".".join(path[:depth]))
        if entry is not None:
            types = entry.get("type")
            if index.typed and types and "object" not in types:
                dotted = ".".join(path[:depth])
                return f"`{dotted}` must be {' or '.join(types)}, not a map (chart `{index.chart}` {index.version})"
            return None
    return None


def _owner(key: str, path: Path, value: Any) -> str | None:
    dotted = ".".join(path)
    for owned, owner in OWNED[key].items():
        at_or_below = dotted == owned or dotted.startswith(f"{owned}.")
        # above: a non-map (or null) here would replace the owned value
        above = owned.startswith(f"{dotted}.") and not (isinstance(value, Mapping) and not value)
        if at_or_below or above:
            return f"`{owner}`" if owner.startswith("mesh:") else owner
    return None


_JSON = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"))


def _json_types(value: Any) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, Mapping):
        return {"object"}
    for python, name in _JSON:
        if isinstance(value, python):
            types = {name}
            if name == "integer":
                types.add("number")
            if isinstance(value, float) and value.is_integer():
                types.add("integer")
            return types
    return set()  # a deploy-time value: not checked


def _type_problem(path: Path, found: tuple[str, Mapping[str, Any]], value: Any) -> str | None:
    dotted, entry = found
    if value is None:
        return None  # Helm: null removes the chart's default
    if dotted != ".".join(path):  # below a free map: only its direct values have a type
        types = entry.get("values") if len(path) == dotted.count(".") + 2 else None
        if types and not _json_types(value) & set(types) and _json_types(value):
            return f"must be {' or '.join(types)}, not {_describe(value)}"
        return None
    types = entry.get("type")
    if types and _json_types(value) and not _json_types(value) & set(types):
        return f"must be {' or '.join(types)}, not {_describe(value)}"
    if "enum" in entry and not isinstance(value, Mapping | list) and value not in entry["enum"]:
        return f"must be one of {', '.join(repr(option) for option in entry['enum'])}, not {value!r}"
    items = entry.get("items")
    if items and isinstance(value, list):
        for position, item in enumerate(value):
            if item is not None and _json_types(item) and not _json_types(item) & set(items):
                return f"item {position} must be {' or '.join(items)}, not {_describe(item)}"
    return None


def _describe(value: Any) -> str:
    kind = sorted(_json_types(value) - {"number"} if isinstance(value, int) else _json_types(value))
    return f"{kind[0] if kind else type(value).__name__} {value!r}"


def _nearest(index: ChartIndex, path: Path) -> str:
    """The valid path closest to `path`: a sibling below its longest known prefix, else any path."""
    paths = sorted(index.entries)
    for depth in range(len(path) - 1, 0, -1):
        prefix = ".".join(path[:depth])
        if prefix in index.entries:
            below = [p for p in paths if p.startswith(f"{prefix}.")]
            match = difflib.get_close_matches(".".join(path), below, n=1, cutoff=0.6)
            if match:
                return match[0]
            break
    match = difflib.get_close_matches(".".join(path), paths, n=1, cutoff=0.0)
    return match[0] if match else paths[0]


def _leaves(values: Mapping[str, Any], prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """(path, value) of every leaf of `values` (lists, empty maps and non-maps are leaves)."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def merge_values(meshlib_values: Mapping[str, Any], *layers: Mapping[str, Any]) -> Values:
    """Deep-merge `layers` over `meshlib_values`, later over earlier: maps merge, anything else is replaced.

    Non-maps (lists, scalars, Pulumi Outputs) are opaque leaves; the inputs are never mutated.
    """
    merged = _copy(meshlib_values)
    for layer in layers:
        merged = _merge(merged, layer)
    return merged


def _merge(base: Values, layer: Mapping[str, Any]) -> Values:
    result = dict(base)
    for key, value in layer.items():
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            result[key] = _merge(current, value)
        else:
            result[key] = _copy(value) if isinstance(value, Mapping) else _copy_leaf(value)
    return result


def _copy(values: Mapping[str, Any]) -> Values:
    return {key: _copy(value) if isinstance(value, Mapping) else _copy_leaf(value) for key, value in values.items()}


def _copy_leaf(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(item) if isinstance(item, Mapping) else _copy_leaf(item) for item in value]
    return value


def user_layers(spec: MeshSpec, chart: str, cluster_name: str) -> list[Values]:
    """The overrides of `chart` (`base`, `istiod`, `gateway`, `ingressGateway`) on one cluster.

    Mesh-wide first, then the cluster's own (each a copy), to pass to `merge_values` after meshlib's.
    """
    field = _FIELD[chart]
    cluster = next((c for c in spec.clusters if c.name == cluster_name), None)
    if cluster is None:
        raise KeyError(f"no cluster {cluster_name!r}")
    return [_copy(getattr(spec.istio.values, field)), _copy(getattr(cluster.istio_values, field))]


def user_paths(spec: MeshSpec, chart: str, cluster_name: str) -> set[str]:
    """Dotted leaf paths the user set for `chart` on one cluster (for the plan to mark)."""
    merged = merge_values({}, *user_layers(spec, chart, cluster_name))
    return {".".join(path) for path, _ in _leaves(merged)}


def with_overrides(spec: MeshSpec, chart: str, cluster_name: str, values: Mapping[str, Any]) -> Values:
    """meshlib's `values` of a `chart` release on one cluster, with the user's overrides merged over them."""
    return merge_values(values, *user_layers(spec, chart, cluster_name))
