"""A mesh whose EKS cluster adopts the VPC and subnets another stack exports (`../network`).

`pulumi.StackReference` reads the networking stack's outputs; they are Outputs, and the package's
`MultiClusterMesh` (`meshlib.provider`, the component other languages get as
`meshlib:index:MultiClusterMesh`) takes them as they are: `vpcId` and each subnet id may be an Output.
How many subnets there are must be known at plan time (one east-west address is reserved per public
subnet), so the list has `zones` items, each one an Output taken from the other stack's list.
A preview logs which keys could not be checked yet; each id is checked (non-empty) once known.

The mesh cannot know the egress addresses of a VPC it adopts, so it warns that the other clusters'
API servers and east-west gateways cannot be narrowed to them: list the networking stack's
`natPublicIps` (as /32s) in `adminCidrs`, which must be plain values known at plan time.
"""

import pulumi

from meshlib.provider import MultiClusterMesh

config = pulumi.Config()
network = pulumi.StackReference(config.require("networkStack"))
zones = config.require_int("zones")


def subnet_ids(output: str) -> list[pulumi.Input[str]]:
    """One Output per zone: item `index` of the networking stack's list `output`."""
    ids = network.require_output(output)

    def item(index: int) -> pulumi.Output[str]:
        return ids.apply(lambda values: str(values[index]))

    return [item(index) for index in range(zones)]


mesh = MultiClusterMesh(
    "mesh1",
    {
        "mesh_id": "mesh1",
        "mode": "multi-primary",
        "admin_cidrs": config.require_object("adminCidrs"),
        "clusters": [
            {
                "name": "east",
                "cloud": "aws",
                "region": "us-east-1",
                "network": "net-aws",
                "vpc_id": network.require_output("vpcId"),
                "public_subnet_ids": subnet_ids("publicSubnetIds"),
                "private_subnet_ids": subnet_ids("privateSubnetIds"),
            },
            {"name": "central", "cloud": "gcp", "project": "acme-mesh-prod", "region": "us-central1"},
        ],
        "services": [
            {
                "name": "reviews",
                "cluster": "central",
                "consumers": ["east"],
                "ports": [{"number": 9080, "name": "http"}],
            }
        ],
    },
)

pulumi.export("clusterEndpoints", mesh.cluster_endpoints)
pulumi.export("eastWestAddresses", mesh.east_west_addresses)
pulumi.export("kubeconfigs", mesh.kubeconfigs)
