"""How planning a mesh scales with its size: resources, time and memory of the real program.

Builds synthetic meshes of 2, 4, 8, 16 and 32 clusters (half EKS, half GKE, each on its
own network; five exported services, each consumed by every other cluster), in
multi-primary and primary-remote mode (a quarter of the clusters primaries, the remotes
spread over them round-robin), and runs the ready program (`__main__.py`, via runpy) on
the mock engine (`meshlib.offline.engine`) with the offline invokes.

Preview mode by default: it is what `pulumi preview` of a new stack does (every output a
provider computes is unknown), it needs no fake cloud outputs, and it is the planning
step this benchmark is about. `--deployed` also runs the `apply` callbacks that turn
outputs into values (kubeconfigs, CIDR lists), with `tests.fakes` answering as the cloud.

Each size runs in a fresh subprocess, so its peak RSS is its own.

The baseline ("SDK alone"): in another fresh subprocess, the same engine (`run_program`,
`MeshMocks` with the offline invokes, preview mode) runs a program that registers as many
plain resources as the mesh did, in the same tree: every component the mesh registered
becomes a bare `ComponentResource` that creates its children in its `__init__`, every
custom resource a `pulumi.CustomResource` of the same type with a few inputs (a name,
labels, a small spec and one output of the first custom resource registered in the same
component), the same explicit providers (`pulumi.ProviderResource`) and the same reads.
The ratio meshlib / baseline is what meshlib's own code (spec, plan, typed provider SDK
classes, Output wiring) costs on top of what any program of that size pays the SDK.

    .venv/bin/python benchmarks/scale.py                 # the table
    .venv/bin/python benchmarks/scale.py --deployed      # the same with computed outputs
    .venv/bin/python benchmarks/scale.py --modes multi-primary --sizes 32 --repeat 3   # medians of 3
    .venv/bin/python benchmarks/scale.py --profile 32 multi-primary   # cProfile of one run

This is a script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = (2, 4, 8, 16, 32)
MODES = ("multi-primary", "primary-remote")
SERVICES = 5
BUDGET_SECONDS = 30.0
REMOTE_SECRET = re.compile(r"-watches-")
"""Resources of a `RemoteSecret` (the component, its reader token, the read-back and the secret)."""


def mesh_config(size: int, mode: str) -> dict[str, Any]:
    """Stack config (`mesh:*` keys) of a synthetic mesh of `size` clusters, CIDRs pinned as production meshes do."""
    clusters: list[dict[str, Any]] = []
    networks: dict[str, Any] = {}
    primaries = max(1, size // 4) if mode == "primary-remote" else size
    for index in range(size):
        name = f"c{index:02d}"
        cluster: dict[str, Any] = {"name": name, "network": f"net-{name}"}
        base = 4 * index
        if index % 2 == 0:
            cluster |= {"cloud": "aws", "region": "us-east-1"}
            cluster |= {"vpcCidr": f"10.{base}.0.0/16", "serviceCidr": f"10.{base + 1}.0.0/20"}
            networks[f"net-{name}"] = {"vpcCidr": f"10.{base + 2}.0.0/24"}
        else:
            cluster |= {"cloud": "gcp", "project": "bench-mesh", "region": "us-central1"}
            cluster |= {
                "podCidr": f"10.{base}.0.0/16",
                "nodeCidr": f"10.{base + 1}.0.0/20",
                "serviceCidr": f"10.{base + 1}.16.0/20",
                "masterCidr": f"10.{base + 1}.32.0/28",
            }
        if mode == "primary-remote":
            if index < primaries:
                cluster["role"] = "primary"
            else:
                cluster |= {"role": "remote", "primary": f"c{(index - primaries) % primaries:02d}"}
        clusters.append(cluster)
    names = [c["name"] for c in clusters]
    services = [
        {
            "name": f"svc{number}",
            "namespace": "default",
            "cluster": names[number * size // SERVICES % size],
            "consumers": [n for n in names if n != names[number * size // SERVICES % size]],
            "ports": [{"number": 8080, "name": "http", "protocol": "HTTP"}],
        }
        for number in range(SERVICES)
    ]
    return {
        "mesh:meshId": "bench",
        "mesh:mode": mode,
        "mesh:istio": {"version": "1.30.3"},
        "mesh:adminCidrs": ["198.51.100.0/24"],
        "mesh:clusters": clusters,
        "mesh:networks": networks,
        "mesh:services": services,
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _run(size: int, mode: str, deployed: bool) -> Any:
    from meshlib.offline.engine import MeshMocks, run_program
    from meshlib.offline.invokes import offline_invoke

    mocks = MeshMocks(invoke=offline_invoke)
    if deployed:
        from tests import fakes

        mocks.computed, mocks.invoke = fakes.outputs, fakes.call
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        preview=not deployed,
        config=mesh_config(size, mode),
        mocks=mocks,
        stack="bench",
    )


def _shape(resources: list[Any]) -> list[list[Any]]:
    """The registration tree of a run: [urn, type, custom, parent urn, provider urn, read] per resource."""
    return [
        [r.urn, r.type, r.custom, r.parent, r.provider.rsplit("::", 1)[0] if r.provider else "", r.read]
        for r in resources
    ]


def _baseline_program(shape: list[list[Any]]) -> None:
    """A program registering `shape` with bare SDK classes: the "SDK alone" cost of that many resources."""
    import pulumi

    by_urn = {entry[0]: entry for entry in shape}
    by_parent: dict[str, list[list[Any]]] = {}
    for entry in shape:
        by_parent.setdefault(entry[3] if entry[3] in by_urn else "", []).append(entry)
    made: dict[str, pulumi.Resource] = {}

    def create(entry: list[Any], parent: pulumi.Resource | None, previous: pulumi.Output[Any] | None) -> None:
        urn, type_, custom, _, provider_urn, read = entry
        name = urn.split("::")[-1]
        if urn in made:  # a provider another branch needed first
            return
        if not custom:
            made[urn] = Component(type_, name, urn, pulumi.ResourceOptions(parent=parent))
            return
        provider = None
        if provider_urn:
            if provider_urn not in made:
                create(by_urn[provider_urn], None, None)
            provider = made[provider_urn]
        opts = pulumi.ResourceOptions(parent=parent, provider=provider, id=f"{name}-id" if read else None)  # type: ignore[arg-type]
        if type_.startswith("pulumi:providers:"):
            made[urn] = pulumi.ProviderResource(
                type_.split(":")[-1], name, {"context": name, "namespace": "default"}, opts
            )
            return
        props: dict[str, Any] = {
            "name": name,
            "labels": {"app.kubernetes.io/name": name, "mesh": "bench"},
            "spec": {"port": 8080, "protocol": "HTTP", "enabled": True},
        }
        if previous is not None:
            props["ref"] = previous
        made[urn] = pulumi.CustomResource(type_, name, props, opts)

    def children(urn: str, parent: pulumi.Resource | None) -> None:
        # A star, not a chain: a component of a thousand children (the deploy-time checks) would otherwise
        # be a thousand-deep dependency chain, deeper than the SDK's cycle check can recurse.
        first: pulumi.Output[Any] | None = None
        for entry in by_parent.get(urn, []):
            create(entry, parent, first)
            resource = made[entry[0]]
            if first is None and isinstance(resource, pulumi.CustomResource):
                first = resource.id

    class Component(pulumi.ComponentResource):
        def __init__(self, type_: str, name: str, urn: str, opts: pulumi.ResourceOptions) -> None:
            super().__init__(type_, name, None, opts)
            children(urn, self)
            self.register_outputs({})

    children("", None)


def _run_baseline(shape: list[list[Any]]) -> Any:
    from meshlib.offline.engine import MeshMocks, run_program
    from meshlib.offline.invokes import offline_invoke

    return run_program(
        lambda: _baseline_program(shape),
        preview=True,
        config=mesh_config(2, "multi-primary"),
        mocks=MeshMocks(invoke=offline_invoke),
        stack="bench",
    )


def baseline_once(shape_file: str) -> dict[str, Any]:
    """The baseline for a shape (`_shape` of a mesh run), timed as `run_once` times the mesh.

    The process is warmed up as the mesh's is, with the same 2-cluster mesh run (so it has the
    same modules loaded, the same heap for the garbage collector to walk), then with a small
    baseline run.
    """
    sys.path.insert(0, str(ROOT))
    saved = json.loads(Path(shape_file).read_text())
    shape = saved["shape"]
    start = time.perf_counter()
    _run(2, saved["mode"], saved["deployed"])
    _run_baseline(_warmup_shape(shape))
    warmup = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    run = _run_baseline(shape)
    seconds = time.perf_counter() - start
    resources = len(run.resources)
    del run
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    _run_baseline(shape)
    seconds_gc_off = time.perf_counter() - start
    gc.enable()
    return {"resources": resources, "seconds": seconds, "seconds_gc_off": seconds_gc_off, "warmup_seconds": warmup}


def _warmup_shape(shape: list[list[Any]], size: int = 130) -> list[list[Any]]:
    """The first `size` registrations of `shape` whose parent and provider are in it too."""
    kept: list[list[Any]] = []
    urns: set[str] = set()
    for entry in shape:
        if (not entry[3] or entry[3] in urns or "pulumi:pulumi:Stack" in entry[3]) and (
            not entry[4] or entry[4] in urns
        ):
            kept.append(entry)
            urns.add(entry[0])
        if len(kept) >= size:
            break
    return kept


def run_once(
    size: int, mode: str, deployed: bool, profile: bool = False, shape_out: str | None = None
) -> dict[str, Any]:
    """Plan a mesh of `size` clusters once (after a 2-cluster warm-up run); figures as a dict.

    The warm-up pays the one-time costs (the cloud SDKs import their resource modules
    lazily, on first use), so that `seconds` is the planning itself; `warmup_seconds`
    shows what a cold process pays on top. The run is then repeated with the cyclic
    garbage collector off (`seconds_gc_off`), to show how much of the time it takes.
    """
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    _run(2, mode, deployed)
    warmup = time.perf_counter() - start
    gc.collect()
    rss_before = _rss_mib()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    run = _run(size, mode, deployed)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    peak = _rss_mib()
    kinds = Counter(r.type for r in run.resources)
    remote = sum(1 for r in run.resources if REMOTE_SECRET.search(r.name))
    figures: dict[str, Any] = {
        "size": size,
        "mode": mode,
        "resources": len(run.resources),
        "remote_secret_resources": remote,
        "remote_secrets": kinds["meshlib:index:RemoteSecret"],
        "per_cluster_other": (len(run.resources) - remote) / size,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "kinds": dict(sorted(kinds.items())),
    }
    if shape_out:
        Path(shape_out).write_text(json.dumps({"mode": mode, "deployed": deployed, "shape": _shape(run.resources)}))
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        figures["profile"] = out.getvalue()
    else:
        del run
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        _run(size, mode, deployed)
        figures["seconds_gc_off"] = time.perf_counter() - start
        gc.enable()
    return figures


def _subprocess(arguments: list[str], what: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{what}: failed\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(size: int, mode: str, deployed: bool, repeat: int = 1) -> dict[str, Any]:
    """`run_once` in a fresh interpreter (honest peak RSS, no warm caches), then the baseline in another.

    With `repeat` > 1, the pair runs that many times (mesh, baseline, mesh, baseline...) and every
    time is the median; `ratio` is the median of the per-pair ratios.
    """
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        shape = str(Path(scratch) / "shape.json")
        for _ in range(repeat):
            one = _subprocess(
                ["--one", str(size), mode, "--shape-out", shape] + (["--deployed"] if deployed else []),
                f"{size} clusters, {mode}",
            )
            one["baseline"] = _subprocess(["--baseline", shape], f"baseline of {size} clusters, {mode}")
            one["ratio"] = one["seconds"] / one["baseline"]["seconds"]
            runs.append(one)
    figures = dict(runs[len(runs) // 2])
    for key in ("seconds", "seconds_gc_off", "warmup_seconds", "ratio", "peak_rss_mib"):
        figures[key] = statistics.median(r[key] for r in runs)
    figures["baseline"] = {
        key: statistics.median(r["baseline"][key] for r in runs) for key in ("seconds", "seconds_gc_off")
    } | {"resources": runs[0]["baseline"]["resources"]}
    figures["ratios"] = [r["ratio"] for r in runs]
    figures["repeat"] = repeat
    return figures


def _short(kind: str) -> str:
    """`aws:eks/cluster:Cluster` -> `aws:eks:Cluster` (the module without its file)."""
    parts = kind.split(":")
    if len(parts) != 3:
        return kind
    return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"


def report(results: list[dict[str, Any]], deployed: bool) -> None:
    """Print the figures as Markdown tables."""
    print(
        f"# {'deployed' if deployed else 'preview'} mode, {time.strftime('%Y-%m-%d')}, "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()} {platform.system()}"
    )
    print()
    print(
        "| mode | clusters | resources | remote-secret resources (secrets) | other resources per cluster "
        "| seconds | ms per resource | seconds, GC off | cold start s | peak RSS MiB (before run) "
        "| baseline s (GC off) | baseline ms per resource | meshlib / baseline |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['mode']} | {r['size']} | {r['resources']} | {r['remote_secret_resources']} ({r['remote_secrets']}) "
            f"| {r['per_cluster_other']:.1f} | {r['seconds']:.2f} | {1000 * r['seconds'] / r['resources']:.2f} "
            f"| {r['seconds_gc_off']:.2f} | {r['warmup_seconds']:.1f} "
            f"| {r['peak_rss_mib']:.0f} ({r['rss_before_mib']:.0f}) "
            f"| {r['baseline']['seconds']:.2f} ({r['baseline']['seconds_gc_off']:.2f}) "
            f"| {1000 * r['baseline']['seconds'] / r['baseline']['resources']:.2f} "
            f"| {r['ratio']:.2f} ({', '.join(f'{x:.2f}' for x in r['ratios'])}) |"
        )
    print()
    print(f"Medians of {results[0]['repeat']} run(s) per size; in parentheses, the ratio of each run.")
    for mode in dict.fromkeys(r["mode"] for r in results):
        rows = [r for r in results if r["mode"] == mode]
        kinds = sorted({k for r in rows for k in r["kinds"]})
        print()
        print(f"Resources by kind, {mode}:")
        print()
        print("| kind | " + " | ".join(str(r["size"]) for r in rows) + " |")
        print("| --- |" + " ---: |" * len(rows))
        for kind in kinds:
            print(f"| {_short(kind)} | " + " | ".join(str(r["kinds"].get(kind, 0)) for r in rows) + " |")
    slowest = max(results, key=lambda r: r["seconds"])
    verdict = "within" if slowest["seconds"] < BUDGET_SECONDS else "OVER"
    print()
    print(
        f"Slowest: {slowest['size']} clusters {slowest['mode']} in {slowest['seconds']:.1f} s "
        f"({verdict} the {BUDGET_SECONDS:.0f} s budget)."
    )


def main() -> None:
    """Run every size and mode (or one, with --one/--profile) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployed", action="store_true", help="compute outputs with tests.fakes (not preview)")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "MODE"), help="run one size in this process, print JSON")
    parser.add_argument("--profile", nargs=2, metavar=("SIZE", "MODE"), help="cProfile one run and print the top")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated cluster counts")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (medians are reported)")
    parser.add_argument("--shape-out", help="with --one: write the registration tree (for --baseline) here")
    parser.add_argument("--baseline", metavar="SHAPE", help="run the SDK-alone baseline of a tree, print JSON")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(int(args.one[0]), args.one[1], args.deployed, shape_out=args.shape_out)))
        return
    if args.baseline:
        print(json.dumps(baseline_once(args.baseline)))
        return
    if args.profile:
        figures = run_once(int(args.profile[0]), args.profile[1], args.deployed, profile=True)
        print(f"{figures['resources']} resources in {figures['seconds']:.2f} s")
        print(figures["profile"])
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    modes = args.modes.split(",")
    results = [measure(size, mode, args.deployed, args.repeat) for mode in modes for size in sizes]
    report(results, args.deployed)


if __name__ == "__main__":
    main()
