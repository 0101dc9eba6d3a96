"""Fake computed outputs and invoke results: aws."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any

_ACCOUNT = "123456789012"


def fake_ip(seed: str) -> str:
    """`tests.mocks.fake_ip`, imported late (`tests.mocks` imports this table)."""
    from tests import mocks

    return mocks.fake_ip(seed)


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _region(inputs: dict[str, Any]) -> str:
    return str(inputs.get("region") or "us-east-1")


def _eip(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "publicIp": fake_ip(name),
        "allocationId": f"eipalloc-{_hex(name)}",
        "domain": "vpc",
        "arn": f"arn:aws:ec2:{_region(inputs)}:{_ACCOUNT}:elastic-ip/eipalloc-{_hex(name)}",
    }


def _vpc(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:ec2:{_region(inputs)}:{_ACCOUNT}:vpc/vpc-{_hex(name)}",
        "defaultSecurityGroupId": f"sg-{_hex(name + '/default')}",
        "mainRouteTableId": f"rtb-{_hex(name + '/main')}",
        "ownerId": _ACCOUNT,
    }


def _subnet(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"arn": f"arn:aws:ec2:{_region(inputs)}:{_ACCOUNT}:subnet/subnet-{_hex(name)}", "ownerId": _ACCOUNT}


def _nat(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"publicIp": fake_ip(name), "privateIp": "10.255.0.10", "connectivityType": "public"}


def _role(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    role = inputs.get("name") or name
    return {"arn": f"arn:aws:iam::{_ACCOUNT}:role/{role}", "name": role, "uniqueId": f"AROA{_hex(role).upper()}"}


def _eks_cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster = inputs.get("name") or name
    region = _region(inputs)
    pem = f"-----BEGIN CERTIFICATE-----\nfake-ca-{cluster}\n-----END CERTIFICATE-----\n"
    return {
        "name": cluster,
        "arn": f"arn:aws:eks:{region}:{_ACCOUNT}:cluster/{cluster}",
        "endpoint": f"https://{_hex(cluster, 32).upper()}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(pem.encode()).decode()},
        "version": inputs.get("version") or "1.33",
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": {
            **(inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{_hex(cluster + '/cluster')}",
            "vpcId": f"vpc-{_hex(cluster + '/vpc')}",
        },
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{_hex(cluster, 32)}"}]}],
    }


def _node_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # With `nodeGroupNamePrefix`, the provider appends a 26-character unique suffix (id.PrefixedUniqueId).
    prefix = inputs.get("nodeGroupNamePrefix")
    group = inputs.get("nodeGroupName") or (f"{prefix}{_hex(name, 26)}" if prefix else name)
    return {
        "arn": f"arn:aws:eks:{_region(inputs)}:{_ACCOUNT}:nodegroup/{inputs.get('clusterName')}/{group}/x",
        "status": "ACTIVE",
        "nodeGroupName": group,
    }


def _addon(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"addonVersion": "v1.3.8-eksbuild.2", "arn": f"arn:aws:eks:{_region(inputs)}:{_ACCOUNT}:addon/{name}"}


def _pod_identity(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "associationId": f"a-{_hex(name)}",
        "associationArn": f"arn:aws:eks:{_region(inputs)}:{_ACCOUNT}:podidentityassociation/{name}",
    }


def _ingress_rule(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    rule = f"sgr-{_hex(name)}"
    return {"securityGroupRuleId": rule, "arn": f"arn:aws:ec2:{_region(inputs)}:{_ACCOUNT}:security-group-rule/{rule}"}


OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
    "aws:iam/role:Role": _role,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/addon:Addon": _addon,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _pod_identity,
}


def _availability_zones(args: dict[str, Any]) -> dict[str, Any]:
    region = _region(args)
    letters = "abcdef"
    return {
        "id": region,
        "names": [f"{region}{letter}" for letter in letters],
        "zoneIds": [f"{region[:3]}{index + 1}-az{index + 1}" for index in range(len(letters))],
        "groupNames": [region],
        "state": args.get("state"),
    }


def _get_vpc(args: dict[str, Any]) -> dict[str, Any]:
    vpc_id = str(args.get("id") or "vpc-0default")
    cidr = "10.200.0.0/16"
    return {
        "id": vpc_id,
        "arn": f"arn:aws:ec2:{_region(args)}:{_ACCOUNT}:vpc/{vpc_id}",
        "cidrBlock": cidr,
        "cidrBlockAssociations": [
            {"associationId": f"vpc-cidr-assoc-{_hex(vpc_id)}", "cidrBlock": cidr, "state": "associated"}
        ],
        "state": "available",
    }


def _get_subnet(args: dict[str, Any]) -> dict[str, Any]:
    subnet_id = str(args.get("id") or "subnet-0default")
    index = int(_hex(subnet_id, 4), 16) % 256
    cidr = ipaddress.IPv4Network(f"10.200.{index}.0/24")
    return {
        "id": subnet_id,
        "cidrBlock": str(cidr),
        "availabilityZone": f"{_region(args)}a",
        "vpcId": "vpc-0adopted",
        "state": "available",
    }


CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:ec2/getVpc:getVpc": _get_vpc,
    "aws:ec2/getSubnet:getSubnet": _get_subnet,
}
