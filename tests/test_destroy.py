"""`pulumi destroy` leaves nothing behind, and stops before it starts when something is protected.

Pulumi deletes a resource before everything it depends on (through dependencies, its parent
chain and its provider). The east-west NLB on EKS is removed by the load balancer controller
from inside the cluster, over the network's NAT gateways: so every Kubernetes resource must
reach its network's egress path in that graph, or destroy deletes the path first.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from meshlib.offline.engine import Registered
from tests.mocks import Run
from tests.test_failure import run_config
from tests.test_lifecycle import base, cluster

EGRESS = {"aws:ec2/natGateway:NatGateway", "aws:ec2/route:Route", "gcp:compute/routerNat:RouterNat"}


def reachable(start: Registered, by_urn: dict[str, Registered]) -> set[str]:
    """Every URN `start` waits for on create (and outlives on destroy)."""
    seen: set[str] = set()
    todo = [start.urn]
    while todo:
        resource = by_urn.get(todo.pop())
        if resource is None:
            continue
        provider = resource.provider.split("::")
        edges: Iterable[str] = [*resource.dependencies, resource.parent, "::".join(provider[:-1])]
        for urn in edges:
            if urn and urn not in seen:
                seen.add(urn)
                todo.append(urn)
    return seen


@pytest.fixture(scope="module")
def deployed() -> Run:
    return run_config(base())


def test_every_kubernetes_resource_outlives_its_networks_egress_path(deployed: Run) -> None:
    by_urn = {r.urn: r for r in deployed.resources}
    network_of = {"east": "net-aws", "west": "net-aws", "central": "net-gcp"}
    checked = 0
    for resource in deployed.resources:
        if not resource.type.startswith("kubernetes:"):
            continue
        owner = resource.provider_name.removeprefix("mesh1-").removesuffix("-k8s")
        network = network_of[owner]
        needed = {
            r.urn
            for r in deployed.resources
            if r.type in EGRESS
            and r.name.startswith(f"mesh1-{network}-")
            and (r.type != "aws:ec2/route:Route" or r.name.endswith(("-nat", "-internet")))
        }
        assert needed, f"no egress resources found for {network}"
        missing = sorted(by_urn[urn].name for urn in needed - reachable(resource, by_urn))
        assert missing == [], f"{resource.name} does not wait for {missing}"
        checked += 1
    assert checked > 40


def test_the_load_balancer_controller_goes_after_every_istio_resource(deployed: Run) -> None:
    by_urn = {r.urn: r for r in deployed.resources}
    controller = next(r for r in deployed.resources if r.name == "mesh1-east-aws-load-balancer-controller")
    istio = [r for r in deployed.resources if r.provider_name == "mesh1-east-k8s" and r is not controller]
    assert istio and all(controller.urn in reachable(r, by_urn) for r in istio)


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_is_pulumi_protect_on_what_holds_state(protected: bool) -> None:
    config = base()
    for entry in config["mesh:clusters"]:
        entry["deletionProtection"] = protected
    run = run_config(config)
    flagged = {(r.type, r.name) for r in run.resources if r.protect}
    expected = {
        ("aws:eks/cluster:Cluster", "mesh1-east-eks"),
        ("aws:eks/cluster:Cluster", "mesh1-west-eks"),
        ("gcp:container/cluster:Cluster", "mesh1-central-cluster"),
        ("aws:ec2/vpc:Vpc", "mesh1-net-aws-vpc"),
        ("gcp:compute/network:Network", "mesh1-net-gcp-vpc"),
        ("aws:ec2/eip:Eip", "mesh1-net-aws-nat-a"),
        ("aws:ec2/eip:Eip", "mesh1-east-east-west-a"),
        ("gcp:compute/address:Address", "mesh1-central-east-west"),
        ("gcp:compute/address:Address", "mesh1-net-gcp-us-central1-nat-0"),
        ("tls:index/privateKey:PrivateKey", "mesh1-trust-root-key"),
        ("tls:index/selfSignedCert:SelfSignedCert", "mesh1-trust-root-cert"),
    }
    assert (flagged >= expected) if protected else (flagged == set())
    eks = next(r for r in run.resources if r.name == "mesh1-east-eks")
    assert eks.plain["deletionProtection"] is protected  # the cloud's own flag follows the same key


def test_one_protected_cluster_protects_its_shared_network() -> None:
    config = base()
    for entry in config["mesh:clusters"]:
        entry["deletionProtection"] = False
    cluster(config, "west")["deletionProtection"] = True
    run = run_config(config)
    flagged = {r.name for r in run.resources if r.protect}
    assert "mesh1-net-aws-vpc" in flagged and "mesh1-west-eks" in flagged and "mesh1-east-eks" not in flagged
