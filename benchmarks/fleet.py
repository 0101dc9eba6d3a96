"""How a mesh splits into a fleet of stacks: stacks, layers, the largest stack, and offline plan time.

For synthetic meshes of 8, 32 and 64 clusters (`benchmarks.scale.mesh_config`: half EKS, half GKE,
each on its own network, five exported services consumed by every other cluster), in
multi-primary and primary-remote mode (a quarter of the clusters primaries):

- the fleet's shape from `meshlib.fleet.layout.plan_fleet`: the number of stacks and of layers
  (the deploy's critical path, in stacks);
- every fleet stack planned offline, sequentially, in layer order, each with the outputs of the
  stacks it reads (`meshlib.fleet.offline.plan_fleet_offline`, what `python -m meshlib fleet plan`
  does): the largest stack's managed resources and which stack it is, the total across stacks,
  and the wall time of the whole fleet's plan;
- the single-stack plan of the same mesh (`meshlib.offline.program.plan_stack`, what
  `python -m meshlib plan` does) and its managed resources and wall time.

The config is written to a temporary stack file `Pulumi.bench.yaml` (`config:` of `mesh:*` keys)
and planned as a stack of the repository's project (the ready program, `__main__.py`), in preview
mode. Each plan (the fleet's, the single stack's) runs in a fresh subprocess, after a 2-cluster
warm-up plan in that process (the cloud SDKs import their modules on first use); a plan that
takes longer than `--timeout` seconds (default 240) is stopped and reported as such.

    .venv/bin/python benchmarks/fleet.py                        # the table (about 10 min on 2 cores)
    .venv/bin/python benchmarks/fleet.py --sizes 8 --modes primary-remote
    .venv/bin/python benchmarks/fleet.py --one fleet 32 multi-primary   # one plan in this process, JSON

This is a script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/fleet.py`: import meshlib and benchmarks.scale from the repo
    sys.path.insert(0, str(ROOT))

from benchmarks.scale import MODES, mesh_config  # noqa: E402

SIZES = (8, 32, 64)
KINDS = ("fleet", "single")
TIMEOUT_SECONDS = 240.0
GOAL_LARGEST = 300
"""Issue 15: the largest stack stays under 300 resources at 64 clusters."""
BASE = "bench"


def _stack(size: int, mode: str, directory: Path) -> Any:
    """An `OfflineStack` of the repository's project on a stack file of the synthetic mesh."""
    import yaml

    from meshlib.offline.program import OfflineStack

    path = directory / f"Pulumi.{BASE}.yaml"
    path.write_text(yaml.safe_dump({"config": mesh_config(size, mode)}, sort_keys=False))
    return OfflineStack(BASE, path, ROOT)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_once(kind: str, size: int, mode: str) -> dict[str, Any]:
    """Plan the fleet (every stack) or the single stack of a mesh of `size` clusters; figures as a dict."""
    from meshlib.fleet.offline import managed, plan_fleet_offline
    from meshlib.offline.program import plan_stack

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        plan_stack(_stack(2, mode, directory))  # warm-up: the SDKs' lazy imports
        stack = _stack(size, mode, directory)
        gc.collect()
        start = time.perf_counter()
        if kind == "fleet":
            plan = plan_fleet_offline(stack)
            seconds = time.perf_counter() - start
            counts = {name: managed(run) for name, run in plan.runs.items()}
            largest, largest_count = plan.largest
            return {
                "kind": kind,
                "size": size,
                "mode": mode,
                "seconds": seconds,
                "stacks": len(plan.layout.stacks),
                "layers": len(plan.layout.layers),
                "largest": largest,
                "largest_resources": largest_count,
                "total_resources": sum(counts.values()),
                "by_kind": _largest_by_kind(counts),
                "peak_rss_mib": _rss_mib(),
            }
        _, run = plan_stack(stack)
        seconds = time.perf_counter() - start
        return {
            "kind": kind,
            "size": size,
            "mode": mode,
            "seconds": seconds,
            "total_resources": managed(run),
            "peak_rss_mib": _rss_mib(),
        }


def _largest_by_kind(counts: dict[str, int]) -> dict[str, list[Any]]:
    """Per stack kind (`trust`, `network`, `cluster`...), its largest stack and that stack's count."""
    found: dict[str, list[Any]] = {}
    for name, count in counts.items():
        kind = name.split("-", 1)[0]
        if kind not in found or count > found[kind][1]:
            found[kind] = [name, count]
    return found


def measure(kind: str, size: int, mode: str, timeout: float) -> dict[str, Any]:
    """`run_once` in a fresh interpreter; `{"timeout": seconds}` when it runs longer than `timeout`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--one", kind, str(size), mode],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"kind": kind, "size": size, "mode": mode, "timeout": timeout}
    if done.returncode != 0:
        raise SystemExit(f"{kind} plan of {size} clusters, {mode}: failed\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _seconds(figures: dict[str, Any]) -> str:
    if "timeout" in figures:
        return f"over {figures['timeout']:.0f} (stopped)"
    return f"{figures['seconds']:.1f}"


def report(rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Print the figures as a Markdown table (fleet and single-stack plan of each mesh)."""
    print(
        f"# preview mode, {time.strftime('%Y-%m-%d')}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}"
    )
    print()
    print(
        "| mode | clusters | stacks | layers | largest stack (resources) | resources, all stacks "
        "| single stack: resources | fleet plan s (peak RSS MiB) | single-stack plan s (peak RSS MiB) |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for fleet, single in rows:
        if "timeout" in fleet:
            shape = "| | | (not measured) | "
        else:
            shape = (
                f"| {fleet['stacks']} | {fleet['layers']} | `{fleet['largest']}` ({fleet['largest_resources']}) "
                f"| {fleet['total_resources']} "
            )
        single_resources = "" if "timeout" in single else str(single["total_resources"])
        print(
            f"| {fleet['mode']} | {fleet['size']} {shape}| {single_resources} "
            f"| {_seconds(fleet)}{_rss(fleet)} | {_seconds(single)}{_rss(single)} |"
        )
    print()
    print("Largest stack of each kind (resources):")
    print()
    for fleet, _ in rows:
        if "by_kind" in fleet:
            kinds = ", ".join(f"{kind} `{name}` {count}" for kind, (name, count) in fleet["by_kind"].items())
            print(f"- {fleet['mode']}, {fleet['size']} clusters: {kinds}")
    largest = [f for f, _ in rows if "largest_resources" in f and f["size"] == max(SIZES)]
    for fleet in largest:
        verdict = "under" if fleet["largest_resources"] < GOAL_LARGEST else "OVER"
        print()
        print(
            f"{fleet['mode']}, {fleet['size']} clusters: largest stack `{fleet['largest']}` with "
            f"{fleet['largest_resources']} resources ({verdict} the goal of {GOAL_LARGEST})."
        )


def _rss(figures: dict[str, Any]) -> str:
    return f" ({figures['peak_rss_mib']:.0f})" if "peak_rss_mib" in figures else ""


def main() -> None:
    """Measure every size and mode (or one plan, with --one) and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--one", nargs=3, metavar=("KIND", "SIZE", "MODE"), help="fleet|single: one plan, JSON")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated cluster counts")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds before a plan is stopped")
    args = parser.parse_args()
    if args.one:
        kind, size, mode = args.one
        if kind not in KINDS:
            parser.error(f"KIND is one of {', '.join(KINDS)}")
        print(json.dumps(run_once(kind, int(size), mode)))
        return
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for mode in args.modes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            fleet = measure("fleet", size, mode, args.timeout)
            single = measure("single", size, mode, args.timeout)
            print(f"{mode} {size}: fleet {_seconds(fleet)} s, single {_seconds(single)} s", file=sys.stderr)
            rows.append((fleet, single))
    report(rows)


if __name__ == "__main__":
    main()
