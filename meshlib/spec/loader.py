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
from meshlib.spec.defaults import clashes, fill_defaults
from meshlib.spec.models import MeshSpec
from meshlib.spec.problems import ConfigError, Problem, key_path

__all__ = ["NAMESPACE", "ConfigError", "load_spec", "load_spec_file", "parse_spec", "secret_keys", "stack_of"]

NAMESPACE = "mesh"


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
        raise ConfigError(sorted(set(_from_pydantic(error)))) from None
    problems = rules.check(spec, stack) + clashes(spec)
    problems += [
        Problem(where, f"config key mesh:{name} is not set (`pulumi config set --secret mesh:{name} ...`)")
        for where, name in _secret_references(spec)
        if name not in raw
    ]
    if problems:
        raise ConfigError(sorted(problems))
    return fill_defaults(spec, stack)


def load_spec() -> MeshSpec:
    """Read and validate the `mesh:*` configuration of the running Pulumi stack."""
    prefix = f"{NAMESPACE}:"
    keys = {*pulumi.runtime.config.CONFIG.get(), *pulumi.runtime.config.get_config_env()}
    raw = {
        key[len(prefix) :]: _decode(pulumi.runtime.config.get_config(key))
        for key in sorted(keys)
        if key.startswith(prefix)
    }
    return parse_spec(raw, pulumi.get_stack())


def load_spec_file(path: str | Path, stack: str | None = None) -> MeshSpec:
    """Read and validate the `mesh:*` keys of a `Pulumi.<stack>.yaml` file.

    The stack name defaults to the one in the file name. Secure values (`{secure: ...}`)
    cannot be decrypted here and stay opaque.
    """
    path = Path(path)
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    prefix = f"{NAMESPACE}:"
    raw = {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)}
    return parse_spec(raw, stack if stack is not None else stack_of(path))


def stack_of(path: Path) -> str:
    """The stack a `Pulumi.<stack>.yaml` file configures."""
    return path.name.removeprefix("Pulumi.").removesuffix(path.suffix)


def secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Names of the config keys the raw config points at for secret material."""
    names: set[str] = set()
    root_ca = raw.get("rootCa")
    if isinstance(root_ca, Mapping):
        names.update(str(root_ca[k]) for k in ("certificate", "privateKey") if isinstance(root_ca.get(k), str))
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
