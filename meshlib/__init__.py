"""meshlib: one Istio service mesh across EKS and GKE clusters, from Pulumi stack configuration.

```python
import meshlib

spec = meshlib.load_spec()  # the stack's `mesh:*` config, validated
mesh = meshlib.MultiClusterMesh(spec.mesh_id, meshlib.MultiClusterMeshArgs(spec=spec))
```
"""

from __future__ import annotations

from meshlib.components import (
    AwsNetwork,
    AwsNetworkArgs,
    ClusterApplications,
    ClusterApplicationsArgs,
    EastWestExposure,
    EastWestGateway,
    EastWestGatewayArgs,
    EksCluster,
    EksClusterArgs,
    ExistingCluster,
    ExistingClusterArgs,
    GcpNetwork,
    GcpNetworkArgs,
    GkeCluster,
    GkeClusterArgs,
    IstioControlPlane,
    IstioControlPlaneArgs,
    MeshCluster,
    MeshTrust,
    MeshTrustArgs,
    MeshVerification,
    MeshVerificationArgs,
    MultiClusterMesh,
    MultiClusterMeshArgs,
    RemoteSecret,
    RemoteSecretArgs,
    ServiceFailover,
    ServiceFailoverArgs,
    ServiceFederation,
    ServiceFederationArgs,
)
from meshlib.plan import MeshPlan, plan_mesh
from meshlib.spec import ClusterSpec, ConfigError, MeshSpec, ServiceSpec, load_spec, load_spec_file, parse_spec

__all__ = [
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
