"""`python -m meshlib`: offline plans and diffs of a stack, and the config reference.

    python -m meshlib plan [--stack NAME | PATH] [--format text|json|yaml|mermaid|svg] [--out DIR]
    python -m meshlib diff OLD.json NEW.json
    python -m meshlib diff --base REF [--stack NAME] [--markdown]
    python -m meshlib reference [--out FILE]
    python -m meshlib fleet up|preview|destroy|plan [--stack NAME] [--concurrency N] [--resume] [--write-config]

`plan` runs the project's own program (`__main__.py`, the code `pulumi up` runs) on
Pulumi's mock engine: no cloud account, no state backend, no Pulumi CLI. `fleet` runs the
mesh as many small stacks (`meshlib.fleet`): `fleet plan` offline, the others with the Pulumi CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pulumi
import yaml

from meshlib.fleet.config import base_stack_file, fleet_stack_name, read_base_config, write_fleet_configs
from meshlib.fleet.driver import AutomationWorkspace, fleet_available, run_fleet
from meshlib.fleet.layout import FleetLayout, plan_fleet
from meshlib.fleet.migrate import migration_script
from meshlib.fleet.offline import FleetPlan, managed, plan_fleet_offline
from meshlib.offline import svg
from meshlib.offline.diff import diff_plans, render_diff
from meshlib.offline.program import (
    OfflineStack,
    find_project,
    local_config,
    plan_stack,
    project_name,
    resolve_stack,
)
from meshlib.offline.render import (
    istio_manifests,
    mermaid,
    plan_document,
    release_values,
    resource_tree,
    revisions_text,
    summary_line,
    yaml_documents,
)
from meshlib.spec.loader import load_spec_file
from meshlib.spec.reference import config_reference

DEFAULT_STACK = "multi-primary"
EXIT_CHANGED = 1
EXIT_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except pulumi.RunError as error:  # bad config: the message alone, no traceback
        print(str(error), file=sys.stderr)
        return EXIT_ERROR
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"meshlib: {error}", file=sys.stderr)
        return EXIT_ERROR
    except json.JSONDecodeError as error:
        print(f"meshlib: a plan file is not JSON ({error}); make one with `plan --format json`", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m meshlib", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="plan a stack offline")
    plan.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name or config file (default {DEFAULT_STACK})")
    plan.add_argument(
        "--format",
        choices=["text", "json", "yaml", "mermaid", "svg"],
        default="text",
        help="text: resources, Helm values, Istio resources; json: for diff; yaml: values and manifests by "
        "cluster; mermaid/svg: the traffic diagram (svg needs the Mermaid CLI, mmdc)",
    )
    plan.add_argument("--out", type=Path, help="also write every format into this directory")
    plan.add_argument(
        "--config-file",
        type=Path,
        metavar="FILE",
        help="YAML file of mesh:* keys merged over the stack's config (values from ESC environments, "
        "which an offline plan cannot read)",
    )
    plan.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="mesh:KEY=VALUE",
        help="a mesh:* value merged over the stack's config, as `pulumi config set` takes it "
        "(e.g. mesh:adminCidrs='[\"203.0.113.7/32\"]'); repeatable, wins over --config-file",
    )
    plan.set_defaults(run=_plan)

    diff = commands.add_parser("diff", help="compare two plans; exit 1 when they differ")
    diff.add_argument("plans", nargs="*", type=Path, metavar="PLAN.json", help="old and new plan files")
    diff.add_argument("--base", help="plan the stack at this git revision and compare with the working tree")
    diff.add_argument("--stack", default=DEFAULT_STACK, help="the stack to compare with --base")
    diff.add_argument("--markdown", action="store_true", help="render for a pull-request comment")
    diff.add_argument(
        "--format", choices=["text", "json"], default="text", help="text (as `pulumi preview --diff`) or JSON for tools"
    )
    diff.set_defaults(run=_diff)

    reference = commands.add_parser("reference", help="print the config reference (Markdown)")
    reference.add_argument("--out", type=Path, help="write it to this file instead")
    reference.set_defaults(run=_reference)

    fleet = commands.add_parser("fleet", help="the mesh as many small stacks, run layer by layer")
    fleet.add_argument(
        "action",
        choices=["up", "preview", "destroy", "plan", "migrate"],
        help="up/preview/destroy every fleet stack (Pulumi CLI); plan: the layers and what each stack reads, offline; "
        "migrate: the `pulumi state move` script that moves a single-stack mesh into its fleet",
    )
    fleet.add_argument(
        "--stack", default=DEFAULT_STACK, help=f"the base stack, name or config file (default {DEFAULT_STACK})"
    )
    fleet.add_argument("--concurrency", type=int, default=4, metavar="N", help="stacks run at once (default 4)")
    fleet.add_argument("--resume", action="store_true", help="skip the stacks the last, stopped run completed")
    fleet.add_argument(
        "--write-config",
        action="store_true",
        help="plan: write every fleet stack's Pulumi.<base>.<stack>.yaml next to the base stack file",
    )
    fleet.set_defaults(run=_fleet)
    return parser


def _plan(args: argparse.Namespace) -> int:
    stack = resolve_stack(args.stack, Path.cwd(), local_config(args.config_file, args.set))
    if args.format == "svg" and not shutil.which("mmdc"):  # say so before planning
        print(f"meshlib: {svg.INSTALL_HINT}", file=sys.stderr)
        return EXIT_ERROR
    document, outputs = _planned(stack)
    if args.format == "svg":
        try:
            outputs["svg"] = svg.render_svg(outputs["mermaid"])
        except svg.SvgUnavailable as error:
            print(f"meshlib: {error}", file=sys.stderr)
            return EXIT_ERROR
    print(outputs[args.format], end="")
    if args.out:
        _write_all(args.out, outputs)
        print(f"meshlib: wrote {', '.join(sorted(outputs))} outputs to {args.out}", file=sys.stderr)
    return 0


def _planned(stack: OfflineStack) -> tuple[dict[str, Any], dict[str, str]]:
    started = time.perf_counter()
    print(f"meshlib: planning stack {stack.name!r} offline ({stack.config_file})", file=sys.stderr)
    spec, run = plan_stack(stack)
    for warning in dict.fromkeys(run.warnings):
        print(f"meshlib: warning: {warning}", file=sys.stderr)
    print(
        f"meshlib: {len(run.resources)} resources registered in {time.perf_counter() - started:.1f}s", file=sys.stderr
    )
    document = plan_document(stack.name, spec, run)
    values = release_values(spec, run)
    manifests = istio_manifests(spec, run)
    summary = summary_line(spec, run)
    text = "\n".join(
        [
            f"Stack {stack.name}: resources",
            resource_tree(run),
            "Istio revisions (tags: namespaces labelled istio.io/rev=<tag>; default: istio-injection=enabled)",
            revisions_text(spec),
            "Helm releases (fromConfig: the values your config overrides)",
            yaml_documents(values),
            "CA certificates (expiry: stack output certificateExpiry after `pulumi up`)",
            *(f"  {name}: {lifetime}" for name, lifetime in document["certificates"].items()),
            "",
            *(f"Istio resources in {cluster}\n{yaml_documents(found)}" for cluster, found in manifests.items()),
            f"Summary: {summary}",
            "",
        ]
    )
    outputs = {
        "text": text,
        "json": json.dumps(document, indent=2, sort_keys=True) + "\n",
        "yaml": "# Helm releases (values as meshlib sets them)\n"
        + yaml_documents(values)
        + "".join(
            f"# Istio resources of cluster {cluster}: `kubectl --context <{cluster}> apply -f -` takes this group\n"
            + yaml_documents(found)
            for cluster, found in manifests.items()
        ),
        "mermaid": mermaid(spec),
    }
    return document, outputs


def _write_all(directory: Path, outputs: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    names = {"text": "plan.txt", "json": "plan.json", "yaml": "plan.yaml", "mermaid": "mesh.mmd", "svg": "mesh.svg"}
    for key, content in outputs.items():
        (directory / names[key]).write_text(content)


def _diff(args: argparse.Namespace) -> int:
    if args.base:
        if args.plans:
            raise FileNotFoundError("give either two plan files or --base, not both")
        _check_revision(args.base)  # before planning anything: a typo'd ref fails at once, with git's words
        new, _ = _planned(resolve_stack(args.stack, Path.cwd()))
        old = _plan_at_revision(args.base, args.stack)
        title = f"stack {args.stack}: {args.base} -> working tree"
    else:
        if len(args.plans) != 2:
            raise FileNotFoundError("diff needs OLD.json and NEW.json (or --base REF)")
        old, new = (json.loads(path.read_text()) for path in args.plans)
        title = f"{args.plans[0]} -> {args.plans[1]}"
    result = diff_plans(old, new)
    if args.format == "json":
        print(json.dumps({"title": title, **result.as_json()}, indent=2, sort_keys=True))
    else:
        print(render_diff(result, title, markdown=args.markdown), end="")
    return 0 if result.empty else EXIT_CHANGED


def _check_revision(revision: str) -> None:
    found = subprocess.run(
        ["git", "-C", str(find_project(Path.cwd())), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        shown = subprocess.run(
            ["git", "-C", str(find_project(Path.cwd())), "rev-parse", "--verify", revision],
            capture_output=True,
            text=True,
        )
        raise FileNotFoundError(shown.stderr.strip() or f"{revision!r} is not a git revision here")


def _plan_at_revision(revision: str, stack: str) -> dict[str, Any]:
    """Plan `stack` with the code and config of git `revision` (an empty plan if it had no such stack)."""
    project = find_project(Path.cwd())
    top = Path(_git(project, "rev-parse", "--show-toplevel").strip())
    inner = project.relative_to(top)
    with tempfile.TemporaryDirectory(prefix="meshlib-base-") as directory:
        archive = subprocess.run(["git", "-C", str(top), "archive", revision], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
        base_project = Path(directory) / inner
        settings = yaml.safe_load((base_project / "Pulumi.yaml").read_text()) or {}
        if not (base_project / settings.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml").is_file():
            return {"resources": []}
        result = subprocess.run(
            [sys.executable, "-m", "meshlib", "plan", "--stack", stack, "--format", "json"],
            cwd=base_project,
            env={**os.environ, "PYTHONPATH": str(base_project)},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise FileNotFoundError(f"planning {stack!r} at {revision} failed:\n{result.stderr.strip()}")
        return json.loads(result.stdout)  # type: ignore[no-any-return]


def _git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True, text=True).stdout


def _fleet(args: argparse.Namespace) -> int:
    if args.action == "migrate":
        found = resolve_stack(args.stack, Path.cwd())
        print(migration_script(plan_fleet_offline(found), found.name, project_name(found.project)), end="")
        return 0
    if args.action != "plan":
        missing = fleet_available()
        if missing:
            print(f"meshlib: {missing}", file=sys.stderr)
            return EXIT_ERROR
    if args.concurrency < 1:
        print("meshlib: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    stack = resolve_stack(args.stack, Path.cwd())
    layout = plan_fleet(load_spec_file(stack.config_file, stack.name))
    command = f"python -m meshlib fleet plan --stack {args.stack} --write-config"  # what writes the stack files
    if args.action == "plan":
        print(_fleet_layout_text(stack.name, layout), end="")
        if args.write_config:
            written = write_fleet_configs(
                stack.project, stack.name, config_file=stack.config_file, layout=layout, command=command
            )
            print(f"meshlib: wrote {len(written)} stack files to {stack.config_file.parent}", file=sys.stderr)
        print(_fleet_resources_text(plan_fleet_offline(stack)), end="")
        return 0
    if stack.config_file.resolve() != base_stack_file(stack.project, stack.name).resolve():
        print(
            f"meshlib: fleet {args.action} needs a stack of the project (stacks/Pulumi.<name>.yaml), "
            f"not {stack.config_file}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.action != "destroy":  # every fleet stack's file, current with the base stack's
        write_fleet_configs(stack.project, stack.name, config_file=stack.config_file, layout=layout, command=command)
    base_config, _ = read_base_config(stack.config_file)
    report = run_fleet(
        layout,
        stack.name,
        args.action,
        AutomationWorkspace(stack.project, stack.name),
        concurrency=args.concurrency,
        progress_file=_progress_file(stack.project, stack.name),
        resume=args.resume,
        base_config=base_config,
    )
    print(report.summary())
    return 0 if report.ok else 1


def _fleet_layout_text(base: str, layout: FleetLayout) -> str:
    """The layers, then each stack and what it reads."""
    lines = [f"Fleet of stack {base}: {len(layout.stacks)} stacks in {len(layout.layers)} layers"]
    lines += [f"layer {index}: {', '.join(s.name for s in layer)}" for index, layer in enumerate(layout.layers)]
    lines.append("Stacks (Pulumi stack: the stacks whose outputs it reads)")
    for layer in layout.layers:
        for stack in layer:
            lines.append(f"  {fleet_stack_name(base, stack)}: {', '.join(stack.needs) or 'nothing'}")
    return "\n".join(lines) + "\n"


def _fleet_resources_text(plan: FleetPlan) -> str:
    """Per stack, the resources it manages (as each stack's offline run registers them), and the largest."""
    lines = ["Resources per stack (planned offline, every stack with the outputs of those it reads)"]
    for layer in plan.layout.layers:
        for stack in layer:
            lines.append(f"  {stack.name}: {managed(plan.runs[stack.name])}")
    name, count = plan.largest
    lines.append(f"Largest stack: {name} ({count} resources)")
    return "\n".join(lines) + "\n"


def _progress_file(project: Path, base: str) -> Path:
    """`.meshlib/fleet-<base>.json` in the project: a directory that ignores itself in git."""
    directory = project / ".meshlib"
    directory.mkdir(exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# local state of `python -m meshlib fleet` (progress of a stopped run)\n*\n")
    return directory / f"fleet-{base.replace('/', '_')}.json"


def _reference(args: argparse.Namespace) -> int:
    text = config_reference()
    if args.out:
        args.out.write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
