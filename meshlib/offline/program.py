"""Run a project's Pulumi program offline, on one stack's config, as `pulumi preview` would.

The run is deterministic and needs nothing from the machine it runs on: adopted
clusters get placeholder kubeconfig contexts, secret config values placeholders, and
provider functions canned answers (`meshlib.offline.invokes`).

Values a stack takes from Pulumi ESC environments (the stack file's `environment:` key)
cannot be read offline: they come from a local file (`--config-file`) or `--set` flags
instead, merged over the stack file's config (`local_config`).
"""

from __future__ import annotations

import base64
import contextlib
import re
import runpy
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from meshlib.offline.engine import Computed, MeshMocks, Run, run_program
from meshlib.offline.invokes import offline_invoke, placeholder_notes
from meshlib.spec.loader import FLEET_BASE_KEY, NAMESPACE, _as_pulumi_gives, parse_spec, secret_keys
from meshlib.spec.models import MeshSpec
from meshlib.spec.problems import ConfigError, Problem

__all__ = [
    "OfflineStack",
    "UnresolvedEnvironmentError",
    "environments",
    "find_project",
    "local_config",
    "placeholder_kubeconfig",
    "plan_stack",
    "project_name",
    "resolve_stack",
]

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
    overrides: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """`mesh:*` values merged over the stack file's config (from `local_config`)."""

    @property
    def environments(self) -> list[str]:
        """The Pulumi ESC environments the stack file imports."""
        return environments(self.config_file)


class UnresolvedEnvironmentError(ConfigError):
    """The config is invalid where values may come from ESC environments an offline plan cannot read."""

    def __init__(self, problems: Sequence[Problem], stack: OfflineStack, unresolved: Sequence[str]) -> None:
        super().__init__(problems)
        self.environments = stack.environments
        self.unresolved = tuple(unresolved)
        plural = "s" if len(self.environments) != 1 else ""
        keys = ", ".join(self.unresolved)
        admin = f"{NAMESPACE}:adminCidrs"
        setting = f"{admin}='[\"203.0.113.7/32\"]'" if admin in self.unresolved else f"{self.unresolved[0]}=VALUE"
        argument = _stack_argument(stack)
        self.args = (
            f"{self.args[0]}\n"
            f"The stack imports Pulumi ESC environment{plural} {', '.join(map(repr, self.environments))}, which an "
            f"offline plan cannot read: {keys} {'is' if len(self.unresolved) == 1 else 'are'} not set in "
            f"{stack.config_file.name} and may come from {'them' if plural else 'it'}.\n"
            "Give such values locally (merged over the stack file's config):\n"
            f"  python -m meshlib plan --stack {argument} --config-file local.yaml   (a YAML file of mesh:* keys)\n"
            f"  python -m meshlib plan --stack {argument} --set {setting}   (as `pulumi config set` takes it)",
        )


def find_project(start: Path) -> Path:
    """The nearest directory at or above `start` holding `Pulumi.yaml`."""
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise FileNotFoundError(f"no Pulumi.yaml at or above {start}")


def resolve_stack(stack: str, cwd: Path, overrides: Mapping[str, Any] | None = None) -> OfflineStack:
    """A stack by name (`stacks/Pulumi.<name>.yaml` of the project) or by config-file path.

    `overrides` (`mesh:*` keys, see `local_config`) are merged over the stack file's config.
    """
    found = _locate(stack, cwd)
    return OfflineStack(found.name, found.config_file, found.project, overrides=dict(overrides or {}))


def _locate(stack: str, cwd: Path) -> OfflineStack:
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


def plan_stack(stack: OfflineStack, preview: bool = True, computed: Computed | None = None) -> tuple[MeshSpec, Run]:
    """Validate the stack's config, then run the project's `__main__.py` on the mock engine.

    Raises `meshlib.ConfigError` (a `pulumi.RunError`) for bad config, before any resource;
    `UnresolvedEnvironmentError` when keys missing from it may come from ESC environments.
    `computed` gives resources' outputs (a fleet stack's StackReferences: the earlier stacks' outputs).
    """
    config = {**_config(stack.config_file), **stack.overrides}
    spec = _spec(stack, config)
    for key in secret_keys({k.removeprefix(f"{NAMESPACE}:"): v for k, v in config.items()}):
        config[f"{NAMESPACE}:{key}"] = _placeholder_secret(spec, key)
    contexts = _contexts(spec)
    if contexts:
        _adopt_placeholders(config, placeholder_kubeconfig(contexts))
    with _project_on_path(stack.project), _explaining_environments(stack, config):
        run = run_program(
            lambda: runpy.run_path(str(stack.project / "__main__.py"), run_name="__main__"),
            preview=preview,
            config=config,
            mocks=MeshMocks(invoke=offline_invoke, computed=computed) if computed else MeshMocks(invoke=offline_invoke),
            project=project_name(stack.project),
            stack=stack.name,
        )
    run.warnings.extend(placeholder_notes(run.mocks.calls))
    if stack.environments:
        given = f", with {', '.join(sorted(stack.overrides))} given locally" if stack.overrides else ""
        run.warnings.append(
            f"the stack imports Pulumi ESC environment(s) {', '.join(stack.environments)}, which an offline plan "
            f"cannot read: planned from {stack.config_file.name}{given}"
        )
    return spec, run


def environments(config_file: Path) -> list[str]:
    """The Pulumi ESC environments a stack file imports (its `environment:` key).

    Pulumi takes a list of names; the older `environment: {imports: [...]}` form too. An
    entry may be a name or a one-key mapping `{name: {merge: false}}`.
    """
    document = yaml.safe_load(config_file.read_text()) or {}
    imports = document.get("environment") if isinstance(document, dict) else None
    if isinstance(imports, dict):
        imports = imports.get("imports")
    if isinstance(imports, str):
        imports = [imports]
    names: list[str] = []
    for entry in imports if isinstance(imports, list) else []:
        if isinstance(entry, dict):
            names.extend(str(name) for name in entry)
        elif entry is not None:
            names.append(str(entry))
    return names


def local_config(config_file: Path | None = None, settings: Sequence[str] = ()) -> dict[str, Any]:
    """`mesh:*` values given locally, for what an offline plan cannot read (ESC environments).

    `config_file` is YAML: a mapping of `mesh:*` keys, or a stack file's shape (`config:`).
    `settings` are `mesh:key=value` as `pulumi config set mesh:key value` takes them (JSON
    or plain text); they win over the file. Raises `pulumi.RunError` for anything else.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        document = yaml.safe_load(config_file.read_text()) or {}
        if isinstance(document, dict) and isinstance(document.get("config"), dict):
            document = document["config"]
        if not isinstance(document, dict):
            raise pulumi.RunError(f"{config_file}: expected a YAML mapping of {NAMESPACE}:* config keys")
        values.update({str(key): value for key, value in document.items()})
    for setting in settings:
        key, equals, value = setting.partition("=")
        if not equals:
            raise pulumi.RunError(f"--set {setting}: expected {NAMESPACE}:KEY=VALUE")
        values[key.strip()] = value
    foreign = [key for key in values if not re.fullmatch(rf"{NAMESPACE}:\w+", key)]
    if foreign:
        raise pulumi.RunError(
            f"local config: only top-level {NAMESPACE}:* keys can be given (not {', '.join(foreign)}); "
            f"give a whole value, e.g. {NAMESPACE}:clusters as a YAML list"
        )
    return values


def _spec(stack: OfflineStack, config: Mapping[str, Any]) -> MeshSpec:
    """The validated spec of the stack's config, as `load_spec_file` reads a stack file."""
    prefix = f"{NAMESPACE}:"
    raw = {key[len(prefix) :]: _as_pulumi_gives(value) for key, value in config.items() if key.startswith(prefix)}
    with _explaining_environments(stack, config):
        return parse_spec(raw, str(config.get(FLEET_BASE_KEY) or stack.name))


@contextlib.contextmanager
def _explaining_environments(stack: OfflineStack, config: Mapping[str, Any]) -> Iterator[None]:
    """Turn a `ConfigError` about keys the stack file does not set into `UnresolvedEnvironmentError`
    when the stack imports ESC environments (which may well set them)."""
    try:
        yield
    except UnresolvedEnvironmentError:
        raise
    except ConfigError as error:
        unset = sorted({key for key in (_top_level(p.key) for p in error.problems) if key not in config})
        if not unset or not stack.environments:
            raise
        raise UnresolvedEnvironmentError(error.problems, stack, unset) from None


def _top_level(key: str) -> str:
    """`mesh:clusters[1].network` -> `mesh:clusters`."""
    return re.split(r"[.\[]", key, maxsplit=1)[0]


def _stack_argument(stack: OfflineStack) -> str:
    """How to name the stack on the command line: its name if that finds it, else its file."""
    with contextlib.suppress(FileNotFoundError):
        if _locate(stack.name, Path.cwd()).config_file.resolve() == stack.config_file.resolve():
            return stack.name
    with contextlib.suppress(ValueError):
        return str(stack.config_file.relative_to(Path.cwd()))
    return str(stack.config_file)


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


def project_name(project: Path) -> str:
    """The Pulumi project's name (`name` in its Pulumi.yaml)."""
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
