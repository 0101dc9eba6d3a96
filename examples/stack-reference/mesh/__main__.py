"""A mesh whose EKS cluster adopts the VPC and subnets another stack exports (`../network`).

`pulumi.StackReference` reads the networking stack's outputs; they are Outputs, and the package's
`MultiClusterMesh` (`meshlib.provider`, the component other languages get as
`meshlib:index:MultiClusterMesh`) takes them as they are: `vpcId` and each subnet id may be an Output.
How many subnets there are must be known at plan time (one east-west address is reserved per public
subnet), so the list has `zones` items, each one an Output taken from the other stack's list.
A preview logs which keys could not be checked yet; each id is checked (non-empty) once known.

The mesh cannot know the egress addresses of a VPC it adopts, so it warns that the other clusters'
API servers and east-west gateways cannot be narrowed to them. `adminCidrs` may be an Output too (the
whole list): here it is this stack's own `adminCidrs` (where you and CI run Pulumi from) plus the
networking stack's `natPublicIps` as /32s, so that the adopted cluster's istiod reaches the other API
servers. Each CIDR is checked once known.
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


def admin_cidrs() -> pulumi.Output[list[str]]:
    """This stack's `adminCidrs`, then the networking stack's NAT addresses as /32s."""
    own: list[str] = config.require_object("adminCidrs")
    nat_ips = network.require_output("natPublicIps")
    return nat_ips.apply(lambda ips: [*own, *(f"{ip}/32" for ip in ips)])


mesh = MultiClusterMesh(
    "mesh1",
    {
        "mesh_id": "mesh1",
        "mode": "multi-primary",
        "admin_cidrs": admin_cidrs(),
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
