"""Layer 1: the `mesh:*` stack configuration, parsed, checked and completed."""

from __future__ import annotations

from meshlib.spec.loader import NAMESPACE, load_spec, load_spec_file, parse_spec
from meshlib.spec.models import (
    DEFAULT_ISTIO_VERSION,
    ISTIO_CHART_REPOSITORY,
    ClusterSpec,
    IstioSpec,
    KubeconfigSpec,
    MeshSpec,
    NodesSpec,
    RootCaSpec,
    ServicePortSpec,
    ServiceSpec,
)
from meshlib.spec.problems import ConfigError, Problem

__all__ = [
    "DEFAULT_ISTIO_VERSION",
    "ISTIO_CHART_REPOSITORY",
    "NAMESPACE",
    "ClusterSpec",
    "ConfigError",
    "IstioSpec",
    "KubeconfigSpec",
    "MeshSpec",
    "NodesSpec",
    "Problem",
    "RootCaSpec",
    "ServicePortSpec",
    "ServiceSpec",
    "load_spec",
    "load_spec_file",
    "parse_spec",
]
