"""Load the mesh spec from Pulumi config or from a `Pulumi.<stack>.yaml` file.

Both loaders go through `parse_spec`: shape checks (pydantic), cross-field rules,
then dependent defaults. Any problem raises one `ConfigError` (a `pulumi.RunError`)
listing all of them, before a single resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pydantic import BaseModel, ValidationError

from meshlib.spec import rules
from meshlib.spec.cluster_ca import cluster_ca_problems
from meshlib.spec.defaults import clashes, fill_defaults
from meshlib.spec.kubeconfigs import kubeconfig_problems
from meshlib.spec.models import MeshSpec
from meshlib.spec.problems import ConfigError, Problem, key_path
from meshlib.spec.salvage import salvaged_problems

__all__ = [
    "FLEET_BASE_KEY",
    "NAMESPACE",
    "ConfigError",
    "load_spec",
    "load_spec_file",
    "parse_spec",
    "secret_keys",
    "stack_of",
]

NAMESPACE = "mesh"
FLEET_BASE_KEY = "meshlib:fleetBase"
"""Set on every stack of a fleet: the base stack, whose name the fleet's cloud names start with
(`mesh:namePrefix` defaults to `<meshId>-<base stack>`), so that every stack names alike."""


def parse_spec(raw: Mapping[str, Any], stack: str | None = None) -> MeshSpec:
    """Validate the `mesh:*` keys (without their `mesh:` prefix) and fill the defaults.

    `stack` is the Pulumi stack the mesh is deployed as: it goes into the default
    `namePrefix` of cloud resource names. Keys named by the config as holding secrets
    (`kubeconfig.secret`, `rootCa`) must be present in `raw` too; their values are read
    later, by the components, as secrets.
    """
    referenced = secret_keys(raw)
    model_input = {key: value for key, value in raw.items() if key not in referenced}
    try:
        spec = MeshSpec.model_validate(model_input)
    except ValidationError as error:
        # All problems in one pass: the cross-field rules still run on what parses.
        shape = sorted(set(_from_pydantic(error)))
        salvaged = salvaged_problems(model_input, shape, lambda partial: _cross_field(partial, raw, stack))
        raise ConfigError(sorted({*shape, *salvaged})) from None
    problems = _cross_field(spec, raw, stack)
    if problems:
        raise ConfigError(sorted(problems))
    return fill_defaults(spec, stack)


def _cross_field(spec: MeshSpec, raw: Mapping[str, Any], stack: str | None) -> list[Problem]:
    problems = rules.check(spec, stack) + clashes(spec)
    problems += [
        Problem(where, f"config key mesh:{name} is not set (`pulumi config set --secret mesh:{name} ...`)")
        for where, name in _secret_references(spec)
        if name not in raw
    ]
    return problems


def load_spec() -> MeshSpec:
    """Read and validate the `mesh:*` configuration of the running Pulumi stack."""
    prefix = f"{NAMESPACE}:"
    keys = {*pulumi.runtime.config.CONFIG.get(), *pulumi.runtime.config.get_config_env()}
    raw = {
        key[len(prefix) :]: _decode(pulumi.runtime.config.get_config(key))
        for key in sorted(keys)
        if key.startswith(prefix)
    }
    secret = {key for key in keys if pulumi.runtime.config.is_config_secret(key)}
    secret |= set(pulumi.runtime.config.get_config_secret_keys_env())
    material = cluster_ca_problems(raw, secret)  # the CAs' PEMs: readable here, and only here
    try:
        spec = parse_spec(raw, pulumi.runtime.config.get_config(FLEET_BASE_KEY) or pulumi.get_stack())
    except ConfigError as error:
        raise ConfigError(sorted({*_masked(error.problems, secret), *material})) from None
    problems = kubeconfig_problems(spec) + material
    if problems:
        raise ConfigError(problems)
    return spec


def _masked(problems: tuple[Problem, ...], secret: set[str]) -> list[Problem]:
    """`problems` with the message of any problem at a secret config key replaced: never echo a secret."""
    masked = []
    for problem in problems:
        top = f"{NAMESPACE}:" + problem.key.removeprefix(f"{NAMESPACE}:").split(".")[0].split("[")[0]
        hidden = top in secret
        masked.append(Problem(problem.key, "invalid (the value is secret, so it is not shown)") if hidden else problem)
    return masked


def load_spec_file(path: str | Path, stack: str | None = None) -> MeshSpec:
    """Read and validate the `mesh:*` keys of a `Pulumi.<stack>.yaml` file.

    The stack name defaults to the one in the file name. Secure values (`{secure: ...}`)
    cannot be decrypted here and stay opaque.
    """
    path = Path(path)
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    prefix = f"{NAMESPACE}:"
    raw = {key[len(prefix) :]: _as_pulumi_gives(value) for key, value in config.items() if key.startswith(prefix)}
    return parse_spec(raw, stack if stack is not None else stack_of(path))


def _as_pulumi_gives(value: Any) -> Any:
    """A config file's value as the program gets it from Pulumi: scalars as text, then decoded alike."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, bool):
        return _decode("true" if value else "false")
    return _decode("" if value is None else str(value))


def stack_of(path: Path) -> str:
    """The stack a `Pulumi.<stack>.yaml` file configures."""
    return path.name.removeprefix("Pulumi.").removesuffix(path.suffix)


def secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Names of the config keys the raw config points at for secret material."""
    names: set[str] = set()
    root_ca = raw.get("rootCa")
    if isinstance(root_ca, Mapping):
        names.update(str(root_ca[k]) for k in ("certificate", "privateKey") if isinstance(root_ca.get(k), str))
    cluster_cas = raw.get("clusterCas")
    for entry in cluster_cas.values() if isinstance(cluster_cas, Mapping) else []:
        if isinstance(entry, Mapping):
            keys = ("certificate", "privateKey", "private_key", "chain", "root")
            names.update(entry[k] for k in keys if isinstance(entry.get(k), str))
    clusters = raw.get("clusters")
    for cluster in clusters if isinstance(clusters, list) else []:
        kubeconfig = cluster.get("kubeconfig") if isinstance(cluster, Mapping) else None
        if isinstance(kubeconfig, Mapping) and isinstance(kubeconfig.get("secret"), str):
            names.add(kubeconfig["secret"])
    return names


def _secret_references(spec: MeshSpec) -> list[tuple[str, str]]:
    references = []
    if spec.root_ca is not None:
        references += [
            (key_path(("rootCa", "certificate")), spec.root_ca.certificate),
            (key_path(("rootCa", "privateKey")), spec.root_ca.private_key),
        ]
    for owner, ca in (spec.cluster_cas or {}).items():
        fields = {"certificate": ca.certificate, "privateKey": ca.private_key, "chain": ca.chain, "root": ca.root}
        references += [(key_path(("clusterCas", owner, f)), name) for f, name in fields.items() if name is not None]
    for index, cluster in enumerate(spec.clusters):
        if cluster.kubeconfig is not None and cluster.kubeconfig.secret:
            references.append((key_path(("clusters", index, "kubeconfig", "secret")), cluster.kubeconfig.secret))
    return references


def _decode(value: Any) -> Any:
    """Pulumi hands structured config values over as JSON text; scalars stay text."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, (dict, list, bool)) else value


def _from_pydantic(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            valid = _valid_keys(loc[:-1])
            message = f"unknown key (a typo?); valid keys here: {', '.join(valid)}"
        elif item["type"] == "missing":
            message = "required"
        problems.append(Problem(key_path(loc) if loc else "mesh", message))
    return problems


def _valid_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The config keys the model accepts at `loc` (camelCase, sorted)."""
    model: type[BaseModel] = MeshSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            break
        inner = _model_in(field.annotation)
        if inner is None:
            break
        model = inner
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
