"""Layer 2: topology, Helm values and Istio manifests decided from a spec."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshlib.plan import (
    ClusterPlan,
    MeshPlan,
    base_values,
    cluster_manifests,
    gateway_values,
    istiod_values,
    namespace_metadata,
    plan_mesh,
)
from meshlib.spec import MeshSpec, parse_spec
from tests.conftest import example
from tests.validators import validate_istio

ADDRESS = "203.0.113.10"


def mesh(
    mode: str = "multi-primary",
    clusters: list[dict[str, Any]] | None = None,
    services: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> MeshSpec:
    return parse_spec(
        {"meshId": "mesh1", "mode": mode, "clusters": clusters or [], "services": services or [], **extra}
    )


def aws(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "cloud": "aws", "region": "us-east-1", **fields}


def gcp(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "cloud": "gcp", "project": "p1", "region": "us-central1", **fields}


def gcp_b() -> dict[str, Any]:
    """GKE cluster `b`, its ranges pinned: by default they would lie in the home of cluster `a`."""
    return gcp(
        "b", podCidr="10.44.0.0/16", nodeCidr="10.45.0.0/20", serviceCidr="10.45.16.0/20", masterCidr="10.45.32.0/28"
    )


def service(name: str, cluster: str, consumers: list[str], ports: tuple[int, ...] = (9080,)) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "default",
        "cluster": cluster,
        "consumers": consumers,
        "ports": [{"number": port, "name": f"http-{port}", "protocol": "HTTP"} for port in ports],
    }


def spread(labels: dict[str, str]) -> list[dict[str, Any]]:
    """Pods matching `labels` spread across zones, then nodes; scheduled anyway when they cannot be."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def all_manifests(plan: MeshPlan) -> dict[str, list[dict[str, Any]]]:
    addresses = {cluster.name: [f"{ADDRESS}"] for cluster in plan.clusters}
    hostnames = {cluster.name: cluster.address_is_hostname for cluster in plan.clusters}
    return {cluster.name: cluster_manifests(plan.spec, cluster, addresses, hostnames) for cluster in plan.clusters}


# -- topology -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_multi_primary_holds_n_times_n_minus_one_remote_secrets(count: int) -> None:
    clusters = [aws(f"c{i}") if i % 2 else gcp(f"c{i}") for i in range(count)]
    plan = plan_mesh(mesh(clusters=clusters))
    assert plan.remote_secret_count == count * (count - 1)
    for cluster in plan.clusters:
        assert set(cluster.watches) == {c.name for c in plan.clusters} - {cluster.name}
    assert plan_mesh(mesh(clusters=clusters, endpointDiscovery=False)).remote_secret_count == 0


def test_example_multi_primary() -> None:
    plan = plan_mesh(example("multi-primary"))
    east, central = plan.clusters
    assert (east.role, central.role) == ("primary", "primary")
    assert east.watches == ("central",) and central.watches == ("east",)
    assert east.east_west_gateway and central.east_west_gateway  # two networks
    assert not east.exposes_istiod and not central.exposes_istiod
    assert [i.host for i in east.imports] == ["reviews.default.svc.central.local"]
    assert central.imports == ()


def test_example_primary_remote() -> None:
    plan = plan_mesh(example("primary-remote"))
    hub, spoke = plan.clusters
    assert hub.remotes == ("spoke",) and hub.exposes_istiod
    assert hub.watches == ("spoke",) and spoke.watches == ()
    assert spoke.config_cluster == "hub"
    assert spoke.east_west_gateway  # on a network of its own
    assert plan.remote_secret_count == 1


def test_example_existing() -> None:
    plan = plan_mesh(example("existing"))
    kind_a, kind_b = plan.clusters
    assert kind_a.watches == ("kind-b",) and kind_b.watches == ("kind-a",)
    assert [i.host for i in kind_a.imports] == ["helloworld.sample.svc.kind-b.local"]


def test_primary_remote_gives_one_secret_per_remote_held_by_its_primary() -> None:
    spec = mesh(
        "primary-remote",
        [gcp("p1"), gcp("p2"), aws("r1", role="remote", primary="p1"), aws("r2", role="remote", primary="p2")],
        endpointDiscovery=False,
    )
    plan = plan_mesh(spec)
    assert plan.cluster("p1").watches == ("r1",)
    assert plan.cluster("p2").watches == ("r2",)
    assert plan.remote_secret_count == 2


def test_remote_on_its_primarys_network_uses_the_primarys_gateway() -> None:
    spec = mesh("primary-remote", [aws("hub", network="n1"), aws("spoke", network="n1", role="remote")])
    plan = plan_mesh(spec)
    assert plan.cluster("hub").east_west_gateway  # exposes istiod
    assert not plan.cluster("spoke").east_west_gateway


def test_single_network_multi_primary_needs_no_gateway_unless_exporting() -> None:
    # b's default ranges would share a's home: pinned where the config error says.
    b = aws("b", network="n", vpcCidr="10.44.0.0/16", serviceCidr="10.45.0.0/20")
    spec = mesh(clusters=[aws("a", network="n"), b])
    assert not any(c.east_west_gateway for c in plan_mesh(spec).clusters)
    spec = mesh(clusters=[aws("a", network="n"), b], services=[service("s", "b", ["a"])])
    assert [c.name for c in plan_mesh(spec).clusters if c.east_west_gateway] == ["b"]


def test_remote_consumer_is_served_by_its_primary_and_nowhere_else() -> None:
    spec = mesh(
        "primary-remote",
        [gcp("hub"), aws("spoke", role="remote", primary="hub"), aws("other", region="eu-west-1")],
        services=[service("reviews", "other", ["spoke"])],
    )
    plan = plan_mesh(spec)
    assert [i.host for i in plan.cluster("hub").imports] == ["reviews.default.svc.other.local"]
    assert plan.cluster("hub").imports[0].consumers == ("spoke",)
    manifests = all_manifests(plan)
    assert manifests["spoke"] == []  # a remote's own Istio config is read by nobody
    assert [m["kind"] for m in manifests["other"]] == ["PeerAuthentication", "Gateway"]


def test_gateway_peers_stay_open_when_a_source_is_unknown() -> None:
    plan = plan_mesh(example("primary-remote"))
    known = {"hub": True, "spoke": True}
    assert plan.gateway_peers("spoke", known, known) == ("hub",)
    # The hub serves istiod to the spoke, whose control plane (EKS) calls webhooks from known IPs.
    assert plan.gateway_peers("hub", known, known) == ("spoke",)
    assert plan.gateway_peers("hub", known, {"hub": True, "spoke": False}) is None
    assert plan.gateway_peers("spoke", {"hub": False, "spoke": True}, known) is None


# -- Helm values (DESIGN.md section 4) ---------------------------------------------------------


def test_primary_values_match_the_design_table() -> None:
    spec = example("primary-remote")
    hub = plan_mesh(spec).cluster("hub")
    # The charts' reader account is off: meshlib's `meshlib-reader` reads no more than istiod needs.
    assert base_values(spec, hub) == {"global": {"enableReaderRBAC": False}}
    assert istiod_values(spec, hub) == {
        "global": {
            "meshID": "mesh1",
            "multiCluster": {"clusterName": "hub"},
            "network": "net-gcp",
            "enableReaderRBAC": False,
            "externalIstiod": True,
        },
        "meshConfig": {
            "trustDomain": "cluster.local",
            "defaultConfig": {"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}},
        },
        # Highly available: two pods at least (the HPA starts at autoscaleMin), spread over zones and nodes.
        "autoscaleMin": 2,
        "replicaCount": 2,
        "topologySpreadConstraints": spread({"app": "istiod", "istio.io/rev": "default"}),
    }
    assert gateway_values(spec, hub) == {
        "name": "istio-eastwestgateway",
        "networkGateway": "net-gcp",
        "replicaCount": 2,
        "autoscaling": {"minReplicas": 2},
        "podDisruptionBudget": {"minAvailable": 1},
        "topologySpreadConstraints": spread({"istio": "eastwestgateway"}),
    }
    assert namespace_metadata(hub) == {"labels": {"topology.istio.io/network": "net-gcp"}, "annotations": {}}


def test_external_istiod_only_when_controlling_remotes() -> None:
    spec = example("multi-primary")
    for cluster in plan_mesh(spec).clusters:
        assert "externalIstiod" not in istiod_values(spec, cluster)["global"]


def test_remote_values_match_the_design_table() -> None:
    spec = example("primary-remote")
    spoke = plan_mesh(spec).cluster("spoke")
    assert base_values(spec, spoke, ADDRESS) == {"profile": "remote", "global": {"enableReaderRBAC": False}}
    assert istiod_values(spec, spoke, ADDRESS) == {
        "profile": "remote",
        "global": {
            "multiCluster": {"clusterName": "spoke"},
            "network": "net-aws",
            "configCluster": True,
            "remotePilotAddress": ADDRESS,
            "enableReaderRBAC": False,
        },
        "istiodRemote": {"injectionPath": "/inject/cluster/spoke/net/net-aws"},
    }
    assert namespace_metadata(spoke) == {
        "labels": {"topology.istio.io/network": "net-aws"},
        "annotations": {"topology.istio.io/controlPlaneClusters": "hub"},
    }


def test_remote_reaching_its_primary_by_hostname_uses_webhook_urls() -> None:
    spec = example("primary-remote")
    spoke = plan_mesh(spec).cluster("spoke")
    host = "gw.example.com"
    assert base_values(spec, spoke, host, primary_address_is_hostname=True) == {
        "profile": "remote",
        "global": {"enableReaderRBAC": False},
        "base": {"validationURL": "https://gw.example.com:15017/validate"},
    }
    values = istiod_values(spec, spoke, host, primary_address_is_hostname=True)
    assert values["istiodRemote"] == {"injectionURL": "https://gw.example.com:15017/inject/cluster/spoke/net/net-aws"}
    assert values["base"] == {"validationURL": "https://gw.example.com:15017/validate"}
    assert values["global"]["remotePilotAddress"] == host


def test_remote_without_primary_address_is_a_programming_error() -> None:
    spec = example("primary-remote")
    with pytest.raises(ValueError, match="needs its primary's east-west address"):
        istiod_values(spec, plan_mesh(spec).cluster("spoke"))


def test_revision_reaches_every_release_and_the_istiod_route() -> None:
    spec = mesh("primary-remote", [gcp("hub"), aws("spoke", role="remote")], istio={"revision": "1-30-3"})
    plan = plan_mesh(spec)
    hub, spoke = plan.clusters
    assert base_values(spec, hub)["defaultRevision"] == "1-30-3"
    assert istiod_values(spec, hub)["revision"] == "1-30-3"
    # istiod's pods are labelled with their revision: the spread selects those of this one
    assert istiod_values(spec, hub)["topologySpreadConstraints"] == spread({"app": "istiod", "istio.io/rev": "1-30-3"})
    assert istiod_values(spec, spoke, ADDRESS)["revision"] == "1-30-3"
    assert gateway_values(spec, spoke)["revision"] == "1-30-3"
    route = next(m for m in all_manifests(plan)["hub"] if m["kind"] == "VirtualService")
    hosts = {r["route"][0]["destination"]["host"] for r in route["spec"]["tls"]}
    assert hosts == {"istiod-1-30-3.istio-system.svc.cluster.local"}


def test_dns_capture_and_mtls_follow_config() -> None:
    spec = mesh(clusters=[aws("a"), gcp_b()], dnsCapture=False, mtlsMode="PERMISSIVE")
    a = plan_mesh(spec).cluster("a")
    assert "defaultConfig" not in istiod_values(spec, a)["meshConfig"]
    peer = next(m for m in all_manifests(plan_mesh(spec))["a"] if m["kind"] == "PeerAuthentication")
    assert peer["spec"] == {"mtls": {"mode": "PERMISSIVE"}}


def test_gateway_service_settings_are_passed_through() -> None:
    spec = example("multi-primary")
    east = plan_mesh(spec).cluster("east")
    values = gateway_values(spec, east, {"a": "b"}, "198.51.100.1", ["192.0.2.0/24"])
    assert values["service"] == {
        "annotations": {"a": "b"},
        "loadBalancerIP": "198.51.100.1",
        "loadBalancerSourceRanges": ["192.0.2.0/24"],
    }


# -- Istio manifests ------------------------------------------------------------------------------


def test_every_planned_manifest_passes_istios_schema(stack_file: Any) -> None:
    from meshlib.spec import load_spec_file

    for manifests in all_manifests(plan_mesh(load_spec_file(stack_file))).values():
        for manifest in manifests:
            validate_istio(manifest)


def test_validator_refuses_an_unknown_field() -> None:
    manifest = all_manifests(plan_mesh(example("multi-primary")))["east"][0]
    manifest["spec"]["mtlss"] = manifest["spec"].pop("mtls")
    with pytest.raises(AssertionError, match="unknown"):
        validate_istio(manifest)


def test_exported_service_entry_routes_through_the_exporters_gateway() -> None:
    plan = plan_mesh(example("multi-primary"))
    manifests = {m["kind"]: m for m in all_manifests(plan)["east"]}
    entry, rule = manifests["ServiceEntry"], manifests["DestinationRule"]
    assert entry["metadata"] == {"name": "reviews.default.svc.central.local", "namespace": "istio-system"}
    assert entry["spec"] == {
        "hosts": ["reviews.default.svc.central.local"],
        "location": "MESH_INTERNAL",
        "resolution": "STATIC",
        "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
        "endpoints": [{"address": ADDRESS, "ports": {"http": 15443}}],
    }
    assert rule["spec"] == {
        "host": "reviews.default.svc.central.local",
        "trafficPolicy": {
            "tls": {"mode": "ISTIO_MUTUAL", "sni": "outbound_.9080_._.reviews.default.svc.cluster.local"}
        },
    }


def test_several_ports_get_one_sni_each() -> None:
    spec = mesh(clusters=[aws("a"), gcp_b()], services=[service("api", "b", ["a"], ports=(80, 8443))])
    rule = next(m for m in all_manifests(plan_mesh(spec))["a"] if m["kind"] == "DestinationRule")
    assert rule["spec"]["trafficPolicy"] == {
        "portLevelSettings": [
            {
                "port": {"number": 80},
                "tls": {"mode": "ISTIO_MUTUAL", "sni": "outbound_.80_._.api.default.svc.cluster.local"},
            },
            {
                "port": {"number": 8443},
                "tls": {"mode": "ISTIO_MUTUAL", "sni": "outbound_.8443_._.api.default.svc.cluster.local"},
            },
        ]
    }
    validate_istio(rule)


def test_hostname_exporter_resolves_by_dns() -> None:
    spec = mesh(
        clusters=[
            {"name": "a", "cloud": "existing", "kubeconfig": {"context": "a"}, "eastWestAddress": "192.0.2.1"},
            {"name": "b", "cloud": "existing", "kubeconfig": {"context": "b"}, "eastWestAddress": "gw.b.example.com"},
        ],
        services=[service("s", "b", ["a"])],
    )
    plan = plan_mesh(spec)
    entry = next(m for m in all_manifests(plan)["a"] if m["kind"] == "ServiceEntry")
    assert entry["spec"]["resolution"] == "DNS"


def test_primary_with_remotes_exposes_istiod_like_istios_sample() -> None:
    manifests = all_manifests(plan_mesh(example("primary-remote")))["hub"]
    by_name = {m["metadata"]["name"]: m for m in manifests}
    assert set(by_name) == {"default", "cross-network-gateway", "istiod-gateway", "istiod-vs"}
    gateway = by_name["cross-network-gateway"]["spec"]
    assert gateway["selector"] == {"istio": "eastwestgateway"}
    assert gateway["servers"] == [
        {
            "port": {"number": 15443, "name": "tls", "protocol": "TLS"},
            "tls": {"mode": "AUTO_PASSTHROUGH"},
            "hosts": ["*.local"],
        }
    ]
    ports = [server["port"]["number"] for server in by_name["istiod-gateway"]["spec"]["servers"]]
    assert ports == [15012, 15017]
    routes = {
        r["match"][0]["port"]: r["route"][0]["destination"]["port"]["number"]
        for r in by_name["istiod-vs"]["spec"]["tls"]
    }
    assert routes == {15012: 15012, 15017: 443}


# -- determinism ---------------------------------------------------------------------------------


def _serialise(spec: MeshSpec) -> str:
    plan = plan_mesh(spec)

    def values(cluster: ClusterPlan) -> dict[str, Any]:
        address = ADDRESS if not cluster.is_primary else None
        return {
            "base": base_values(spec, cluster, address),
            "istiod": istiod_values(spec, cluster, address),
            "gateway": gateway_values(spec, cluster),
        }

    return json.dumps(
        {
            "clusters": [repr(cluster) for cluster in plan.clusters],
            "values": {cluster.name: values(cluster) for cluster in plan.clusters},
            "manifests": all_manifests(plan),
        },
        sort_keys=True,
    )


def test_planning_is_deterministic(stack_file: Any) -> None:
    from meshlib.spec import load_spec_file

    assert _serialise(load_spec_file(stack_file)) == _serialise(load_spec_file(stack_file))
