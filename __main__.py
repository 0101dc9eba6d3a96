"""The ready program: stack config -> MultiClusterMesh -> stack outputs.

`pulumi up --stack <name>` reads `stacks/Pulumi.<name>.yaml`; a bad config stops here,
with every problem listed, before any resource is registered.
"""

import pulumi

import meshlib

spec = meshlib.load_spec()
mesh = meshlib.MultiClusterMesh(spec.mesh_id, meshlib.MultiClusterMeshArgs(spec=spec))

pulumi.export("mesh", mesh.summary())
pulumi.export("clusters", mesh.cluster_outputs())
pulumi.export("certificateExpiry", mesh.trust.expiry)
pulumi.export("kubeconfigs", pulumi.Output.secret({name: c.kubeconfig for name, c in mesh.clusters.items()}))
