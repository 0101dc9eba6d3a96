"""The ready program (`__main__.py`) on every stack in `stacks/`, as `pulumi up` runs it."""

from __future__ import annotations

import ipaddress
import json
import runpy
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlib.offline.program import placeholder_kubeconfig
from meshlib.plan import plan_mesh
from meshlib.plan.credentials import intermediate_profile, root_profile
from meshlib.spec import ConfigError, MeshSpec, load_spec_file
from tests import fakes
from tests.conftest import ROOT, STACKS, fixture_stack, stack_name
from tests.fakes_tls import ISSUED
from tests.mocks import MeshMocks, Registered, Run, registrations, run_program

KUBERNETES = "kubernetes:"


def stack_config(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text())["config"])


def run_stack(path: Path, preview: bool = False) -> Run:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        config=stack_config(path),
        preview=preview,
    )


@pytest.fixture(autouse=True)
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Adopted clusters of the shipped stacks resolve through `$KUBECONFIG`."""
    contexts = [
        c.kubeconfig.context
        for stack in STACKS
        for c in load_spec_file(stack).clusters
        if c.kubeconfig is not None and c.kubeconfig.context
    ]
    file = tmp_path / "kubeconfig"
    file.write_text(placeholder_kubeconfig(contexts or ["none"]))
    monkeypatch.setenv("KUBECONFIG", str(file))
    return file


@pytest.fixture(params=STACKS, ids=stack_name, scope="module")
def stack(request: pytest.FixtureRequest) -> Path:
    return request.param  # type: ignore[no-any-return]


def cluster_of(resource: Registered, spec: MeshSpec) -> str:
    """The cluster a resource belongs to: its provider's for Kubernetes, its name's otherwise."""
    if resource.type.startswith(KUBERNETES):
        return resource.provider_name.removeprefix(f"{spec.mesh_id}-").removesuffix("-k8s")
    for cluster in spec.clusters:
        if resource.name.startswith(f"{spec.mesh_id}-{cluster.name}"):
            return cluster.name
    return "(mesh)"


def test_whole_graph(stack: Path) -> None:
    spec = load_spec_file(stack)
    plan = plan_mesh(spec)
    run = run_stack(stack)
    # The deploy-time checks' resources are counted in tests/test_verify.py.
    counts = Counter((cluster_of(r, spec), r.type) for r in run.resources if "MeshVerification" not in r.urn)

    for cluster in plan.clusters:
        name = cluster.name
        releases = 2 + cluster.east_west_gateway
        assert counts[(name, "kubernetes:helm.sh/v3:Release")] == releases + (
            cluster.cloud == "aws" and cluster.east_west_gateway
        )
        assert counts[(name, "kubernetes:core/v1:Namespace")] == 1
        holds = len(cluster.watches)
        watched_by = len(plan.watchers_of(name))
        # cacerts, one remote secret per watched cluster, one reader token per watcher (+ its read-back)
        assert counts[(name, "kubernetes:core/v1:Secret")] == 1 + holds + 2 * watched_by
        istio = counts[(name, "kubernetes:networking.istio.io/v1:Gateway")]
        assert istio == (cluster.is_primary and cluster.east_west_gateway) + cluster.exposes_istiod
        assert counts[(name, "kubernetes:networking.istio.io/v1:ServiceEntry")] == len(cluster.imports)
        assert counts[(name, "kubernetes:networking.istio.io/v1:DestinationRule")] == len(cluster.imports)
        assert counts[(name, "kubernetes:security.istio.io/v1:PeerAuthentication")] == cluster.is_primary
        cloud_cluster = {"aws": "aws:eks/cluster:Cluster", "gcp": "gcp:container/cluster:Cluster"}.get(cluster.cloud)
        if cloud_cluster:
            assert counts[(name, cloud_cluster)] == 1
        assert counts[(name, "pulumi:providers:kubernetes")] == 1


def test_exported_services_are_configured_in_each_consumers_config_cluster_only(stack: Path) -> None:
    spec = load_spec_file(stack)
    run = run_stack(stack)
    expected = set()
    by_name = {c.name: c for c in spec.clusters}
    for service in spec.services:
        for consumer in service.consumers:
            holder = consumer if by_name[consumer].role == "primary" else str(by_name[consumer].primary)
            expected.add((holder, f"{service.name}.{service.namespace}.svc.{service.cluster}.local"))
    for kind, field in (("ServiceEntry", "hosts"), ("DestinationRule", "host")):
        found = {
            (cluster_of(r, spec), r.plain["spec"][field][0] if field == "hosts" else r.plain["spec"][field])
            for r in run.mocks.of_type(f"kubernetes:networking.istio.io/v1:{kind}")
        }
        assert found == expected, kind


def test_primary_remote_with_a_remote_consumer() -> None:
    path = fixture_stack("primary-remote")
    config = stack_config(path)
    config["mesh:clusters"].append(
        {"name": "third", "cloud": "aws", "region": "us-east-1", "network": "net-third", "role": "remote"}
    )
    config["mesh:services"] = [
        {"name": "reviews", "cluster": "third", "consumers": ["spoke"], "ports": [{"number": 9080, "name": "http"}]}
    ]
    run = run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config)
    entries = run.mocks.of_type("kubernetes:networking.istio.io/v1:ServiceEntry")
    assert [(e.provider_name, e.plain["spec"]["hosts"]) for e in entries] == [
        ("mesh1-hub-k8s", ["reviews.default.svc.third.local"])
    ]


def test_every_kubernetes_resource_uses_its_own_clusters_provider(stack: Path) -> None:
    spec = load_spec_file(stack)
    run = run_stack(stack)
    providers = {r.name for r in run.mocks.of_type("pulumi:providers:kubernetes")}
    assert providers == {f"{spec.mesh_id}-{c.name}-k8s" for c in spec.clusters}
    names = sorted((c.name for c in spec.clusters), key=len, reverse=True)
    kubernetes = [r for r in run.resources if r.type.startswith(KUBERNETES)]
    assert kubernetes
    for resource in kubernetes:
        # The cluster a resource is for is in its name; a reader token belongs to the watched cluster.
        local = resource.name.removeprefix(f"{spec.mesh_id}-")
        if "-watches-" in local:
            watcher, watched = local.split("-watches-")
            owner = next(n for n in names if watched.startswith(f"{n}-")) if "-reader-token" in local else watcher
        else:
            owner = next(n for n in names if local.startswith(f"{n}-"))
        assert resource.provider_name == f"{spec.mesh_id}-{owner}-k8s", resource.name


def test_stack_outputs(stack: Path) -> None:
    spec = load_spec_file(stack)
    run = run_stack(stack)
    assert set(run.outputs) == {"mesh", "clusters", "certificateExpiry", "kubeconfigs"}
    assert run.secret_outputs == {"kubeconfigs"}
    # When each CA certificate expires: the generated root (none of the shipped stacks brings its own), then
    # every cluster's intermediate, as the TLS provider reports it (the fakes issue all at ISSUED).
    expiry = run.outputs["certificateExpiry"]
    assert set(expiry) == {"root"} | {c.name for c in spec.clusters}
    lifetimes = {"root": root_profile().validity_hours} | {
        c.name: intermediate_profile(c.name).validity_hours for c in spec.clusters
    }
    for certificate, end in expiry.items():
        ends = datetime.fromisoformat(end.replace("Z", "+00:00"))
        assert ends == ISSUED + timedelta(hours=lifetimes[certificate]), certificate
    assert set(run.outputs["clusters"]) == {c.name for c in spec.clusters}
    assert set(run.outputs["kubeconfigs"]) == {c.name for c in spec.clusters}
    plan = plan_mesh(spec)
    for name, outputs in run.outputs["clusters"].items():
        cluster = plan.cluster(name)
        assert outputs["endpoint"].startswith("https://"), name
        assert (outputs["cloud"], outputs["network"], outputs["role"]) == (cluster.cloud, cluster.network, cluster.role)
        assert outputs["istioRevision"] == "default"
        if cluster.east_west_gateway:
            address = outputs["eastWestAddress"]
            configured = next(c.east_west_address for c in spec.clusters if c.name == name)
            assert address == configured if configured else ipaddress.IPv4Address(address)
        else:
            assert outputs["eastWestAddress"] is None
    assert run.outputs["mesh"]["meshId"] == spec.mesh_id
    assert json.dumps(run.outputs["mesh"])  # plain data


def test_two_runs_register_identical_inputs(stack: Path) -> None:
    assert registrations(run_stack(stack)) == registrations(run_stack(stack))


def test_first_preview_of_an_empty_stack_succeeds(stack: Path) -> None:
    run = run_stack(stack, preview=True)
    assert run.mocks.of_type("kubernetes:helm.sh/v3:Release")


def test_bad_config_stops_before_any_resource() -> None:
    config = stack_config(fixture_stack("multi-primary"))
    config["mesh:clusters"][1]["network"] = "net-aws"
    mocks = MeshMocks()
    with pytest.raises(ConfigError, match=r"mesh:clusters\[1\]\.network"):
        run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config, mocks=mocks)
    assert mocks.resources == []


def test_api_servers_admit_exactly_their_watchers_egress_and_the_admins() -> None:
    config = stack_config(fixture_stack("multi-primary"))
    config["mesh:adminCidrs"] = ["198.51.100.0/24"]
    run = run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config)

    def nat_ips(type_: str, field: str, network: str) -> set[str]:
        found = [r for r in run.mocks.of_type(type_) if r.name.startswith(f"mesh1-{network}-") and "-nat-" in r.name]
        assert found
        return {f"{fakes.outputs(r.type, r.name, r.plain)[field]}/32" for r in found}

    aws_egress = nat_ips("aws:ec2/eip:Eip", "publicIp", "net-aws")
    gcp_egress = nat_ips("gcp:compute/address:Address", "address", "net-gcp")
    east = run.mocks.of_type("aws:eks/cluster:Cluster")[0].plain["vpcConfig"]
    assert set(east["publicAccessCidrs"]) == {"198.51.100.0/24"} | gcp_egress  # central's istiod watches east
    central = run.mocks.of_type("gcp:container/cluster:Cluster")[0].plain["masterAuthorizedNetworksConfig"]
    assert {block["cidrBlock"] for block in central["cidrBlocks"]} == {"198.51.100.0/24"} | aws_egress
    assert "0.0.0.0/0" not in json.dumps([east, central])
