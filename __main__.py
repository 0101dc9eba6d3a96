"""The ready program: stack config -> MultiClusterMesh -> stack outputs.

`pulumi up --stack <name>` reads `stacks/Pulumi.<name>.yaml`; a bad config stops here,
with every problem listed, before any resource is registered.
"""

import pulumi

import meshlib
from meshlib.fleet.units import build_fleet_stack, fleet_stack_of

spec = meshlib.load_spec()
fleet = fleet_stack_of()
if fleet:  # one stack of a fleet (`python -m meshlib fleet`, docs/fleet.md): its part of the mesh
    build_fleet_stack(spec, *fleet)
else:
    mesh = meshlib.MultiClusterMesh(spec.mesh_id, meshlib.MultiClusterMeshArgs(spec=spec))
    pulumi.export("mesh", mesh.summary())
    pulumi.export("clusters", mesh.cluster_outputs())
    pulumi.export("certificateExpiry", mesh.trust.expiry)
    pulumi.export("kubeconfigs", pulumi.Output.secret({name: c.kubeconfig for name, c in mesh.clusters.items()}))
