"""Cloud quotas a mesh consumes before its first resource fails: Elastic IPs per AWS region.

Each AWS network meshlib creates takes one Elastic IP per NAT gateway (two), and each EKS
cluster with an internet-facing east-west gateway one per public subnet (two). AWS grants 5
per region by default (Service Quotas: "EC2-VPC Elastic IPs", code L-0263D0A3), so two
networks in one region already need a quota increase: better said at preview than found
at the ninth allocation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from meshlib.plan.topology import MeshPlan
from meshlib.spec.models import MeshSpec

__all__ = ["DEFAULT_EIP_QUOTA", "EIP_QUOTA_CODE", "NAT_GATEWAYS_PER_NETWORK", "capacity_warnings", "elastic_ips"]

DEFAULT_EIP_QUOTA = 5
EIP_QUOTA_CODE = "L-0263D0A3"
NAT_GATEWAYS_PER_NETWORK = 2
_EAST_WEST_SUBNETS = 2


def elastic_ips(spec: MeshSpec, plan: MeshPlan, built: Collection[str] = ()) -> Counter[str]:
    """Elastic IPs the mesh allocates, per AWS region (clusters in `built` are the caller's own)."""
    needed: Counter[str] = Counter()
    networks: set[str] = set()
    for cluster in spec.clusters:
        if cluster.cloud != "aws" or cluster.name in built:
            continue
        region = str(cluster.region)
        if not cluster.vpc_id and cluster.network not in networks:
            networks.add(str(cluster.network))
            needed[region] += NAT_GATEWAYS_PER_NETWORK
        if plan.cluster(cluster.name).east_west_gateway and not cluster.east_west_internal:
            needed[region] += len(cluster.public_subnet_ids) if cluster.vpc_id else _EAST_WEST_SUBNETS
    return needed


def capacity_warnings(spec: MeshSpec, plan: MeshPlan, built: Collection[str] = ()) -> list[str]:
    """A warning per AWS region where the mesh needs more Elastic IPs than the default quota."""
    return [
        f"AWS region {region}: the mesh allocates {count} Elastic IPs, over the default quota of "
        f"{DEFAULT_EIP_QUOTA} per region (Service Quotas 'EC2-VPC Elastic IPs', code {EIP_QUOTA_CODE}); "
        "request an increase before `pulumi up`, less any Elastic IPs the account already holds there"
        for region, count in sorted(elastic_ips(spec, plan, built).items())
        if count > DEFAULT_EIP_QUOTA
    ]
