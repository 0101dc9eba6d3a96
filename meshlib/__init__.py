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
    MultiClusterMesh,
    MultiClusterMeshArgs,
    RemoteSecret,
    RemoteSecretArgs,
    ServiceFederation,
    ServiceFederationArgs,
)
from meshlib.plan import MeshPlan, plan_mesh
from meshlib.spec import ClusterSpec, ConfigError, MeshSpec, ServiceSpec, load_spec, load_spec_file, parse_spec

__all__ = [
    "AwsNetwork",
    "AwsNetworkArgs",
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
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "RemoteSecret",
    "RemoteSecretArgs",
    "ServiceFederation",
    "ServiceFederationArgs",
    "ServiceSpec",
    "load_spec",
    "load_spec_file",
    "parse_spec",
    "plan_mesh",
]
