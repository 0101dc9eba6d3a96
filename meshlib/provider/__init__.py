"""meshlib as a Pulumi plugin package: `MultiClusterMesh` for TypeScript, Go, C#, Java and YAML programs.

`pulumi package add <this repository or path>` runs `python -m meshlib.provider` (see
`PulumiPlugin.yaml`), whose analyzer reads the annotations in `meshlib.provider.mesh`.
"""

from meshlib.provider.mesh import (
    PACKAGE,
    ClusterArgs,
    IstioArgs,
    MultiClusterMesh,
    MultiClusterMeshArgs,
    NodesArgs,
    RootCaArgs,
    ServiceArgs,
    ServicePortArgs,
    to_spec_input,
)

__all__ = [
    "PACKAGE",
    "ClusterArgs",
    "IstioArgs",
    "MultiClusterMesh",
    "MultiClusterMeshArgs",
    "NodesArgs",
    "RootCaArgs",
    "ServiceArgs",
    "ServicePortArgs",
    "to_spec_input",
]
