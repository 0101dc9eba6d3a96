"""Check meshlib's Helm value paths against real Istio charts.

Usage: python scripts/check_chart_values.py CHARTS_DIR

CHARTS_DIR holds unpacked charts `base/`, `istiod/` and `gateway/` of the Istio
release named by `meshlib.plan.value_paths.CHECKED_AGAINST` (e.g. from
`helm pull istio/<chart> --version <v> --untar`). Every path meshlib sets must exist
in the chart's values.yaml (or be a top-level key the chart reads, like `profile`),
and gateway values of every example stack must pass the gateway chart's schema.
Prints one line per check and exits 1 on any failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from meshlib.plan import gateway_values, plan_mesh
from meshlib.plan.value_paths import CHECKED_AGAINST, PATHS, covered, leaf_paths
from meshlib.spec import load_spec_file

# Read by the charts' templates though absent from their values.yaml (profiles, revisions; istiod's
# validatingwebhookconfiguration.yaml reads `.Values.base.validationURL`; the reader-clusterrole templates
# read `global.enableReaderRBAC` with `dig`).
TEMPLATE_KEYS = {"profile", "revision", "defaultRevision", "base.validationURL", "global.enableReaderRBAC"}
ROOT = Path(__file__).resolve().parent.parent


def _all_paths(values: dict[str, Any]) -> set[str]:
    values = {**values, **values.pop("_internal_defaults_do_not_set", {})}
    paths: set[str] = set()

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{prefix}{key}"
                paths.add(path)
                walk(value, f"{path}.")

    walk(values, "")
    return paths


def main(charts: Path) -> int:
    failures = 0
    for chart, wanted in PATHS.items():
        chart_dir = charts / chart
        version = yaml.safe_load((chart_dir / "Chart.yaml").read_text())["version"]
        known = _all_paths(yaml.safe_load((chart_dir / "values.yaml").read_text()))
        for path in sorted(wanted):
            ok = path in known or path in TEMPLATE_KEYS or path.startswith("meshConfig.")
            failures += not ok
            print(f"{'ok ' if ok else 'MISSING'} {chart}@{version}: {path}")
        if version != CHECKED_AGAINST:
            print(f"note: {chart} is {version}, meshlib's list was checked against {CHECKED_AGAINST}")
    schema = json.loads((charts / "gateway" / "values.schema.json").read_text())
    for stack in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        spec = load_spec_file(stack)
        for cluster in plan_mesh(spec).clusters:
            values = gateway_values(spec, cluster, {"example/annotation": "x"}, "192.0.2.1", ["192.0.2.0/24"])
            assert all(covered(path, PATHS["gateway"]) for path in leaf_paths(values))
            try:
                jsonschema.validate(values, schema)
                print(f"ok  gateway schema: {stack.name} {cluster.name}")
            except jsonschema.ValidationError as error:
                failures += 1
                print(f"FAIL gateway schema: {stack.name} {cluster.name}: {error.message}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
