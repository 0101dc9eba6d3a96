"""Run a fleet's stacks: each layer's stacks in parallel, layers in order (reverse for destroy).

`run_fleet` is the scheduler; a `Workspace` runs one stack. `AutomationWorkspace` does it
with the Pulumi Automation API (it needs the Pulumi CLI: `fleet_available`), tests with a fake.

On the first failure in a layer, the stacks of that layer already running finish, nothing
more starts, and the report says what succeeded, what failed and what never started. A
progress file (JSON, rewritten after every stack) lets `resume=True` skip the stacks that
already succeeded, as long as the action and the layout (stack names and reads) are the same.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from meshlib.fleet.config import fleet_config, fleet_stack_name, is_secure
from meshlib.fleet.layout import FleetLayout, FleetStack

__all__ = [
    "Action",
    "AutomationWorkspace",
    "FleetReport",
    "Workspace",
    "fleet_available",
    "layout_key",
    "run_fleet",
]

Action = Literal["up", "preview", "destroy"]
ACTIONS: tuple[Action, ...] = ("up", "preview", "destroy")
NO_CLI = (
    "fleet up/preview/destroy need the Pulumi CLI (https://www.pulumi.com/docs/install/); "
    "`fleet plan` plans every stack offline"
)


class Workspace(Protocol):
    """Runs one Pulumi stack; each method raises on failure."""

    def up(self, stack_name: str, config: Mapping[str, Any]) -> None:
        """Set the stack's config and deploy it."""

    def preview(self, stack_name: str, config: Mapping[str, Any]) -> None:
        """Set the stack's config and preview it."""

    def destroy(self, stack_name: str) -> None:
        """Destroy the stack's resources (the stack itself stays)."""

    def deployed(self, stack_name: str) -> bool:
        """Whether the stack exists and holds resources: a preview can read its outputs."""


def fleet_available() -> str | None:
    """Why `fleet up|preview|destroy` cannot run here (no Pulumi CLI), or None."""
    return NO_CLI if shutil.which("pulumi") is None else None


@dataclass(frozen=True)
class FleetReport:
    """What a fleet run did, by stack name (the layout's names, e.g. `istio-east`)."""

    action: Action
    succeeded: tuple[str, ...] = ()
    """Stacks this run completed, in completion order."""
    failed: Mapping[str, str] = field(default_factory=dict)
    """Stacks that failed, with the error's text."""
    not_started: tuple[str, ...] = ()
    """Stacks never started because a stack failed (in the order they would have run)."""
    skipped: tuple[str, ...] = ()
    """Stacks skipped on `resume`: a previous run recorded them as succeeded."""
    stopped_at_layer: int | None = None
    """The layer (index into `FleetLayout.layers`) where the run stopped; None when it completed."""
    not_previewable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """`preview` only: stacks not previewed, with the stacks they read that are not deployed yet
    (a StackReference to a stack that does not exist fails the preview)."""

    @property
    def ok(self) -> bool:
        """Every stack succeeded (now or in the run resumed)."""
        return not self.failed and not self.not_started

    def summary(self) -> str:
        """A few lines for a person."""
        lines = [f"fleet {self.action}: {'completed' if self.ok else f'stopped at layer {self.stopped_at_layer}'}"]
        if self.skipped:
            lines.append(f"  skipped (succeeded before): {', '.join(self.skipped)}")
        lines.append(f"  succeeded: {', '.join(self.succeeded) or 'none'}")
        for name, missing in self.not_previewable.items():
            lines.append(f"  not previewed: {name}: reads {', '.join(missing)}, not deployed yet")
        for name, error in self.failed.items():
            lines.append(f"  failed: {name}: {error.strip().splitlines()[-1] if error.strip() else 'error'}")
        if self.not_started:
            lines.append(f"  not started: {', '.join(self.not_started)}")
        if not self.ok:
            lines.append("  rerun with --resume to continue from the failed stacks")
        return "\n".join(lines)


def layout_key(layout: FleetLayout) -> str:
    """A hash of the layout's stack names and reads: a progress file is only valid for the same layout."""
    shape = [[stack.name, list(stack.needs)] for stack in layout.stacks]
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def run_fleet(
    layout: FleetLayout,
    base: str,
    action: Action,
    workspace: Workspace,
    concurrency: int = 4,
    progress_file: Path | None = None,
    resume: bool = False,
    on_event: Callable[[str], None] = print,
    *,
    base_config: Mapping[str, Any] | None = None,
) -> FleetReport:
    """Run `action` on every stack of the fleet of `base`; the report (never raises for a stack's failure).

    Layers run in order (reverse for destroy); a layer's stacks run in parallel, at most
    `concurrency` at once. `base_config` is the base stack file's `config:`: each stack gets
    `fleet_config(base_config, stack, base)`.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown fleet action {action!r} (one of {', '.join(ACTIONS)})")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    key = layout_key(layout)
    done = _resumed(progress_file, action, base, key, on_event) if resume else set()
    layers = list(enumerate(layout.layers))
    if action == "destroy":
        layers.reverse()
    succeeded: list[str] = []
    failed: dict[str, str] = {}
    skipped = [stack.name for _, layer in layers for stack in layer if stack.name in done]
    not_previewable: dict[str, tuple[str, ...]] = {}
    if action == "preview":  # a fresh fleet: preview what reads only deployed stacks, and say what waits
        deployed = {s.name for s in layout.stacks if workspace.deployed(fleet_stack_name(base, s))}
        for _, layer in layers:
            for stack in layer:
                missing = tuple(needed for needed in stack.needs if needed not in deployed)
                if missing:
                    not_previewable[stack.name] = missing
                    done.add(stack.name)
                    on_event(
                        f"fleet preview: {fleet_stack_name(base, stack)}: not previewed, reads {', '.join(missing)}"
                    )

    def record() -> None:
        if progress_file is not None:
            _write_progress(progress_file, action, base, key, [*sorted(done), *succeeded], failed)

    def run_one(stack: FleetStack) -> None:
        name = fleet_stack_name(base, stack)
        if action == "destroy":
            workspace.destroy(name)
        else:
            method = workspace.up if action == "up" else workspace.preview
            method(name, fleet_config(base_config or {}, stack, base))

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fleet") as pool:
        for position, (index, layer) in enumerate(layers):
            pending = [stack for stack in layer if stack.name not in done]
            if pending:
                on_event(f"fleet {action}: layer {index}: {', '.join(s.name for s in pending)}")
            running: dict[Future[None], FleetStack] = {}
            while pending or running:
                while pending and len(running) < concurrency and not failed:
                    stack = pending.pop(0)
                    on_event(f"fleet {action}: {fleet_stack_name(base, stack)}: started")
                    running[pool.submit(run_one, stack)] = stack
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: running[f].name):
                    stack = running.pop(future)
                    error = future.exception()
                    if error is None:
                        succeeded.append(stack.name)
                        on_event(f"fleet {action}: {fleet_stack_name(base, stack)}: succeeded")
                    else:
                        failed[stack.name] = str(error) or type(error).__name__
                        on_event(f"fleet {action}: {fleet_stack_name(base, stack)}: FAILED: {failed[stack.name]}")
                    record()
            if failed:
                later = [s.name for _, rest in layers[position + 1 :] for s in rest if s.name not in done]
                return FleetReport(
                    action,
                    tuple(succeeded),
                    failed,
                    tuple([s.name for s in pending] + later),
                    tuple(skipped),
                    index,
                    not_previewable,
                )
    if progress_file is not None and progress_file.exists():
        progress_file.unlink()  # nothing left to resume
    return FleetReport(action, tuple(succeeded), {}, (), tuple(skipped), None, not_previewable)


def _resumed(
    progress_file: Path | None, action: Action, base: str, key: str, on_event: Callable[[str], None]
) -> set[str]:
    """The stacks a previous run of the same action and layout recorded as succeeded."""
    if progress_file is None or not progress_file.is_file():
        on_event(f"fleet {action}: nothing to resume, running every stack")
        return set()
    try:
        progress = json.loads(progress_file.read_text())
    except (OSError, json.JSONDecodeError):
        progress = {}
    if not isinstance(progress, dict) or (progress.get("action"), progress.get("base"), progress.get("layout")) != (
        action,
        base,
        key,
    ):
        on_event(f"fleet {action}: {progress_file} is for another action or layout: running every stack")
        return set()
    return {str(name) for name in progress.get("succeeded", [])}


def _write_progress(
    path: Path, action: Action, base: str, key: str, succeeded: list[str], failed: Mapping[str, str]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"action": action, "base": base, "layout": key, "succeeded": succeeded, "failed": dict(failed)}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    temporary.replace(path)


class AutomationWorkspace:
    """A `Workspace` on the Pulumi Automation API, in the project directory (needs the Pulumi CLI).

    Config values come from the base stack (`pulumi config --show-secrets` of `base`), with
    their secret flags, for the keys of the config given; the other keys (the fleet keys)
    as given. Secrets thus stay secrets, encrypted by each fleet stack's own provider.
    """

    def __init__(self, project_dir: Path, base: str, on_output: Callable[[str], None] = print) -> None:
        self.project_dir = project_dir
        self.base = base
        self.on_output = on_output
        self._lock = threading.Lock()
        self._base_values: dict[str, Any] | None = None

    def up(self, stack_name: str, config: Mapping[str, Any]) -> None:
        """Select or create the stack, set its config, `pulumi up`."""
        self._configured(stack_name, config).up(on_output=self._printer(stack_name))

    def preview(self, stack_name: str, config: Mapping[str, Any]) -> None:
        """Select or create the stack, set its config, `pulumi preview`."""
        self._configured(stack_name, config).preview(on_output=self._printer(stack_name))

    def destroy(self, stack_name: str) -> None:
        """`pulumi destroy` the stack's resources; the stack (its history, its config) stays."""
        from pulumi import automation as auto

        try:
            stack = auto.select_stack(stack_name=stack_name, work_dir=str(self.project_dir))
        except auto.StackNotFoundError:
            self.on_output(f"[{stack_name}] no such stack: nothing to destroy")
            return
        stack.destroy(on_output=self._printer(stack_name))

    def deployed(self, stack_name: str) -> bool:
        """Whether `stack_name` exists and its state holds resources."""
        from pulumi import automation as auto

        try:
            stack = auto.select_stack(stack_name=stack_name, work_dir=str(self.project_dir))
        except auto.StackNotFoundError:
            return False
        deployment = stack.export_stack().deployment or {}
        return bool(deployment.get("resources"))

    def _configured(self, stack_name: str, config: Mapping[str, Any]) -> Any:
        from pulumi import automation as auto

        stack = auto.create_or_select_stack(stack_name=stack_name, work_dir=str(self.project_dir))
        known = self._base_config()
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key in known:  # as Pulumi holds it for the base stack: decrypted, with its secret flag
                values[key] = known[key]
            elif is_secure(value):
                raise ValueError(f"{key} is a secure value the base stack {self.base!r} does not hold")
            else:
                values[key] = auto.ConfigValue(value=_encoded(value))
        stack.set_all_config(values, path=False)
        return stack

    def _base_config(self) -> dict[str, Any]:
        """The base stack's config, decrypted, with secret flags (read once)."""
        from pulumi import automation as auto

        with self._lock:
            if self._base_values is None:
                base = auto.select_stack(stack_name=self.base, work_dir=str(self.project_dir))
                self._base_values = dict(base.get_all_config())
            return self._base_values

    def _printer(self, stack_name: str) -> Callable[[str], None]:
        def printed(line: str) -> None:
            self.on_output(f"[{stack_name}] {line.rstrip()}")

        return printed


def _encoded(value: Any) -> str:
    """A config value as `pulumi config set` takes it: text as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
