"""Layer 3: thin Pulumi components that turn the plan into resources."""

from __future__ import annotations

from meshlib.components.applications import ClusterApplications, ClusterApplicationsArgs
from meshlib.components.aws import AwsNetwork, AwsNetworkArgs, EksCluster, EksClusterArgs
from meshlib.components.cluster import EastWestExposure, MeshCluster
from meshlib.components.control_plane import IstioControlPlane, IstioControlPlaneArgs
from meshlib.components.east_west import EastWestGateway, EastWestGatewayArgs
from meshlib.components.existing import ExistingCluster, ExistingClusterArgs
from meshlib.components.failover import ServiceFailover, ServiceFailoverArgs
from meshlib.components.federation import ServiceFederation, ServiceFederationArgs
from meshlib.components.gcp import GcpNetwork, GcpNetworkArgs, GkeCluster, GkeClusterArgs
from meshlib.components.mesh import MultiClusterMesh, MultiClusterMeshArgs
from meshlib.components.remote_secret import RemoteSecret, RemoteSecretArgs
from meshlib.components.trust import MeshTrust, MeshTrustArgs
from meshlib.components.verify import MeshVerification, MeshVerificationArgs

__all__ = [
    "AwsNetwork",
    "AwsNetworkArgs",
    "ClusterApplications",
    "ClusterApplicationsArgs",
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
]
