"""ExistingCluster under the mock engine, and its kubeconfig parsing."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from meshlib.components.existing import (
    ExistingCluster,
    ExistingClusterArgs,
    default_kubeconfig_path,
    parse_kubeconfig,
    resolve_context,
)
from meshlib.spec.models import ClusterSpec
from tests.mocks import Registered, Run, run_program

CA_A = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nfake-ca-a\n-----END CERTIFICATE-----\n").decode()
CA_B_PEM = b"-----BEGIN CERTIFICATE-----\nfake-ca-b\n-----END CERTIFICATE-----\n"
TOKEN = "very-secret-admin-token"


def kubeconfig_text() -> str:
    """Two contexts: `kind-a` (inline CA, current) and `kind-b` (CA in a file next to the kubeconfig)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "kind-a",
            "clusters": [
                {"name": "a", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": CA_A}},
                {"name": "b", "cluster": {"server": "https://10.9.0.1:6443", "certificate-authority": "ca-b.crt"}},
            ],
            "contexts": [
                {"name": "kind-a", "context": {"cluster": "a", "user": "admin-a"}},
                {"name": "kind-b", "context": {"cluster": "b", "user": "admin-b"}},
            ],
            "users": [
                {"name": "admin-a", "user": {"token": TOKEN}},
                {"name": "admin-b", "user": {"client-certificate": "b.crt", "client-key": "b.key"}},
            ],
        }
    )


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    (tmp_path / "ca-b.crt").write_bytes(CA_B_PEM)
    path = tmp_path / "config"
    path.write_text(kubeconfig_text())
    return path


def existing_spec(name: str = "kind-a", east_west: str | None = None, **kubeconfig: Any) -> ClusterSpec:
    data: dict[str, Any] = {"name": name, "cloud": "existing", "kubeconfig": kubeconfig}
    if east_west:
        data["eastWestAddress"] = east_west
    return ClusterSpec.model_validate(data)


def run_existing(
    spec: ClusterSpec, config: dict[str, Any] | None = None, preview: bool = False
) -> tuple[Run, ExistingCluster]:
    built: list[ExistingCluster] = []

    def build() -> None:
        cluster = ExistingCluster("adopted", ExistingClusterArgs(spec=spec))
        built.append(cluster)
        pulumi.export("endpoint", cluster.endpoint)
        pulumi.export("ca", cluster.certificate_authority)
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("egress", cluster.egress_ips)
        if cluster.east_west is not None:
            pulumi.export("eastWest", cluster.east_west.address)

    return run_program(build, config=config, preview=preview), built[0]


def provider_of(run: Run) -> Registered:
    (provider,) = [r for r in run.resources if r.type == "pulumi:providers:kubernetes"]
    return provider


def test_path_mode_passes_the_path_not_the_credentials(kubeconfig: Path) -> None:
    run, cluster = run_existing(existing_spec(path=str(kubeconfig), context="kind-b"))
    provider = provider_of(run)
    assert provider.name == "adopted-k8s"
    assert provider.parent_name == "adopted"
    assert provider.plain["kubeconfig"] == str(kubeconfig)
    assert provider.plain["context"] == "kind-b"
    assert provider.plain["clusterIdentifier"] == "kind-a"
    assert run.outputs["endpoint"] == "https://10.9.0.1:6443"
    assert base64.b64decode(run.outputs["ca"]) == CA_B_PEM
    assert [r.type for r in run.resources] == ["meshlib:index:ExistingCluster", "pulumi:providers:kubernetes"]
    assert cluster.cloud == "existing" and cluster.network == "kind-a"
    assert run.outputs["egress"] == []
    assert cluster.control_plane_egress_known is False


def test_path_mode_kubeconfig_output_is_secret_and_restricted_to_the_context(kubeconfig: Path) -> None:
    run, _ = run_existing(existing_spec(path=str(kubeconfig), context="kind-b"))
    assert "kubeconfig" in run.secret_outputs
    config = yaml.safe_load(run.outputs["kubeconfig"])
    assert [c["name"] for c in config["contexts"]] == ["kind-b"]
    assert config["current-context"] == "kind-b"
    (cluster,) = config["clusters"]
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == CA_B_PEM
    (user,) = config["users"]
    assert user["user"]["client-certificate"] == str(kubeconfig.parent / "b.crt")
    assert TOKEN not in run.outputs["kubeconfig"]


def test_default_context_is_the_current_one_and_gets_pinned(kubeconfig: Path) -> None:
    run, _ = run_existing(existing_spec(path=str(kubeconfig)))
    assert provider_of(run).plain["context"] == "kind-a"
    assert run.outputs["endpoint"] == "https://127.0.0.1:6443"
    assert run.outputs["ca"] == CA_A


def test_default_path_is_the_first_kubeconfig_entry(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(kubeconfig), "/nonexistent/other"]))
    run, _ = run_existing(existing_spec())
    assert provider_of(run).plain["kubeconfig"] == str(kubeconfig)
    assert run.outputs["endpoint"] == "https://127.0.0.1:6443"


def test_default_kubeconfig_path() -> None:
    assert default_kubeconfig_path({}, "/home/u") == os.path.join("/home/u", ".kube", "config")
    assert default_kubeconfig_path({"KUBECONFIG": f"{os.pathsep}/a{os.pathsep}/b"}, "/home/u") == "/a"


def test_secret_mode_reads_the_whole_kubeconfig_from_secret_config() -> None:
    text = kubeconfig_text().replace("certificate-authority: ca-b.crt", f"certificate-authority-data: {CA_A}")
    run, _ = run_existing(existing_spec(secret="kindA", context="kind-b"), config={"mesh:kindA": text})
    provider = provider_of(run)
    assert provider.is_secret("kubeconfig")
    assert provider.plain["kubeconfig"] == text
    assert provider.plain["context"] == "kind-b"
    assert run.outputs["endpoint"] == "https://10.9.0.1:6443"
    assert run.outputs["ca"] == CA_A
    assert "kubeconfig" in run.secret_outputs
    assert "endpoint" not in run.secret_outputs


def test_secret_mode_default_context() -> None:
    run, _ = run_existing(existing_spec(secret="kindA"), config={"mesh:kindA": kubeconfig_text()})
    assert "context" not in provider_of(run).plain
    assert run.outputs["endpoint"] == "https://127.0.0.1:6443"
    assert TOKEN in run.outputs["kubeconfig"] and "kubeconfig" in run.secret_outputs


def test_secret_mode_unknown_context_is_a_clear_error() -> None:
    with pytest.raises(pulumi.RunError, match="mesh:kindA has no context 'nope'"):
        run_existing(existing_spec(secret="kindA", context="nope"), config={"mesh:kindA": kubeconfig_text()})


def test_missing_context_is_a_clear_error(kubeconfig: Path) -> None:
    with pytest.raises(pulumi.RunError) as error:
        run_existing(existing_spec(path=str(kubeconfig), context="kind-c"))
    message = str(error.value)
    assert "'kind-a'" in message and str(kubeconfig) in message and "'kind-c'" in message
    assert "'kind-b'" in message  # the contexts it does have


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(pulumi.RunError, match=f"cluster 'kind-a': cannot read kubeconfig file {missing}"):
        run_existing(existing_spec(path=str(missing)))


def test_missing_ca_file_is_a_clear_error(kubeconfig: Path) -> None:
    (kubeconfig.parent / "ca-b.crt").unlink()
    with pytest.raises(pulumi.RunError, match="cannot read certificate-authority"):
        run_existing(existing_spec(path=str(kubeconfig), context="kind-b"))


def test_not_a_kubeconfig() -> None:
    with pytest.raises(pulumi.RunError, match="not a kubeconfig"):
        parse_kubeconfig("just: text\n", "x", "file f")
    with pytest.raises(pulumi.RunError, match="not valid YAML"):
        parse_kubeconfig("a: [\n", "x", "file f")


def test_context_without_cluster_is_refused() -> None:
    config = {"contexts": [{"name": "c", "context": {"cluster": "gone", "user": "u"}}], "current-context": "c"}
    with pytest.raises(pulumi.RunError, match="cluster 'gone'"):
        resolve_context(config, None, cluster="x", source="file f", base_dir=None)


@pytest.mark.parametrize(("address", "hostname"), [("198.51.100.10", False), ("ew.example.com", True)])
def test_east_west_address(kubeconfig: Path, address: str, hostname: bool) -> None:
    run, cluster = run_existing(existing_spec(path=str(kubeconfig), east_west=address))
    assert cluster.east_west is not None
    assert cluster.east_west.is_hostname is hostname
    assert run.outputs["eastWest"] == address


def test_no_east_west_address(kubeconfig: Path) -> None:
    _, cluster = run_existing(existing_spec(path=str(kubeconfig)))
    assert cluster.east_west is None


def test_non_existing_spec_is_refused() -> None:
    spec = ClusterSpec(name="x", cloud="aws", region="eu-west-1")
    with pytest.raises(pulumi.RunError, match="not `existing`"):
        run_program(lambda: ExistingCluster("x", ExistingClusterArgs(spec=spec)))


def test_same_build_twice_and_preview(kubeconfig: Path) -> None:
    def snapshot(preview: bool) -> dict[tuple[str, str], Any]:
        run, _ = run_existing(existing_spec(path=str(kubeconfig), context="kind-b"), preview=preview)
        return {(r.type, r.name): r.plain for r in run.resources}

    assert snapshot(False) == snapshot(False)
    assert snapshot(True) == snapshot(False)
