"""Import the mesh into your own program, then put an application on it.

The mesh comes from this program's config namespace `mesh` (same keys as the ready
program); the application (`reviews` in `central`, called from `east` as
`reviews.default.svc.central.local`) uses the providers the mesh exposes.
"""

import pulumi
import pulumi_kubernetes as k8s

import meshlib

spec = meshlib.load_spec()
mesh = meshlib.MultiClusterMesh(spec.mesh_id, meshlib.MultiClusterMeshArgs(spec=spec))

for name, cluster in mesh.clusters.items():
    # A namespace with sidecar injection on, created once istiod (which answers the webhook) is up.
    k8s.core.v1.Namespace(
        f"{name}-shop",
        metadata={"name": "shop", "labels": {"istio-injection": "enabled"}},
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[mesh.control_planes[name].istiod]),
    )

pulumi.export("reviewsFromEast", "http://reviews.default.svc.central.local:9080")
pulumi.export("mesh", mesh.summary())
