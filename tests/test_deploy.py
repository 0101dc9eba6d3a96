"""The first `pulumi up`, and every later one by someone else: refusals, access, quotas, HA, names.

Each promise of docs/lifecycle.md's "first up" section, checked on the mock engine.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from meshlib.components.aws import CROSS_ZONE, READINESS_GATE_LABEL
from meshlib.components.gcp import IMPERSONATION_VARIABLE
from meshlib.offline.engine import unwrap
from meshlib.plan import plan_mesh
from meshlib.plan.capacity import capacity_warnings
from meshlib.spec import ConfigError, parse_spec
from tests.mocks import MeshMocks, Run
from tests.test_failure import run_config
from tests.test_lifecycle import base

LB = "service.beta.kubernetes.io/aws-load-balancer"


def raw(config: dict[str, Any]) -> dict[str, Any]:
    return {key.removeprefix("mesh:"): value for key, value in config.items()}


@pytest.fixture(scope="module")
def deployed() -> Run:
    return run_config(base())


def release(run: Run, name: str) -> dict[str, Any]:
    return unwrap(next(r for r in run.resources if r.name == name).inputs)  # type: ignore[no-any-return]


# -- refused before any resource ----------------------------------------------------------------


def test_no_admin_cidrs_is_refused_before_any_resource_with_the_command_to_fix_it() -> None:
    config = base()
    del config["mesh:adminCidrs"]
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as caught:
        run_config(config, mocks)
    assert [p.key for p in caught.value.problems] == ["mesh:adminCidrs"]
    assert "pulumi config set --path 'mesh:adminCidrs[0]'" in str(caught.value)
    assert "east, west, central" in str(caught.value)
    assert mocks.resources == []


def test_pulumi_inside_the_networks_may_leave_admin_cidrs_empty() -> None:
    config = base()
    del config["mesh:adminCidrs"]
    config["mesh:pulumiInsideNetworks"] = True
    assert run_config(config).resources


# -- access for whoever runs the next up --------------------------------------------------------


def test_eks_admins_get_cluster_admin_access_entries_on_every_eks_cluster() -> None:
    config = base()
    admins = ["arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/platform-admin"]
    config["mesh:eksAdmins"] = admins
    run = run_config(config)
    entries = [r.plain for r in run.resources if r.type == "aws:eks/accessEntry:AccessEntry"]
    assert sorted((e["clusterName"], e["principalArn"], e["type"]) for e in entries) == sorted(
        (f"mesh1-test-{c}", a, "STANDARD") for c in ("east", "west") for a in admins
    )
    policies = [r.plain for r in run.resources if r.type == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"]
    assert len(policies) == 4 and all(
        p["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        and p["accessScope"] == {"type": "cluster"}
        for p in policies
    )


@pytest.mark.parametrize("principal", ["arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:group/x", "ci"])
def test_an_eks_admin_must_be_an_iam_role_or_user_arn(principal: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec({**raw(base()), "eksAdmins": [principal]})
    assert [p.key for p in caught.value.problems] == ["mesh:eksAdmins[0]"]


def kubeconfig_user(run: Run, provider: str) -> dict[str, Any]:
    config = yaml.safe_load(release(run, provider)["kubeconfig"])
    return config["users"][0]["user"]["exec"]  # type: ignore[no-any-return]


def test_kubeconfigs_carry_the_identity_the_cloud_providers_deploy_as() -> None:
    config = {
        **base(),
        "aws:profile": "deploy",
        "aws:assumeRoles": [
            {"roleArn": "arn:aws:iam::123456789012:role/hop"},
            {"roleArn": "arn:aws:iam::123456789012:role/mesh-deployer"},
        ],
        "gcp:impersonateServiceAccount": "deployer@acme.iam.gserviceaccount.com",
    }
    run = run_config(config)
    aws = kubeconfig_user(run, "mesh1-east-k8s")
    assert aws["command"] == "aws" and aws["args"] == [
        *("eks", "get-token", "--cluster-name", "mesh1-test-east", "--region", "us-east-1", "--output", "json"),
        *("--profile", "deploy", "--role-arn", "arn:aws:iam::123456789012:role/mesh-deployer"),
    ]
    gke = kubeconfig_user(run, "mesh1-central-k8s")
    assert gke["command"] == "gke-gcloud-auth-plugin"
    assert gke["env"] == [{"name": IMPERSONATION_VARIABLE, "value": "deployer@acme.iam.gserviceaccount.com"}]


def test_without_provider_identity_the_kubeconfigs_use_the_ambient_one(deployed: Run) -> None:
    assert "--profile" not in kubeconfig_user(deployed, "mesh1-east-k8s")["args"]
    assert "env" not in kubeconfig_user(deployed, "mesh1-central-k8s")


# -- quotas --------------------------------------------------------------------------------------


def test_elastic_ip_demand_over_the_default_quota_is_warned_per_region() -> None:
    config = base()
    config["mesh:clusters"].append({"name": "north", "cloud": "aws", "region": "us-east-1", "network": "net-north"})
    spec = parse_spec(raw(config), stack="test")
    # net-aws: 2 NAT + 2 x 2 east-west; net-north: 2 NAT + 2 east-west
    assert capacity_warnings(spec, plan_mesh(spec)) == [
        "AWS region us-east-1: the mesh allocates 10 Elastic IPs, over the default quota of 5 per region "
        "(Service Quotas 'EC2-VPC Elastic IPs', code L-0263D0A3); request an increase before `pulumi up`, "
        "less any Elastic IPs the account already holds there"
    ]
    assert any(w.startswith("AWS region us-east-1: the mesh allocates 10") for w in run_config(config).warnings)


def test_one_network_of_one_cluster_fits_the_default_quota() -> None:
    config = base()
    config["mesh:clusters"] = [c for c in config["mesh:clusters"] if c["name"] != "west"]
    config["mesh:services"][0]["consumers"] = ["east"]
    spec = parse_spec(raw(config), stack="test")
    assert capacity_warnings(spec, plan_mesh(spec)) == []


# -- HA --------------------------------------------------------------------------------------------


def test_istiod_and_gateways_run_two_replicas_spread_across_zones(deployed: Run) -> None:
    for cluster in ("east", "west", "central"):
        istiod = release(deployed, f"mesh1-{cluster}-istio-istiod")["values"]
        assert istiod["autoscaleMin"] == 2 and istiod["replicaCount"] == 2
        zones = [t for t in istiod["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zones[0]["labelSelector"] == {"matchLabels": {"app": "istiod", "istio.io/rev": "default"}}
        gateway = release(deployed, f"mesh1-{cluster}-eastwest-release")["values"]
        assert gateway["replicaCount"] == 2 and gateway["autoscaling"] == {"minReplicas": 2}
        assert gateway["podDisruptionBudget"] == {"minAvailable": 1}
        spread = {t["topologyKey"]: t["labelSelector"] for t in gateway["topologySpreadConstraints"]}
        assert spread["topology.kubernetes.io/zone"] == {"matchLabels": {"istio": "eastwestgateway"}}


def test_eks_gateways_balance_across_zones_and_wait_for_healthy_targets(deployed: Run) -> None:
    for cluster in ("east", "west"):
        annotations = release(deployed, f"mesh1-{cluster}-eastwest-release")["values"]["service"]["annotations"]
        assert annotations[f"{LB}-attributes"] == CROSS_ZONE == "load_balancing.cross_zone.enabled=true"
        namespace = release(deployed, f"mesh1-{cluster}-istio-namespace")["metadata"]
        assert namespace["labels"][READINESS_GATE_LABEL] == "enabled"
    gke_namespace = release(deployed, "mesh1-central-istio-namespace")["metadata"]
    assert READINESS_GATE_LABEL not in gke_namespace["labels"]


# -- two stacks side by side -----------------------------------------------------------------------

PHYSICAL = {
    "aws:eks/cluster:Cluster": "name",
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupNamePrefix",
    "aws:iam/role:Role": "name",
    "gcp:container/cluster:Cluster": "name",
    "gcp:compute/network:Network": "name",
    "gcp:compute/subnetwork:Subnetwork": "name",
    "gcp:compute/router:Router": "name",
    "gcp:compute/routerNat:RouterNat": "name",
    "gcp:compute/address:Address": "name",
    "gcp:compute/firewall:Firewall": "name",
    "gcp:serviceaccount/account:Account": "accountId",
}


def physical_names(run: Run) -> set[str]:
    return {r.plain[key] for r in run.resources for type_, key in PHYSICAL.items() if r.type == type_}


def test_two_stacks_of_one_config_share_no_cloud_name() -> None:
    import runpy

    from meshlib.offline.engine import run_program as engine_run
    from tests import fakes
    from tests.test_failure import ROOT

    def run_as(stack: str) -> Run:
        mocks = MeshMocks(computed=fakes.outputs, invoke=fakes.call)
        return engine_run(
            lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
            config=copy.deepcopy(base()),
            mocks=mocks,
            stack=stack,
        )

    dev, prod = run_as("dev"), run_as("prod")
    names = physical_names(dev)
    assert len(names) >= 20 and names.isdisjoint(physical_names(prod))
    assert all(name.startswith("mesh1-dev-") for name in names)
    # Istio's own cluster names stay the config names
    istiod = release(dev, "mesh1-east-istio-istiod")["values"]
    assert istiod["global"]["multiCluster"]["clusterName"] == "east"
    eks = next(r for r in dev.resources if r.type == "aws:eks/cluster:Cluster" and r.name == "mesh1-east-eks")
    assert eks.plain["name"] == "mesh1-dev-east"
    subnets = [r.plain for r in dev.resources if r.type == "aws:ec2/subnet:Subnet" and "-east-" in r.name]
    assert subnets and all(s["tags"].get("kubernetes.io/cluster/mesh1-dev-east") == "shared" for s in subnets)


# -- certificates ----------------------------------------------------------------------------------


def test_intermediates_renew_early_and_every_expiry_is_a_stack_output(deployed: Run) -> None:
    certs = [r.plain for r in deployed.resources if r.type == "tls:index/locallySignedCert:LocallySignedCert"]
    assert len(certs) == 3 and all(c["earlyRenewalHours"] == 90 * 24 for c in certs)
    root = next(r.plain for r in deployed.resources if r.type == "tls:index/selfSignedCert:SelfSignedCert")
    assert "earlyRenewalHours" not in root  # a new root breaks trust: rotated by hand
    assert set(deployed.outputs["certificateExpiry"]) == {"root", "east", "west", "central"}
