"""Build the clusters yourself and let the mesh wire Istio across them.

The spec is written in code here (no stack config needed). Networks come first, so
that each cluster's API server can admit exactly the other cluster's NAT egress (its
istiod watches this one) plus your admin range. The clusters, built with settings of
your own, are then handed to the mesh by name. Anything that is a `meshlib.MeshCluster`
works: an `ExistingCluster`, or a component of your own.
"""

import pulumi

import meshlib

ADMIN = "198.51.100.0/24"

spec = meshlib.parse_spec(
    {
        "meshId": "byo",
        "mode": "multi-primary",
        "adminCidrs": [ADMIN],
        "clusters": [
            {"name": "payments", "cloud": "aws", "region": "eu-west-1", "network": "aws-eu"},
            {"name": "catalog", "cloud": "gcp", "project": "acme-byo", "region": "europe-west4", "network": "gcp-eu"},
        ],
        "services": [
            {
                "name": "catalog",
                "cluster": "catalog",
                "consumers": ["payments"],
                "ports": [{"number": 80, "name": "http"}],
            }
        ],
    }
)
payments, catalog = spec.clusters

aws_network = meshlib.AwsNetwork(
    "byo-aws-eu", meshlib.AwsNetworkArgs(network="aws-eu", region="eu-west-1", clusters=[payments])
)
gcp_network = meshlib.GcpNetwork(
    "byo-gcp-eu", meshlib.GcpNetworkArgs(network="gcp-eu", project="acme-byo", clusters=[catalog])
)


def admitted(watcher_egress: pulumi.Output[list[str]]) -> pulumi.Output[list[str]]:
    """Your admin range plus the watching cluster's NAT IPs."""
    return watcher_egress.apply(lambda ips: [ADMIN, *(f"{ip}/32" for ip in ips)])


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
