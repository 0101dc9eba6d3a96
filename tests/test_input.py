"""Hostile and careless input: every class refused with its key, in one pass, before any resource.

Each case is one config mistake of a kind that used to pass validation and fail mid-deploy
(or crash); the expected key is where the user must look.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from meshlib.spec import ConfigError, load_spec, load_spec_file, parse_spec
from tests.conftest import ROOT, fixture_stack
from tests.mocks import MeshMocks, run_program

SECRET_VALUE = "s3cr3t-do-not-print"


def pulumi_config(config: dict[str, Any]) -> dict[str, str]:
    """`mesh:*` config as Pulumi hands it to a program: scalars as text, structured values as JSON."""
    return {f"mesh:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def valid() -> dict[str, Any]:
    return {
        "meshId": "mesh1",
        "mode": "multi-primary",
        "adminCidrs": ["203.0.113.7/32"],
        "clusters": [
            {"name": "east", "cloud": "aws", "region": "us-east-1"},
            {"name": "central", "cloud": "gcp", "project": "p1", "region": "us-central1"},
            {"name": "kind-a", "cloud": "existing", "kubeconfig": {"context": "a"}, "eastWestAddress": "192.0.2.10"},
        ],
        "services": [
            {"name": "reviews", "cluster": "central", "consumers": ["east"], "ports": [{"number": 9080, "name": "h"}]}
        ],
    }


def at(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        node: Any = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


CASES = [
    # full matches: `$` would accept a trailing newline
    pytest.param(at("clusters", 0, "name", value="east\n"), "mesh:clusters[0].name", id="name-newline"),
    pytest.param(at("services", 0, "namespace", value="default\n"), "mesh:services[0].namespace", id="ns-newline"),
    pytest.param(at("istio", value={"version": "1.30.3\n"}), "mesh:istio.version", id="version-newline"),
    pytest.param(at("istio", value={"version": "1.30.03"}), "mesh:istio.version", id="version-not-canonical"),
    pytest.param(at("clusters", 0, "kubernetesVersion", value="1.033"), "mesh:clusters[0].kubernetesVersion", id="k8s"),
    # names that would make two resources meet, or a host that is the consumer's own
    pytest.param(at("clusters", 0, "name", value="a-watches-b"), "mesh:clusters[0].name", id="watches"),
    pytest.param(
        lambda c: (c["clusters"][1].update(name="cluster"), c["services"][0].update(cluster="cluster")),
        "mesh:services[0].cluster",
        id="exporter-named-cluster",
    ),
    # addresses
    pytest.param(at("clusters", 2, "eastWestAddress", value="300.1.1.1"), "mesh:clusters[2].eastWestAddress", id="ip"),
    pytest.param(at("clusters", 2, "eastWestAddress", value="1.2.3"), "mesh:clusters[2].eastWestAddress", id="short"),
    pytest.param(
        at("clusters", 2, "eastWestAddress", value="127.0.0.1"), "mesh:clusters[2].eastWestAddress", id="loopback"
    ),
    pytest.param(at("clusters", 2, "eastWestAddress", value="0.0.0.0"), "mesh:clusters[2].eastWestAddress", id="any"),
    pytest.param(
        lambda c: c["clusters"].append(
            {"name": "kind-b", "cloud": "existing", "kubeconfig": {"context": "b"}, "eastWestAddress": "192.0.2.10"}
        ),
        "mesh:clusters[3].eastWestAddress",
        id="same-address",
    ),
    pytest.param(
        lambda c: c["clusters"].append(
            {"name": "kind-b", "cloud": "existing", "kubeconfig": {"context": "a"}, "eastWestAddress": "192.0.2.11"}
        ),
        "mesh:clusters[3].kubeconfig.context",
        id="same-context",
    ),
    # empty and mistyped values
    pytest.param(at("clusters", 0, "region", value=""), "mesh:clusters[0].region", id="empty-region"),
    pytest.param(at("clusters", 1, "project", value=" "), "mesh:clusters[1].project", id="blank-project"),
    pytest.param(
        at("clusters", 2, "kubeconfig", value={"context": ""}), "mesh:clusters[2].kubeconfig.context", id="ctx"
    ),
    pytest.param(at("clusters", 0, "nodes", value={"min": True}), "mesh:clusters[0].nodes.min", id="bool-count"),
    pytest.param(at("services", 0, "ports", 0, "number", value=False), "mesh:services[0].ports[0].number", id="bool"),
    # ranges that cannot be
    pytest.param(at("clusters", 1, "podCidr", value="10.0.0.0/8"), "mesh:clusters[1].podCidr", id="pod-range"),
    pytest.param(at("clusters", 1, "nodeCidr", value="10.64.0.0/30"), "mesh:clusters[1].nodeCidr", id="node-range"),
]


@pytest.mark.parametrize(("mutate", "key"), CASES)
def test_refused_with_its_key_before_any_resource(mutate: Callable[[dict[str, Any]], None], key: str) -> None:
    config = valid()
    mutate(config)
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as caught:
        run_program(lambda: parse_spec(config, stack="test"), mocks=mocks)
    assert key in [p.key for p in caught.value.problems], caught.value
    assert mocks.resources == []


def test_the_valid_base_is_valid() -> None:
    parse_spec(valid(), stack="test")


def test_shape_and_cross_field_problems_come_out_in_one_pass() -> None:
    config = valid()
    config["clusters"][0]["regoin"] = "typo"  # shape
    config["meshId"] = "Mesh_1"  # shape, and a required key
    config["services"][0]["consumers"] = ["central"]  # cross-field: exports to itself
    config["clusters"][2]["eastWestAddress"] = "300.1.1.1"  # shape
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    assert [p.key for p in caught.value.problems] == [
        "mesh:clusters[0].regoin",
        "mesh:clusters[2].eastWestAddress",
        "mesh:meshId",
        "mesh:services[0].consumers[0]",
    ]


def test_cidr_exhaustion_is_a_config_error_per_cluster_never_a_traceback() -> None:
    config = valid()
    config["services"] = []
    config["clusters"] = [
        {"name": f"g{i}", "cloud": "gcp", "project": "p1", "region": "us-central1"} for i in range(70)
    ]
    with pytest.raises(ConfigError) as caught:
        parse_spec(config)
    messages = [str(p) for p in caught.value.problems]
    assert any("no free /14 is left in 10.0.0.0/8" in m for m in messages)
    assert all(p.key.startswith("mesh:clusters[") for p in caught.value.problems)


def test_admin_cidrs_covering_the_internet_in_pieces_are_warned_about() -> None:
    config = {f"mesh:{key}": value for key, value in valid().items()}
    config["mesh:clusters"] = config["mesh:clusters"][:2]
    config["mesh:adminCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]
    mocks = MeshMocks()
    from tests.test_failure import run_config

    run = run_config(config, mocks)
    assert [w for w in run.warnings if w.startswith("mesh:adminCidrs together cover the whole internet")]


def test_no_error_message_echoes_a_secret_value() -> None:
    config = pulumi_config(valid())
    config["mesh:adminCidrs"] = json.dumps([SECRET_VALUE])
    pulumi.runtime.set_all_config(config, ["mesh:adminCidrs"])
    try:
        with pytest.raises(ConfigError) as caught:
            load_spec()
    finally:
        pulumi.runtime.set_all_config({}, [])
    assert [p.key for p in caught.value.problems] == ["mesh:adminCidrs[0]"]
    assert SECRET_VALUE not in str(caught.value)


def test_a_kubeconfig_context_that_does_not_resolve_is_refused_at_load(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump({"contexts": [{"name": "b", "context": {}}], "current-context": "b"}))
    config = valid()
    config["clusters"][2]["kubeconfig"] = {"path": str(kubeconfig), "context": "a"}
    pulumi.runtime.set_all_config(pulumi_config(config), [])
    try:
        with pytest.raises(ConfigError) as caught:
            load_spec()
        config["clusters"][2]["kubeconfig"] = {"path": str(tmp_path / "missing")}
        pulumi.runtime.set_all_config(pulumi_config(config), [])
        with pytest.raises(ConfigError) as missing:
            load_spec()
    finally:
        pulumi.runtime.set_all_config({}, [])
    assert [str(p) for p in caught.value.problems] == [
        f"mesh:clusters[2].kubeconfig.context: no context 'a' in {kubeconfig}: one of b"
    ]
    assert [p.key for p in missing.value.problems] == ["mesh:clusters[2].kubeconfig.path"]


def test_the_plan_and_the_program_read_scalars_alike(tmp_path: Path) -> None:
    document = {"config": {f"mesh:{k}": v for k, v in valid().items()}}
    document["config"]["mesh:clusters"] = valid()["clusters"][:2]  # no kubeconfig file to read here
    document["config"]["mesh:meshId"] = 123  # YAML reads a number; Pulumi hands the program "123"
    document["config"]["mesh:dnsCapture"] = False
    document["config"]["mesh:namePrefix"] = "m"
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(yaml.safe_dump(document))
    from_file = load_spec_file(path)
    # what the Pulumi CLI hands a program: every top-level scalar as text, structured values as JSON
    as_text = {k: str(v).lower() if isinstance(v, bool) else v for k, v in document["config"].items()}
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in as_text.items()}, [])
    try:
        from_pulumi = load_spec()
    finally:
        pulumi.runtime.set_all_config({}, [])
    assert from_file.mesh_id == "123" and from_file.dns_capture is False
    assert from_pulumi == from_file


def test_an_adopted_clusters_provider_reads_the_same_on_every_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.components.test_existing import existing_spec, kubeconfig_text, provider_of, run_existing

    inputs = []
    for user in ("alice", "bob"):
        home = tmp_path / user
        (home / ".kube").mkdir(parents=True)
        (home / ".kube" / "config").write_text(kubeconfig_text())
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("KUBECONFIG", raising=False)
        run, _ = run_existing(existing_spec())
        inputs.append(provider_of(run).plain)
    assert inputs[0] == inputs[1] and inputs[0]["kubeconfig"] == "~/.kube/config"


def test_an_offline_plan_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from meshlib.offline.program import plan_stack, resolve_stack

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _, run = plan_stack(resolve_stack(str(fixture_stack("existing")), ROOT))
    assert list(tmp_path.iterdir()) == []
    providers = [r for r in run.resources if r.type == "pulumi:providers:kubernetes"]
    assert providers and all(r.is_secret("kubeconfig") for r in providers)
