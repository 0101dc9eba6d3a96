"""Run a project's Pulumi program offline, on one stack's config, as `pulumi preview` would.

The run is deterministic and needs nothing from the machine it runs on: adopted
clusters get placeholder kubeconfig contexts, secret config values placeholders, and
provider functions canned answers (`meshlib.offline.invokes`).
"""

from __future__ import annotations

import base64
import contextlib
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from meshlib.offline.engine import MeshMocks, Run, run_program
from meshlib.offline.invokes import offline_invoke
from meshlib.spec.loader import NAMESPACE, load_spec_file, secret_keys
from meshlib.spec.models import MeshSpec

__all__ = ["OfflineStack", "find_project", "placeholder_kubeconfig", "plan_stack", "resolve_stack"]

_OFFLINE_KUBECONFIG = "offlinePlaceholderKubeconfig"
PLACEHOLDER_PEM = (
    "-----BEGIN PLACEHOLDER-----\n(secret: read by `pulumi up`, never offline)\n-----END PLACEHOLDER-----\n"
)


@dataclass(frozen=True)
class OfflineStack:
    """A stack to plan: its name, its config file and the project it belongs to."""

    name: str
    config_file: Path
    project: Path


def find_project(start: Path) -> Path:
    """The nearest directory at or above `start` holding `Pulumi.yaml`."""
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise FileNotFoundError(f"no Pulumi.yaml at or above {start}")


def resolve_stack(stack: str, cwd: Path) -> OfflineStack:
    """A stack by name (`stacks/Pulumi.<name>.yaml` of the project) or by config-file path."""
    candidate = Path(stack)
    if candidate.suffix in (".yaml", ".yml") and (cwd / candidate).is_file():
        path = (cwd / candidate).resolve()
        name = path.name.removeprefix("Pulumi.").removesuffix(path.suffix)
        return OfflineStack(name=name, config_file=path, project=find_project(path.parent))
    project = find_project(cwd)
    settings = yaml.safe_load((project / "Pulumi.yaml").read_text()) or {}
    config_dir = project / settings.get("stackConfigDir", ".")
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in config_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack {stack!r} in {config_dir} (stacks: {', '.join(known) or 'none'})")
    return OfflineStack(name=stack, config_file=path, project=project)


def plan_stack(stack: OfflineStack, preview: bool = True) -> tuple[MeshSpec, Run]:
    """Validate the stack's config, then run the project's `__main__.py` on the mock engine.

    Raises `meshlib.ConfigError` (a `pulumi.RunError`) for bad config, before any resource.
    """
    spec = load_spec_file(stack.config_file, stack.name)
    config = _config(stack.config_file)
    for key in secret_keys({k.removeprefix(f"{NAMESPACE}:"): v for k, v in config.items()}):
        config[f"{NAMESPACE}:{key}"] = _placeholder_secret(spec, key)
    contexts = _contexts(spec)
    if contexts:
        _adopt_placeholders(config, placeholder_kubeconfig(contexts))
    with _project_on_path(stack.project):
        run = run_program(
            lambda: runpy.run_path(str(stack.project / "__main__.py"), run_name="__main__"),
            preview=preview,
            config=config,
            mocks=MeshMocks(invoke=offline_invoke),
            project=_project_name(stack.project),
            stack=stack.name,
        )
    return spec, run


def _adopt_placeholders(config: dict[str, Any], kubeconfig: str) -> None:
    """Give adopted clusters read from files a placeholder kubeconfig in secret config instead.

    The plan must not depend on this machine, and writes no file (nothing shared between
    concurrent plans, nothing a symlink could redirect).
    """
    clusters = config.get(f"{NAMESPACE}:clusters")
    for cluster in clusters if isinstance(clusters, list) else []:
        settings = cluster.get("kubeconfig") if isinstance(cluster, dict) else None
        if isinstance(settings, dict) and not settings.get("secret"):
            settings.pop("path", None)
            settings["secret"] = _OFFLINE_KUBECONFIG
            config[f"{NAMESPACE}:{_OFFLINE_KUBECONFIG}"] = kubeconfig


def _contexts(spec: MeshSpec) -> list[str]:
    return list(dict.fromkeys(c.kubeconfig.context or c.name for c in spec.clusters if c.kubeconfig is not None))


def _config(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def _project_name(project: Path) -> str:
    settings = yaml.safe_load((project / "Pulumi.yaml").read_text()) or {}
    return str(settings.get("name", project.name))


def _placeholder_secret(spec: MeshSpec, key: str) -> str:
    for cluster in spec.clusters:
        if cluster.kubeconfig is not None and cluster.kubeconfig.secret == key:
            return placeholder_kubeconfig([cluster.kubeconfig.context or cluster.name])
    return PLACEHOLDER_PEM


def placeholder_kubeconfig(contexts: list[str]) -> str:
    """A kubeconfig with one context per name, each pointing at an unreachable placeholder server."""
    ca = base64.b64encode(PLACEHOLDER_PEM.encode()).decode()
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": contexts[0],
            "clusters": [
                {"name": c, "cluster": {"server": f"https://{c}.offline.invalid", "certificate-authority-data": ca}}
                for c in contexts
            ],
            "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
            "users": [{"name": c, "user": {}} for c in contexts],
        }
    )


@contextlib.contextmanager
def _project_on_path(project: Path) -> Iterator[None]:
    """Let the program import modules that live beside it, as `pulumi up` does."""
    entry = str(project)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)
