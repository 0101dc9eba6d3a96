"""The public surface: what `import meshlib` offers is deliberate, sorted and documented."""

from __future__ import annotations

import importlib
import pkgutil

import meshlib

PUBLIC = [
    "AwsNetwork",
    "AwsNetworkArgs",
    "ClusterApplications",
    "ClusterApplicationsArgs",
    "ClusterSpec",
    "ConfigError",
    "EastWestExposure",
    "EastWestGateway",
    "EastWestGatewayArgs",
    "EksCluster",
    "EksClusterArgs",
    "ExistingCluster",
    "ExistingClusterArgs",
    "GcpNetwork",
    "GcpNetworkArgs",
    "GkeCluster",
    "GkeClusterArgs",
    "IstioControlPlane",
    "IstioControlPlaneArgs",
    "MeshCluster",
    "MeshPlan",
    "MeshSpec",
    "MeshTrust",
    "MeshTrustArgs",
    "MeshVerification",
    "MeshVerificationArgs",
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "RemoteSecret",
    "RemoteSecretArgs",
    "ServiceFailover",
    "ServiceFailoverArgs",
    "ServiceFederation",
    "ServiceFederationArgs",
    "ServiceSpec",
    "load_spec",
    "load_spec_file",
    "parse_spec",
    "plan_mesh",
]


def test_all_is_pinned_and_sorted() -> None:
    assert meshlib.__all__ == PUBLIC
    assert sorted(meshlib.__all__, key=lambda name: (not name[0].isupper(), name)) == meshlib.__all__


def test_every_public_name_is_documented() -> None:
    for name in meshlib.__all__:
        assert getattr(meshlib, name).__doc__, name


def test_every_module_declares_all() -> None:
    for module in pkgutil.walk_packages(meshlib.__path__, "meshlib."):
        if module.name == "meshlib.__main__":
            continue
        imported = importlib.import_module(module.name)
        assert hasattr(imported, "__all__"), module.name
