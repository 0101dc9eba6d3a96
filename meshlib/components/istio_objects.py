"""Istio's charts and custom resources, created the same way by every component."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.plan.manifests import ISTIO_NAMESPACE, Manifest
from meshlib.spec.models import IstioSpec

__all__ = ["istio_release", "istio_resource"]


def istio_release(
    resource_name: str,
    release: str,
    chart: str,
    istio: IstioSpec,
    version: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """Install Istio chart `chart` at `version` as Helm release `release` in `istio-system`."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=istio.chart_repository),
        namespace=ISTIO_NAMESPACE,
        values=values,
        opts=opts,
    )


def istio_resource(prefix: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """Create `manifest` as a `CustomResource` named `<prefix>-<kind>-<name>` (per-object diffs in previews)."""
    metadata = manifest["metadata"]
    return k8s.apiextensions.CustomResource(
        f"{prefix}-{manifest['kind'].lower()}-{metadata['name']}",
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=metadata,
        spec=manifest["spec"],
        opts=opts,
    )
