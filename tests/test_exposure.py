"""East-west gateways expose no more than the mesh needs, and the plan says where they must stay open.

- Restricted by default: a gateway admits exactly its peers' egress where every peer's is known.
- Where a source is unknown (an adopted cluster; an API server calling istiod's webhooks), the
  gateway stays open and a warning names the ports and why.
- Federated mode (no endpoint discovery): the cross-network Gateway passes through exactly the
  exported hosts, not every `*.local`.
"""

from __future__ import annotations

import copy
from typing import Any

from meshlib.plan import plan_mesh
from meshlib.spec import parse_spec
from tests.mocks import Run, fake_ip
from tests.test_failure import run_config
from tests.test_lifecycle import base, primary_remote
from tests.validators import validate_istio

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"


def values(run: Run, cluster: str) -> dict[str, Any]:
    return next(r.plain for r in run.resources if r.name == f"mesh1-{cluster}-eastwest-release")["values"]  # type: ignore[no-any-return]


def nat(run: Run, network: str) -> set[str]:
    return {
        f"{fake_ip(r.name)}/32"
        for r in run.resources
        if r.type == "aws:ec2/eip:Eip" and r.name.startswith(f"mesh1-{network}-nat-")
    }


def test_gateways_admit_exactly_their_peers_egress_by_default() -> None:
    config = base()
    run = run_config(config)
    gcp_nat = {
        f"{fake_ip(r.name)}/32" for r in run.resources if r.type == "gcp:compute/address:Address" and "-nat-" in r.name
    }
    assert len(gcp_nat) == 2 and len(nat(run, "net-aws")) == 2
    assert values(run, "central")["service"]["loadBalancerSourceRanges"] == sorted(nat(run, "net-aws"))
    # east's peers: west (same network, same NAT) and central
    assert set(values(run, "east")["service"]["loadBalancerSourceRanges"]) == nat(run, "net-aws") | gcp_nat
    assert not [w for w in run.warnings if "east-west gateway" in w]


def test_a_gateway_whose_peer_is_adopted_stays_open_and_the_plan_says_so() -> None:
    config = base()
    config["mesh:clusters"].append(
        {"name": "kind", "cloud": "existing", "kubeconfig": {"secret": "kindConfig"}, "eastWestAddress": "192.0.2.7"}
    )
    config["mesh:kindConfig"] = "placeholder"
    spec = parse_spec({k.removeprefix("mesh:"): v for k, v in config.items()}, stack="test")
    plan = plan_mesh(spec)
    known = {c.name: c.cloud != "existing" for c in spec.clusters}
    assert plan.gateway_exposure("central", known, dict.fromkeys(known, False)) == (
        "east-west gateway of 'central': ports 15443 (mesh traffic) stay open to every source; the addresses of "
        "the egress of kind (adopted) are not known in advance"
    )


def test_a_primary_exposing_istiod_to_a_remote_whose_api_server_egress_is_unknown_stays_open() -> None:
    spec = parse_spec({key.removeprefix("mesh:"): value for key, value in primary_remote().items()}, stack="test")
    plan = plan_mesh(spec)
    known = {"hub": True, "spoke": True}
    assert plan.gateway_exposure("hub", known, {"hub": False, "spoke": False}) == (
        "east-west gateway of 'hub': ports 15443 (mesh traffic) and 15012/15017 (istiod) stay open to every source; "
        "the addresses of the API server of spoke calling istiod's webhooks are not known in advance"
    )
    assert plan.gateway_exposure("hub", known, known) == (
        "east-west gateway of 'hub': 15012/15017 (istiod) admit the egress of every peer admitted to 15443, not "
        "only of its remotes (spoke): one load balancer has one source list; istiod still authenticates every caller"
    )
    assert plan.gateway_exposure("spoke", known, known) is None
    assert plan.gateway_exposure("spoke", known, known, restrict=False) == (
        "east-west gateway of 'spoke': ports 15443 (mesh traffic) are open to every source (restrictEastWestSources)"
    )


def federated() -> dict[str, Any]:
    config = copy.deepcopy(base())
    config["mesh:endpointDiscovery"] = False
    config["mesh:services"].append(
        {
            "name": "ratings",
            "namespace": "shop",
            "cluster": "central",
            "consumers": ["east"],
            "ports": [{"number": 80, "name": "h"}],
        }
    )
    return config


def test_federated_gateways_pass_through_exactly_the_exported_hosts() -> None:
    run = run_config(federated())
    gateways = {
        r.provider_name: r.plain
        for r in run.resources
        if r.type == GATEWAY and r.name.endswith("cross-network-gateway")
    }
    # only the exporter's config cluster passes anything through; the others hold no such Gateway
    assert set(gateways) == {"mesh1-central-k8s"}
    manifest = gateways["mesh1-central-k8s"]
    assert manifest["spec"]["servers"][0]["hosts"] == [
        "ratings.shop.svc.cluster.local",
        "reviews.default.svc.cluster.local",
    ]
    assert manifest["spec"]["servers"][0]["tls"] == {"mode": "AUTO_PASSTHROUGH"}
    validate_istio({k: manifest[k] for k in ("apiVersion", "kind", "metadata", "spec")})


def test_with_endpoint_discovery_every_local_host_passes() -> None:
    run = run_config(base())
    hosts = {
        r.provider_name: r.plain["spec"]["servers"][0]["hosts"]
        for r in run.resources
        if r.type == GATEWAY and r.name.endswith("cross-network-gateway")
    }
    assert hosts == {f"mesh1-{c}-k8s": ["*.local"] for c in ("east", "west", "central")}
