"""Everyday changes, as pairs of runs: old config -> new config, compared resource by resource (URN).

`meshlib.offline.replacements.changes` says what `pulumi up` would do to each resource, from the
curated table of replace-forcing inputs. The promise tested here: no change a platform team
makes every week replaces or deletes anything that holds state, except what belongs to a
cluster being removed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from meshlib.offline.replacements import REPLACE_ON, Change, changes, replace_rule
from meshlib.spec import parse_spec
from tests.mocks import Run
from tests.test_failure import run_config

STATEFUL = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:iam/role:Role",
    "gcp:compute/network:Network",
    "gcp:compute/subnetwork:Subnetwork",
    "gcp:compute/routerNat:RouterNat",
    "gcp:compute/address:Address",
    "gcp:container/cluster:Cluster",
    "gcp:container/nodePool:NodePool",
    "gcp:serviceaccount/account:Account",
    "tls:index/privateKey:PrivateKey",
    "tls:index/selfSignedCert:SelfSignedCert",
    "tls:index/locallySignedCert:LocallySignedCert",
    "pulumi:providers:kubernetes",
}
"""Resource types whose replacement loses state (addresses, clusters, nodes, keys) or disrupts the mesh."""


def base() -> dict[str, Any]:
    """Two EKS clusters sharing one AWS network, one GKE cluster, one exported service."""
    return {
        "mesh:meshId": "mesh1",
        "mesh:mode": "multi-primary",
        "mesh:adminCidrs": ["203.0.113.7/32"],
        "mesh:istio": {"version": "1.30.3"},
        "mesh:clusters": [
            {"name": "east", "cloud": "aws", "region": "us-east-1", "network": "net-aws"},
            {"name": "west", "cloud": "aws", "region": "us-east-1", "network": "net-aws"},
            {"name": "central", "cloud": "gcp", "project": "acme", "region": "us-central1", "network": "net-gcp"},
        ],
        "mesh:services": [
            {
                "name": "reviews",
                "cluster": "central",
                "consumers": ["east", "west"],
                "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
            }
        ],
    }


def primary_remote() -> dict[str, Any]:
    """A GKE primary controlling an EKS remote on its own network."""
    return {
        "mesh:meshId": "mesh1",
        "mesh:mode": "primary-remote",
        "mesh:adminCidrs": ["203.0.113.7/32"],
        "mesh:clusters": [
            {"name": "hub", "cloud": "gcp", "project": "p", "region": "europe-west1", "role": "primary"},
            {"name": "spoke", "cloud": "aws", "region": "eu-west-1", "role": "remote", "primary": "hub"},
        ],
    }


def cluster(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in config["mesh:clusters"] if c["name"] == name)


def without(config: dict[str, Any], name: str) -> dict[str, Any]:
    """`config` with cluster `name` gone, and from every consumer list."""
    config = copy.deepcopy(config)
    config["mesh:clusters"] = [c for c in config["mesh:clusters"] if c["name"] != name]
    for service in config["mesh:services"]:
        service["consumers"] = [c for c in service["consumers"] if c != name]
    return config


def belongs(change: Change, clusters: tuple[str, ...]) -> bool:
    """Whether a resource is one of `clusters`' own (name part, or its remote secrets / intermediates)."""
    return any(re.search(rf"(^|-){re.escape(c)}(-|$)", change.name) for c in clusters)


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Change]:
    return changes(run_config(old).resources, run_config(new).resources)


def lost_state(result: dict[str, Change], removed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{c.action} {c.name} ({', '.join(c.paths or c.because)})"
        for c in result.values()
        if c.type in STATEFUL and c.action in ("replace", "delete") and not belongs(c, removed)
    )


def actions(result: dict[str, Change], action: str) -> set[tuple[str, str]]:
    return {(c.type, c.name) for c in result.values() if c.action == action}


@pytest.fixture(scope="module")
def deployed() -> Run:
    return run_config(base())


def test_the_base_config_is_valid_and_its_defaults_do_not_clash() -> None:
    parse_spec({key.removeprefix("mesh:"): value for key, value in base().items()}, stack="test")


def test_the_table_covers_every_resource_type_meshlib_creates(deployed: Run) -> None:
    created = {r.type for r in deployed.resources if r.custom and r.type != "pulumi:providers:aws"}
    assert created, "nothing registered"
    assert {type_ for type_ in created if replace_rule(type_) is None} == set()
    assert all(forcing.source for forcing in REPLACE_ON.values())


def test_the_same_config_twice_changes_nothing(deployed: Run) -> None:
    result = changes(deployed.resources, run_config(base()).resources)
    assert {c.action for c in result.values()} == {"same"}


# -- everyday changes ----------------------------------------------------------------------------


def test_adding_a_cluster_creates_and_updates_only() -> None:
    new = base()
    new["mesh:clusters"].append({"name": "north", "cloud": "gcp", "project": "acme", "region": "us-east4"})
    new["mesh:services"][0]["consumers"].append("north")
    result = compare(base(), new)
    assert actions(result, "replace") == set() and actions(result, "delete") == set()
    created = actions(result, "create")
    assert ("gcp:container/cluster:Cluster", "mesh1-north-cluster") in created
    assert {name for _, name in created if "-watches-" in name} >= {
        "mesh1-north-watches-east",
        "mesh1-east-watches-north",
    }


@pytest.mark.parametrize("removed", ["west", "central"])
def test_removing_a_cluster_deletes_only_its_own(removed: str) -> None:
    old = base()
    # a third network, so that the mesh stays multi-network (and keeps its east-west gateways) without central
    old["mesh:clusters"].append({"name": "south", "cloud": "gcp", "project": "acme", "region": "us-west1"})
    old["mesh:services"] = [] if removed == "central" else old["mesh:services"]  # it goes with its exporter
    cluster(old, removed)["deletionProtection"] = False  # the documented first step
    new = without(old, removed)
    result = compare(old, new)
    owned = (removed, "net-gcp") if removed == "central" else (removed,)  # the last cluster takes its network
    assert lost_state(result, removed=owned) == []
    deleted = [c for c in result.values() if c.action == "delete"]
    assert deleted and [c.name for c in deleted if not belongs(c, owned)] == []
    assert not any(c.protected for c in deleted)


def test_removing_the_first_of_two_eks_clusters_keeps_the_networks_vpc_and_nat() -> None:
    old = base()
    cluster(old, "east")["deletionProtection"] = False
    result = compare(old, without(old, "east"))
    assert lost_state(result, removed=("east",)) == []
    kept = {c.name: c.action for c in result.values() if c.type in ("aws:ec2/vpc:Vpc", "aws:ec2/natGateway:NatGateway")}
    assert kept == {"mesh1-net-aws-vpc": "same", "mesh1-net-aws-nat-a": "same", "mesh1-net-aws-nat-b": "same"}


def test_removing_a_protected_cluster_is_refused_by_pulumi() -> None:
    result = compare(base(), without(base(), "west"))
    protected = {c.type for c in result.values() if c.action == "delete" and c.protected}
    assert "aws:eks/cluster:Cluster" in protected and "aws:ec2/eip:Eip" in protected


def test_an_istio_patch_bump_updates_the_releases_in_place() -> None:
    new = base()
    new["mesh:istio"] = {"version": "1.30.4"}
    result = compare(base(), new)
    assert actions(result, "replace") == set() and actions(result, "create") == set()
    updated = {c.type for c in result.values() if c.action == "update"}
    assert updated == {"kubernetes:helm.sh/v3:Release"}
    assert all(c.paths == ["version"] for c in result.values() if c.action == "update")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c["mesh:adminCidrs"].append("198.51.100.0/24"), id="admin-cidr"),
        pytest.param(lambda c: cluster(c, "east").update(nodes={"min": 3, "max": 9}), id="eks-min-max"),
        pytest.param(lambda c: cluster(c, "central").update(nodes={"min": 1, "max": 3}), id="gke-min-max"),
        pytest.param(
            lambda c: cluster(c, "central").update(nodes={"instanceType": "e2-standard-8", "diskSizeGb": 100}),
            id="gke-machine-type",
        ),
        pytest.param(
            lambda c: c["mesh:services"].append(
                {"name": "ratings", "cluster": "east", "consumers": ["central"], "ports": [{"number": 80, "name": "h"}]}
            ),
            id="export-a-service",
        ),
        pytest.param(lambda c: c.update({"mesh:services": []}), id="unexport-a-service"),
        pytest.param(lambda c: c.update({"mesh:eksAdmins": ["arn:aws:iam::123456789012:role/ci"]}), id="eks-admin"),
    ],
)
def test_everyday_changes_replace_nothing_that_holds_state(change: Any) -> None:
    new = base()
    change(new)
    result = compare(base(), new)
    assert lost_state(result) == []
    assert {c.action for c in result.values()} != {"same"}, "the change changed nothing: the test proves nothing"


def test_a_new_instance_type_replaces_the_node_group_new_one_first() -> None:
    new = base()
    cluster(new, "east")["nodes"] = {"instanceType": "m7i.large", "diskSizeGb": 80}
    old_run, new_run = run_config(base()), run_config(new)
    result = changes(old_run.resources, new_run.resources)
    assert lost_state(result) == ["replace mesh1-east-nodes (diskSize, instanceTypes[0])"]
    group = next(r for r in new_run.resources if r.name == "mesh1-east-nodes")
    # a name prefix lets both groups exist at once; Pulumi's default order creates the new one first
    assert group.plain["nodeGroupNamePrefix"] == "mesh1-test-east-" and "nodeGroupName" not in group.plain
    assert not group.delete_before_replace


# -- the classifier sees replacements (so the promises above can fail) ------------------------------


def test_a_region_move_replaces_the_cluster_and_what_follows_from_it() -> None:
    new = base()
    cluster(new, "central")["region"] = "europe-west1"
    result = compare(base(), new)
    gke = next(c for c in result.values() if c.type == "gcp:container/cluster:Cluster")
    assert gke.action == "replace" and "location" in gke.paths
    pool = next(c for c in result.values() if c.type == "gcp:container/nodePool:NodePool")
    assert pool.action == "replace"


def test_a_new_network_block_replaces_the_vpc_and_everything_in_it() -> None:
    new = base()
    new["mesh:networks"] = {"net-aws": {"vpcCidr": "10.250.0.0/24"}}
    result = compare(base(), new)
    vpc = next(c for c in result.values() if c.type == "aws:ec2/vpc:Vpc")
    assert vpc.action == "replace" and vpc.paths == ["cidrBlock"]
    subnets = [c for c in result.values() if c.type == "aws:ec2/subnet:Subnet"]
    assert subnets and all(c.action == "replace" for c in subnets)
    assert any(vpc.urn in c.because for c in subnets)  # through the VPC id, a computed value


def test_a_new_name_prefix_replaces_every_cluster() -> None:
    new = base()
    new["mesh:namePrefix"] = "blue"
    result = compare(base(), new)
    clusters = [c for c in result.values() if c.type.endswith("/cluster:Cluster")]
    assert len(clusters) == 3 and all(c.action == "replace" and "name" in c.paths for c in clusters)
