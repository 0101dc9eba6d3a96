"""Layer 3: thin Pulumi components that turn the plan into resources."""

from __future__ import annotations

from meshlib.components.aws import AwsNetwork, AwsNetworkArgs, EksCluster, EksClusterArgs
from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.control_plane import IstioControlPlane, IstioControlPlaneArgs
from meshlib.components.east_west import EastWestGateway, EastWestGatewayArgs
from meshlib.components.existing import ExistingCluster, ExistingClusterArgs
from meshlib.components.federation import ServiceFederation, ServiceFederationArgs
from meshlib.components.gcp import GcpNetwork, GcpNetworkArgs, GkeCluster, GkeClusterArgs
from meshlib.components.mesh import MultiClusterMesh, MultiClusterMeshArgs
from meshlib.components.remote_secret import RemoteSecret, RemoteSecretArgs
from meshlib.components.trust import MeshTrust, MeshTrustArgs

__all__ = [
    "AwsNetwork",
    "AwsNetworkArgs",
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
    "MeshTrust",
    "MeshTrustArgs",
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "RemoteSecret",
    "RemoteSecretArgs",
    "ServiceFederation",
    "ServiceFederationArgs",
]
