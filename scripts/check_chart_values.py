"""Check meshlib's Helm value paths against real Istio charts, and (re)generate the stored chart index.

Usage: python scripts/check_chart_values.py CHARTS_DIR [--version X.Y.Z] [--write]

CHARTS_DIR holds unpacked charts `base/`, `istiod/` and `gateway/` of one Istio release
(e.g. from `helm pull istio/<chart> --version <v> --untar`). The release is read from
the charts' Chart.yaml, else from a directory name like `istio-1.30.3`, else `--version`.

The index of that release (every value path of each chart with its JSON type, and which
maps take free keys) is derived from the charts: `values.yaml` for `base` and `istiod`
(keys under `_internal_defaults_do_not_set` count as top-level), the JSON schema for
`gateway` (authoritative: `additionalProperties: false`). `--write` stores it as
`meshlib/plan/charts/istio-<minor>.json`; without it, the stored index must equal it.
Then every path of `meshlib.plan.value_paths.PATHS[<minor>]` must be in the index, and
the gateway values of every example stack must pass the gateway chart's schema.
Prints one line per check and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from meshlib.plan import gateway_values, plan_mesh
from meshlib.plan.value_paths import (
    CHECKED_AGAINST,
    INDEX_DIR,
    PATHS,
    ChartIndex,
    covered,
    leaf_paths,
    minor_of,
)
from meshlib.spec import load_spec_file

ROOT = Path(__file__).resolve().parent.parent

INTERNAL = "_internal_defaults_do_not_set"

# Read by the charts' templates though absent from their values.yaml: `profile` (profiles), istiod's
# validatingwebhookconfiguration.yaml reads `.Values.base.validationURL`; the reader-clusterrole templates
# read `global.enableReaderRBAC` with `dig` (since 1.30: 1.29's templates have no such switch, and always
# install Istio's own reader); istiod's `global.meshNetworks` is documented in comments only.
TEMPLATE_KEYS: dict[str, dict[str, dict[str, Any]]] = {
    "base": {
        "profile": {"type": ["string"]},
    },
    "istiod": {
        "profile": {"type": ["string"]},
        "defaultRevision": {"type": ["string"]},
        "base.validationURL": {"type": ["string"]},
        "global.meshNetworks": {"type": ["object"], "free": True},
    },
}
READER_SWITCH_SINCE = (1, 30)
"""`global.enableReaderRBAC` exists in the charts' templates from this minor on."""

# Maps whose keys are not the chart's: istiod's `meshConfig` is MeshConfig's proto; `podAnnotations`
# takes any annotation (the gateway schema lists a few).
FREE_KEYS: dict[str, set[str]] = {
    "base": set(),
    "istiod": {"meshConfig"},
    "gateway": {"podAnnotations"},
}
FREE_LAST_SEGMENT = {"resources"}
"""In the charts without a schema, a map of this name is a Kubernetes ResourceRequirements (values.yaml
shows `requests` only): it takes keys of its own wherever it is."""

_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"))


def _json_type(value: Any) -> list[str]:
    for python, name in _TYPES:
        if isinstance(value, python):
            return [name]
    return []  # null: any type


def values_index(chart: str, values: dict[str, Any], minor: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """The index of a chart without a schema, from its values.yaml."""
    values = {**values, **(values.get(INTERNAL) or {})}
    values.pop(INTERNAL, None)
    paths: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if "." in key:
                raise ValueError(f"{chart}: {path}: a key with a dot cannot be indexed")
            entry: dict[str, Any] = {}
            if types := _json_type(value):
                entry["type"] = types
            free = path in FREE_KEYS[chart] or key in FREE_LAST_SEGMENT
            if isinstance(value, dict) and (not value or free):
                entry["free"] = True
            paths[path] = entry
            if isinstance(value, dict) and not entry.get("free"):
                walk(value, f"{path}.")

    walk(values, "")
    template_keys = dict(TEMPLATE_KEYS.get(chart, {}))
    if minor >= READER_SWITCH_SINCE:
        template_keys["global.enableReaderRBAC"] = {"type": ["boolean"]}
    for path, entry in template_keys.items():
        if path not in paths:
            paths[path] = {**entry, "template": True}
    return paths


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return sorted(kind) if isinstance(kind, list) else [kind]


def schema_index(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The index of a chart with a JSON schema (`$ref`s resolved within the document)."""

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = schema
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = {**{k: v for k, v in node.items() if k != "$ref"}, **target}
        return node

    paths: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, raw in sorted(node.get("properties", {}).items()):
            if key == INTERNAL:
                continue
            path = f"{prefix}{key}"
            if "." in key:
                raise ValueError(f"gateway: {path}: a key with a dot cannot be indexed")
            child = resolve(raw)
            entry: dict[str, Any] = {}
            if types := _types(child):
                entry["type"] = types
            if "enum" in child:
                entry["enum"] = child["enum"]
            if "items" in child and _types(resolve(child["items"])):
                entry["items"] = _types(resolve(child["items"]))
            extra = child.get("additionalProperties")
            if path in FREE_KEYS["gateway"] or isinstance(extra, dict) or extra is True:
                entry["free"] = True
                if isinstance(extra, dict) and _types(resolve(extra)):
                    entry["values"] = _types(resolve(extra))
            elif "object" in entry.get("type", []) and not child.get("properties"):
                entry["free"] = True
            paths[path] = entry
            if not entry.get("free"):
                walk(child, f"{path}.")

    walk(resolve(schema), "")
    return paths


def build_index(charts: Path, version: str) -> dict[str, Any]:
    """The stored index of the Istio release `version` whose charts are unpacked in `charts`."""
    index: dict[str, Any] = {"version": version, "charts": {}}
    for chart in ("base", "istiod"):
        values = yaml.safe_load((charts / chart / "values.yaml").read_text())
        minor = (int(version.split(".")[0]), int(version.split(".")[1]))
        index["charts"][chart] = {"typed": False, "paths": dict(sorted(values_index(chart, values, minor).items()))}
    gateway_schema = json.loads((charts / "gateway" / "values.schema.json").read_text())
    index["charts"]["gateway"] = {"typed": True, "paths": dict(sorted(schema_index(gateway_schema).items()))}
    return index


def render(index: dict[str, Any]) -> str:
    """The index as stored: one path per line, sorted, so that diffs between releases read well."""
    lines = ["{", f'  "version": {json.dumps(index["version"])},', '  "charts": {']
    charts = list(index["charts"].items())
    for number, (chart, facts) in enumerate(charts):
        lines.append(f'    "{chart}": {{')
        lines.append(f'      "typed": {json.dumps(facts["typed"])},')
        lines.append('      "paths": {')
        entries = list(facts["paths"].items())
        for position, (path, entry) in enumerate(entries):
            comma = "," if position < len(entries) - 1 else ""
            lines.append(f"        {json.dumps(path)}: {json.dumps(entry, sort_keys=True)}{comma}")
        lines.append("      }")
        lines.append("    }" + ("," if number < len(charts) - 1 else ""))
    lines.extend(["  }", "}", ""])
    return "\n".join(lines)


def release_of(charts: Path, given: str | None) -> str:
    """The charts' Istio release: `given`, else Chart.yaml's version unless a dev `1.0.0`, else the dir name."""
    if given:
        return given
    version = str(yaml.safe_load((charts / "base" / "Chart.yaml").read_text())["version"])
    if version != "1.0.0":
        return version
    match = re.search(r"(\d+\.\d+\.\d+)$", charts.resolve().name)
    if not match:
        sys.exit(f"{charts}: cannot tell the Istio release (Chart.yaml says 1.0.0): pass --version")
    return match[1]


def main(charts: Path, version: str | None = None, write: bool = False) -> int:
    """Run every check (storing the index first with `write`); 1 on any failure."""
    release = release_of(charts, version)
    minor = minor_of(release)
    if minor not in PATHS:
        print(f"FAIL Istio {release}: meshlib supports {', '.join(PATHS)} only")
        return 1
    failures = 0
    index = build_index(charts, release)
    target = INDEX_DIR / f"istio-{minor}.json"
    rendered = render(index)
    if write:
        target.write_text(rendered)
        print(f"wrote {target.relative_to(ROOT)}")
    elif not target.exists() or target.read_text() != rendered:
        failures += 1
        print(f"FAIL {target.relative_to(ROOT)} differs from the charts of {release}: rerun with --write")
    else:
        print(f"ok  {target.relative_to(ROOT)} matches the charts of {release}")
    if release != CHECKED_AGAINST[minor]:
        print(f"note: charts are {release}, meshlib's {minor} list was checked against {CHECKED_AGAINST[minor]}")
    for chart, wanted in PATHS[minor].items():
        facts = index["charts"][chart]
        chart_index = ChartIndex(chart, release, facts["typed"], facts["paths"])
        for path in sorted(wanted):
            ok = chart_index.known(path)
            failures += not ok
            print(f"{'ok ' if ok else 'MISSING'} {chart}@{release}: {path}")
    schema = json.loads((charts / "gateway" / "values.schema.json").read_text())
    for stack in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        spec = load_spec_file(stack)
        for cluster in plan_mesh(spec).clusters:
            values = gateway_values(spec, cluster, {"example/annotation": "x"}, "192.0.2.1", ["192.0.2.0/24"])
            assert all(covered(path, PATHS[minor]["gateway"]) for path in leaf_paths(values))
            try:
                jsonschema.validate(values, schema)
                print(f"ok  gateway schema: {stack.name} {cluster.name}")
            except jsonschema.ValidationError as error:
                failures += 1
                print(f"FAIL gateway schema: {stack.name} {cluster.name}: {error.message}")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("charts", type=Path, help="directory holding base/, istiod/, gateway/")
    parser.add_argument("--version", help="the charts' Istio release, when Chart.yaml does not say")
    parser.add_argument("--write", action="store_true", help="store the index instead of comparing with it")
    arguments = parser.parse_args()
    sys.exit(main(arguments.charts, arguments.version, arguments.write))
