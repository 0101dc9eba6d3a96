"""Import the mesh into your own program, then put an application on it.

The mesh comes from this program's config namespace `mesh` (same keys as the ready
program). The application is the service the config exports: `reviews` (Bookinfo's
reviews service) runs in namespace `shop` of cluster `central`, deployed through the
provider the mesh exposes for that cluster, and workloads in `east` call it as
`reviews.shop.svc.central.local`. Every cluster gets the namespace with sidecar injection
on, once its istiod (which answers the injection webhook) is up.
"""

import pulumi
import pulumi_kubernetes as k8s

import meshlib

IMAGES = {"reviews": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2"}  # exported service -> image

spec = meshlib.load_spec()
mesh = meshlib.MultiClusterMesh(spec.mesh_id, meshlib.MultiClusterMeshArgs(spec=spec))

namespaces = {}
for name, cluster in mesh.clusters.items():
    for namespace in sorted({service.namespace for service in spec.services}):
        namespaces[name, namespace] = k8s.core.v1.Namespace(
            f"{name}-{namespace}",
            metadata={"name": namespace, "labels": {"istio-injection": "enabled"}},
            opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[mesh.control_planes[name].istiod]),
        )

urls = {}
for service in spec.services:
    # The workload behind the exported name, in the exporting cluster, through the mesh's provider for it.
    opts = pulumi.ResourceOptions(
        provider=mesh.clusters[service.cluster].provider,
        depends_on=[namespaces[service.cluster, service.namespace]],
    )
    labels = {"app": service.name}
    metadata = {"name": service.name, "namespace": service.namespace, "labels": labels}
    k8s.apps.v1.Deployment(
        f"{service.cluster}-{service.name}",
        metadata=metadata,
        spec={
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": service.name,
                            "image": IMAGES[service.name],
                            "ports": [{"name": port.name, "containerPort": port.number} for port in service.ports],
                        }
                    ]
                },
            },
        },
        opts=opts,
    )
    k8s.core.v1.Service(
        f"{service.cluster}-{service.name}",
        metadata=metadata,
        spec={
            "selector": labels,
            "ports": [{"name": port.name, "port": port.number, "targetPort": port.number} for port in service.ports],
        },
        opts=opts,
    )
    host = f"{service.name}.{service.namespace}.svc.{service.cluster}.local"
    for consumer in service.consumers:
        urls[f"{service.name}From{consumer.title()}"] = f"http://{host}:{service.ports[0].number}"

for key, url in urls.items():
    pulumi.export(key, url)  # reviewsFromEast: http://reviews.shop.svc.central.local:9080
pulumi.export("mesh", mesh.summary())
