"""Build the clusters yourself and let the mesh wire Istio across them.

The mesh spec comes from stack config (`Pulumi.dev.yaml`: two clusters, one service),
as the ready program's does. Networks come first, so that each cluster's API server can
admit exactly the other cluster's NAT egress (its istiod watches this one) plus your
admin ranges. The clusters, built with settings of your own, are then handed to the mesh
by name. Anything that is a `meshlib.MeshCluster` works: an `ExistingCluster`, or a
component of your own.
"""

import pulumi

import meshlib

spec = meshlib.load_spec()
ADMIN = [str(cidr) for cidr in spec.admin_cidrs]

payments, catalog = spec.clusters

aws_network = meshlib.AwsNetwork(
    f"byo-{payments.network}",
    meshlib.AwsNetworkArgs(network=str(payments.network), region=str(payments.region), clusters=[payments]),
)
gcp_network = meshlib.GcpNetwork(
    f"byo-{catalog.network}",
    meshlib.GcpNetworkArgs(network=str(catalog.network), project=str(catalog.project), clusters=[catalog]),
)


def admitted(watcher_egress: pulumi.Output[list[str]]) -> pulumi.Output[list[str]]:
    """Your admin ranges plus the watching cluster's NAT IPs."""
    return watcher_egress.apply(lambda ips: [*ADMIN, *(f"{ip}/32" for ip in ips)])


# Your own cluster settings: bigger nodes, your tags and labels.
eks = meshlib.EksCluster(
    "byo-payments",
    meshlib.EksClusterArgs(
        spec=payments.model_copy(update={"nodes": payments.nodes.model_copy(update={"instance_type": "m6i.xlarge"})}),
        network=aws_network,
        api_access_cidrs=admitted(gcp_network.egress_ips),
        tags={"team": "payments"},
    ),
)
gke = meshlib.GkeCluster(
    "byo-catalog",
    meshlib.GkeClusterArgs(
        spec=catalog,
        network=gcp_network,
        api_access_cidrs=admitted(aws_network.egress_ips),
        labels={"team": "catalog"},
    ),
)

mesh = meshlib.MultiClusterMesh(
    "byo", meshlib.MultiClusterMeshArgs(spec=spec, clusters={"payments": eks, "catalog": gke})
)
pulumi.export("mesh", mesh.summary())
