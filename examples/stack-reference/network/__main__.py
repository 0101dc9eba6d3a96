"""A networking stack: one VPC with a public and a private subnet per zone, one NAT gateway per zone.

It exports what `../mesh` reads with `pulumi.StackReference`: `vpcId`, `publicSubnetIds`,
`privateSubnetIds` (lists, one id per zone, in zone order), and `natPublicIps`, the addresses the nodes
reach the other clouds from (the mesh adds them to its `adminCidrs`). The subnets carry the tags the AWS Load
Balancer Controller uses to place the mesh's east-west load balancers.
"""

import ipaddress

import pulumi
import pulumi_aws as aws

config = pulumi.Config("network")
cidr = ipaddress.ip_network(config.get("cidr") or "10.10.0.0/16")
zones: list[str] = config.require_object("zones")
blocks = list(cidr.subnets(new_prefix=20))  # /20s: public ones first, private ones after

vpc = aws.ec2.Vpc("network", cidr_block=str(cidr), enable_dns_hostnames=True, enable_dns_support=True)
gateway = aws.ec2.InternetGateway("network", vpc_id=vpc.id)
public_routes = aws.ec2.RouteTable(
    "network-public", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}]
)

public, private, nat_ips = [], [], []
for index, zone in enumerate(zones):
    suffix = zone[-1]
    subnet = aws.ec2.Subnet(
        f"network-public-{suffix}",
        vpc_id=vpc.id,
        availability_zone=zone,
        cidr_block=str(blocks[index]),
        map_public_ip_on_launch=True,
        tags={"kubernetes.io/role/elb": "1"},
    )
    aws.ec2.RouteTableAssociation(f"network-public-{suffix}", subnet_id=subnet.id, route_table_id=public_routes.id)
    address = aws.ec2.Eip(f"network-nat-{suffix}", domain="vpc")
    nat = aws.ec2.NatGateway(f"network-{suffix}", subnet_id=subnet.id, allocation_id=address.id)
    node_subnet = aws.ec2.Subnet(
        f"network-private-{suffix}",
        vpc_id=vpc.id,
        availability_zone=zone,
        cidr_block=str(blocks[len(zones) + index]),
        tags={"kubernetes.io/role/internal-elb": "1"},
    )
    routes = aws.ec2.RouteTable(
        f"network-private-{suffix}", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}]
    )
    aws.ec2.RouteTableAssociation(f"network-private-{suffix}", subnet_id=node_subnet.id, route_table_id=routes.id)
    public.append(subnet.id)
    private.append(node_subnet.id)
    nat_ips.append(address.public_ip)

pulumi.export("vpcId", vpc.id)
pulumi.export("publicSubnetIds", public)
pulumi.export("privateSubnetIds", private)
pulumi.export("natPublicIps", nat_ips)
