"""Adopted clusters' kubeconfig files: where kubectl looks, and whether the configured context is there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from meshlib.spec.models import MeshSpec
from meshlib.spec.problems import Problem, key_path

__all__ = ["default_kubeconfig_path", "kubeconfig_problems"]


def kubeconfig_problems(spec: MeshSpec) -> list[Problem]:
    """Adopted clusters whose kubeconfig file or context does not resolve on this machine.

    Checked when a stack is deployed (not for offline plans), before any resource registers.
    Secret kubeconfigs are checked by the component, which alone may read them.
    """
    problems = []
    for index, cluster in enumerate(spec.clusters):
        settings = cluster.kubeconfig
        if settings is None or settings.secret:
            continue
        key = key_path(("clusters", index, "kubeconfig"))
        path = Path(os.path.expanduser(settings.path or default_kubeconfig_path(os.environ, "~")))
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            problems.append(Problem(f"{key}.path", f"cannot read a kubeconfig at {path} ({error.__class__.__name__})"))
            continue
        contexts = [c.get("name") for c in (document or {}).get("contexts") or [] if isinstance(c, dict)]
        wanted = settings.context or (document or {}).get("current-context")
        if wanted not in contexts:
            problems.append(
                Problem(
                    f"{key}.context",
                    f"no context {wanted!r} in {path}: one of {', '.join(map(str, contexts)) or '(none)'}",
                )
            )
    return problems


def default_kubeconfig_path(environ: Mapping[str, str], home: str) -> str:
    """Where kubectl looks: the first entry of `$KUBECONFIG`, else `~/.kube/config`."""
    entries = [entry for entry in environ.get("KUBECONFIG", "").split(os.pathsep) if entry]
    return entries[0] if entries else os.path.join(home, ".kube", "config")
