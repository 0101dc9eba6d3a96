"""Keep the root offline: each cluster's CA from your PKI (`mesh:clusterCas`).

The chain checks run on certificates made here, on the fly, with `cryptography`: an
enterprise root, an intermediate of it, and per-cluster CAs below that. The program
then lays them out in `cacerts` and creates no key or certificate of its own.
"""

from __future__ import annotations

import copy
import json
import runpy
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from meshlib.components.trust import ClusterCa, MeshTrust, MeshTrustArgs
from meshlib.offline.program import PLACEHOLDER_PEM, plan_stack, resolve_stack
from meshlib.plan.cluster_cas import given_cacerts, not_after
from meshlib.spec import ConfigError, parse_spec
from meshlib.spec.cluster_ca import PLACEHOLDER_MARK, CaProblem, check_cluster_ca, cluster_ca_problems
from tests.conftest import ROOT, fixture_stack
from tests.mocks import MeshMocks, Run, run_program
from tests.test_program import stack_config

NOW = datetime.now(UTC)
CACERTS_KEYS = {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}


# -- a PKI made on the fly ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ca:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def make_ca(
    name: str,
    issuer: Ca | None = None,
    *,
    ca: bool = True,
    pathlen: int | None = None,
    key_cert_sign: bool = True,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Ca:
    """A CA certificate called `name`, signed by `issuer` (self-signed without one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"), x509.NameAttribute(NameOID.COMMON_NAME, name)]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None), critical=True)
        .add_extension(usage, critical=True)
    )
    cert = builder.sign((issuer.key if issuer else key), hashes.SHA256())
    return Ca(cert, key)


@dataclass(frozen=True)
class Pki:
    root: Ca
    enterprise: Ca
    clusters: dict[str, Ca]


@pytest.fixture(scope="module")
def pki() -> Pki:
    """Enterprise root -> enterprise intermediate -> one CA per cluster (`pathlen:0`, as Istio's own)."""
    root = make_ca("Acme Root CA")
    enterprise = make_ca("Acme Issuing CA", root, pathlen=1)
    return Pki(
        root, enterprise, {name: make_ca(f"{name} mesh CA", enterprise, pathlen=0) for name in ("east", "central")}
    )


def check(cert: Ca, chain: list[Ca] | None, root: Ca, key: Ca | None = None) -> list[CaProblem]:
    chain_pem = "".join(c.pem for c in chain) if chain is not None else None
    return check_cluster_ca(cert.pem, (key or cert).key_pem, chain_pem, root.pem)


def fields(problems: list[CaProblem]) -> set[str]:
    return {problem.field for problem in problems}


# -- the chain checks, pure -----------------------------------------------------------------------


def test_a_ca_under_an_enterprise_intermediate_passes(pki: Pki) -> None:
    assert check(pki.clusters["east"], [pki.enterprise], pki.root) == []


def test_a_ca_the_root_signed_directly_needs_no_chain(pki: Pki) -> None:
    direct = make_ca("direct", pki.root, pathlen=0)
    assert check(direct, None, pki.root) == []


def test_a_key_of_another_certificate_is_refused(pki: Pki) -> None:
    problems = check(pki.clusters["east"], [pki.enterprise], pki.root, key=pki.clusters["central"])
    assert problems == [CaProblem("privateKey", "does not belong to the certificate (their public keys differ)")]


def test_a_broken_chain_is_refused(pki: Pki) -> None:
    stranger = make_ca("Other Issuing CA", pki.root, pathlen=1)
    assert check(pki.clusters["east"], [stranger], pki.root) == [
        CaProblem("chain", "certificate 1 of the chain did not issue the cluster's CA")
    ]


def test_a_missing_intermediate_is_named(pki: Pki) -> None:
    assert check(pki.clusters["east"], None, pki.root) == [
        CaProblem(
            "root", "the root did not issue the cluster's CA (another root, or intermediates missing from `chain`)"
        )
    ]


def test_a_chain_that_ends_elsewhere_than_the_root_is_refused(pki: Pki) -> None:
    other_root = make_ca("Other Root CA")
    assert check(pki.clusters["east"], [pki.enterprise], other_root) == [
        CaProblem(
            "root",
            "the root did not issue certificate 1 of the chain (another root, or intermediates missing from `chain`)",
        )
    ]


def test_the_root_must_be_self_signed(pki: Pki) -> None:
    problems = check(make_ca("direct", pki.enterprise, pathlen=0), None, pki.enterprise)
    assert problems == [
        CaProblem(
            "root",
            "is not self-signed: give the root of your PKI here, and the intermediates between it and the "
            "cluster's CA in `chain`",
        )
    ]


def test_the_root_belongs_in_root_not_in_the_chain(pki: Pki) -> None:
    assert check(pki.clusters["east"], [pki.enterprise, pki.root], pki.root) == [
        CaProblem("chain", "ends with the root: leave the root out of `chain` (it goes in `root`)")
    ]


def test_a_certificate_that_is_no_ca_is_refused(pki: Pki) -> None:
    leaf = make_ca("workload", pki.enterprise, ca=False)
    assert check(leaf, [pki.enterprise], pki.root) == [
        CaProblem("certificate", "is not a CA certificate (basicConstraints CA:true)")
    ]


def test_a_ca_that_may_not_sign_certificates_is_refused(pki: Pki) -> None:
    no_sign = make_ca("no-sign", pki.enterprise, pathlen=0, key_cert_sign=False)
    assert check(no_sign, [pki.enterprise], pki.root) == [
        CaProblem("certificate", "may not sign certificates (keyUsage keyCertSign)")
    ]


def test_an_expired_ca_is_refused_with_its_date(pki: Pki) -> None:
    ended = NOW - timedelta(days=2)
    expired = make_ca("expired", pki.enterprise, pathlen=0, not_before=NOW - timedelta(days=30), not_after=ended)
    assert check(expired, [pki.enterprise], pki.root) == [
        CaProblem("certificate", f"expired on {ended.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    ]


def test_an_expired_intermediate_is_refused(pki: Pki) -> None:
    ended = NOW - timedelta(days=1)
    old = make_ca("Old Issuing CA", pki.root, pathlen=1, not_before=NOW - timedelta(days=30), not_after=ended)
    cluster = make_ca("east", old, pathlen=0)
    assert check(cluster, [old], pki.root) == [
        CaProblem("chain", f"certificate 1 of the chain expired on {ended.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    ]


def test_a_ca_not_yet_valid_is_refused(pki: Pki) -> None:
    problems = check_cluster_ca(
        pki.clusters["east"].pem,
        pki.clusters["east"].key_pem,
        pki.enterprise.pem,
        pki.root.pem,
        now=NOW - timedelta(days=3),
    )
    assert fields(problems) == {"certificate", "chain", "root"}
    assert all("is not valid before" in p.message for p in problems)


def test_path_length_limits_are_enforced(pki: Pki) -> None:
    narrow = make_ca("Narrow Issuing CA", pki.root, pathlen=0)  # may issue end-entity certificates only
    assert check(make_ca("east", narrow, pathlen=0), [narrow], pki.root) == [
        CaProblem(
            "chain",
            "certificate 1 of the chain allows 0 CA certificate(s) below it (pathlen), but 1 follow it down to the "
            "cluster's CA, which signs workload certificates",
        )
    ]
    tight_root = make_ca("Tight Root CA", pathlen=1)
    issuing = make_ca("Issuing CA", tight_root, pathlen=1)
    assert fields(check(make_ca("east", issuing, pathlen=0), [issuing], tight_root)) == {"root"}


def test_unreadable_material_is_named_without_echoing_it(pki: Pki) -> None:
    secret_looking = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n"
    problems = check_cluster_ca("not a pem", secret_looking, "garbage", secret_looking)
    assert fields(problems) == {"certificate", "privateKey", "chain", "root"}
    for problem in problems:
        assert "c2VjcmV0" not in problem.message and "garbage" not in problem.message


def test_an_encrypted_key_and_a_bundle_as_certificate_are_refused(pki: Pki) -> None:
    east = pki.clusters["east"]
    encrypted = east.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw")).decode()
    problems = check_cluster_ca(east.pem + pki.enterprise.pem, encrypted, pki.enterprise.pem, pki.root.pem)
    assert problems == [
        CaProblem("certificate", "holds 2 certificates instead of one: its issuers go in `chain`"),
        CaProblem("privateKey", "is encrypted: istiod reads the key unencrypted from `cacerts`"),
    ]


# -- the material behind the config keys ---------------------------------------------------------


def raw_config(pki: Pki, clusters: dict[str, Ca] | None = None, root: Ca | None = None) -> dict[str, Any]:
    """`mesh:*` values (without the prefix) as load_spec reads them: entries plus the keys they name."""
    raw: dict[str, Any] = {"clusterCas": {}}
    for name, ca in (clusters or pki.clusters).items():
        raw["clusterCas"][name] = {
            "certificate": f"{name}CaCert",
            "privateKey": f"{name}CaKey",
            "chain": "issuingCa",
            "root": f"{name}Root",
        }
        raw.update({f"{name}CaCert": ca.pem, f"{name}CaKey": ca.key_pem, f"{name}Root": (root or pki.root).pem})
    raw["issuingCa"] = pki.enterprise.pem
    return raw


def secret_keys_of(raw: dict[str, Any]) -> set[str]:
    return {f"mesh:{entry['privateKey']}" for entry in raw["clusterCas"].values()}


def test_good_material_has_no_problems(pki: Pki) -> None:
    raw = raw_config(pki)
    assert cluster_ca_problems(raw, secret_keys_of(raw)) == []


def test_clusters_with_different_roots_are_refused(pki: Pki) -> None:
    other_root = make_ca("Other Root CA")
    other_issuing = make_ca("Other Issuing CA", other_root, pathlen=1)
    raw = raw_config(pki, {"east": pki.clusters["east"], "central": pki.clusters["central"]})
    west = make_ca("west mesh CA", other_issuing, pathlen=0)
    raw["clusterCas"]["west"] = {
        "certificate": "westCert",
        "privateKey": "westKey",
        "chain": "westChain",
        "root": "westRoot",
    }
    raw.update(westCert=west.pem, westKey=west.key_pem, westChain=other_issuing.pem, westRoot=other_root.pem)
    problems = cluster_ca_problems(raw, secret_keys_of(raw))
    assert [(p.key, p.message) for p in problems] == [
        (
            "mesh:clusterCas.west.root",
            "is not the root of cluster 'east' (mesh:clusterCas.east.root): every cluster must chain to one root, "
            "or workloads in different clusters reject each other's certificates",
        )
    ]


def test_a_key_stored_in_plain_text_is_refused(pki: Pki) -> None:
    raw = raw_config(pki)
    problems = cluster_ca_problems(raw, {"mesh:eastCaKey"})
    assert [(p.key, p.message) for p in problems] == [
        (
            "mesh:clusterCas.central.privateKey",
            "config key mesh:centralCaKey is stored in plain text: store it encrypted "
            "(`pulumi config set --secret mesh:centralCaKey < ca-key.pem`)",
        )
    ]


def test_problems_are_keyed_per_cluster_and_never_echo_material(pki: Pki) -> None:
    raw = raw_config(pki)
    raw["eastCaKey"] = pki.clusters["central"].key_pem
    raw["issuingCa"] = make_ca("Stranger CA", pki.root, pathlen=1).pem
    problems = cluster_ca_problems(raw, secret_keys_of(raw))
    assert {p.key for p in problems} == {
        "mesh:clusterCas.east.privateKey",
        "mesh:clusterCas.east.chain",
        "mesh:clusterCas.central.chain",
    }
    bodies = [line for value in raw.values() if isinstance(value, str) for line in value.splitlines()[1:-1]]
    assert not any(body in str(problem) for problem in problems for body in bodies)


def test_offline_placeholders_and_unset_keys_are_left_alone(pki: Pki) -> None:
    assert PLACEHOLDER_PEM.startswith(PLACEHOLDER_MARK)
    raw = raw_config(pki)
    for key in ("eastCaCert", "eastCaKey", "eastRoot", "issuingCa"):
        raw[key] = PLACEHOLDER_PEM
    del raw["centralCaKey"]  # `parse_spec` reports it as not set
    assert cluster_ca_problems(raw, set()) == []


def test_given_cacerts_follow_istios_plugged_in_layout(pki: Pki) -> None:
    east = pki.clusters["east"]
    data = given_cacerts(east.pem.strip(), east.key_pem, pki.enterprise.pem + "\n\n", pki.root.pem)
    assert data == {
        "ca-cert.pem": east.pem,
        "ca-key.pem": east.key_pem,
        "root-cert.pem": pki.root.pem,
        "cert-chain.pem": east.pem + pki.enterprise.pem + pki.root.pem,
    }
    assert given_cacerts(east.pem, east.key_pem, None, pki.root.pem)["cert-chain.pem"] == east.pem + pki.root.pem
    assert not_after(east.pem) == east.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not_after(PLACEHOLDER_PEM) is None


# -- config rules ---------------------------------------------------------------------------------


def spec_raw(pki: Pki) -> dict[str, Any]:
    """`mesh:*` of the multi-primary stack (east, central) with clusterCas, without the prefix."""
    config = {key.removeprefix("mesh:"): value for key, value in stack_config(fixture_stack("multi-primary")).items()}
    return {**config, **raw_config(pki)}


def problems_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        parse_spec(raw, "test")
    return {p.key: p.message for p in raised.value.problems}


def test_cluster_cas_parse_and_replace_the_generated_root(pki: Pki) -> None:
    spec = parse_spec(spec_raw(pki), "test")
    assert spec.root_ca is None and spec.cluster_cas is not None
    assert spec.cluster_cas["east"].chain == "issuingCa"
    assert spec.cluster_cas["east"].private_key == "eastCaKey"


def test_cluster_cas_and_root_ca_exclude_each_other(pki: Pki) -> None:
    raw = {**spec_raw(pki), "rootCa": {"certificate": "eastRoot", "privateKey": "eastCaKey"}}
    assert problems_of(raw) == {
        "mesh:clusterCas": "give mesh:rootCa (meshlib issues each cluster's CA from your root) or mesh:clusterCas "
        "(your PKI issues them and keeps the root), not both"
    }


def test_every_cluster_needs_an_entry_and_only_clusters_have_one(pki: Pki) -> None:
    raw = spec_raw(pki)
    raw["clusterCas"] = copy.deepcopy(raw["clusterCas"])
    raw["clusterCas"]["west"] = raw["clusterCas"].pop("central")
    assert problems_of(raw) == {
        "mesh:clusterCas": "no entry for central: every cluster needs its CA in `cacerts` (else its istiod signs "
        "with a root of its own and cross-cluster mTLS fails)",
        "mesh:clusterCas.west": "no cluster named 'west': one of east, central",
    }


def test_a_key_that_is_not_set_is_named(pki: Pki) -> None:
    raw = spec_raw(pki)
    del raw["eastCaKey"]
    assert problems_of(raw) == {
        "mesh:clusterCas.east.privateKey": "config key mesh:eastCaKey is not set "
        "(`pulumi config set --secret mesh:eastCaKey ...`)"
    }


def test_an_entry_field_typo_lists_the_valid_keys(pki: Pki) -> None:
    raw = spec_raw(pki)
    raw["clusterCas"] = copy.deepcopy(raw["clusterCas"])
    raw["clusterCas"]["east"]["intermediates"] = raw["clusterCas"]["east"].pop("chain")
    assert problems_of(raw)["mesh:clusterCas.east.intermediates"] == (
        "unknown key (a typo?); valid keys here: certificate, chain, privateKey, root"
    )


# -- the program, on the mock engine --------------------------------------------------------------


def program_config(pki: Pki, chain: str | None = None) -> dict[str, Any]:
    config = stack_config(fixture_stack("multi-primary"))
    raw = raw_config(pki)
    if chain is not None:
        raw["issuingCa"] = chain
    config.update({f"mesh:{key}": value for key, value in raw.items()})
    return config


def run_main(config: dict[str, Any], mocks: MeshMocks | None = None) -> Run:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"), config=config, mocks=mocks
    )


@pytest.fixture
def secret_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA keys are stored encrypted, as `pulumi config set --secret` leaves them."""
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["mesh:eastCaKey", "mesh:centralCaKey"]))


@pytest.mark.usefixtures("secret_keys")
def test_the_program_lays_out_the_given_cas_and_creates_no_key(pki: Pki) -> None:
    run = run_main(program_config(pki))
    assert not [r for r in run.resources if r.type.startswith("tls:")]
    cacerts = {r.name: r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-cacerts")}
    assert set(cacerts) == {"mesh1-east-istio-cacerts", "mesh1-central-istio-cacerts"}
    for name, ca in pki.clusters.items():
        secret = cacerts[f"mesh1-{name}-istio-cacerts"]
        assert secret.is_secret("stringData")
        assert secret.plain["stringData"] == {
            "ca-cert.pem": ca.pem,
            "ca-key.pem": ca.key_pem,
            "root-cert.pem": pki.root.pem,
            "cert-chain.pem": ca.pem + pki.enterprise.pem + pki.root.pem,
        }
    assert set(secret.plain["stringData"]) == CACERTS_KEYS
    expiry = run.outputs["certificateExpiry"]
    assert expiry == {name: not_after(ca.pem) for name, ca in pki.clusters.items()}


@pytest.mark.usefixtures("secret_keys")
def test_a_bad_chain_is_refused_before_any_resource(pki: Pki) -> None:
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_main(program_config(pki, chain=make_ca("Stranger CA", pki.root, pathlen=1).pem), mocks)
    assert {p.key for p in raised.value.problems} == {"mesh:clusterCas.east.chain", "mesh:clusterCas.central.chain"}
    assert mocks.resources == []


def test_a_plain_text_key_is_refused_with_the_other_config_problems(pki: Pki) -> None:
    config = program_config(pki)
    config["mesh:mode"] = "mesh-federation"
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_main(config, mocks)
    assert {p.key for p in raised.value.problems} == {
        "mesh:mode",
        "mesh:clusterCas.east.privateKey",
        "mesh:clusterCas.central.privateKey",
    }
    assert mocks.resources == []


def test_an_offline_plan_uses_placeholders_and_skips_the_checks(pki: Pki, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copy(ROOT / "__main__.py", project)
    document = yaml.safe_load(fixture_stack("multi-primary").read_text())
    document["config"].update({f"mesh:{key}": value for key, value in raw_config(pki).items()})
    for name in pki.clusters:
        document["config"][f"mesh:{name}CaKey"] = {"secure": "v1:AAAAAAAAAAAAAAAA:cGxhY2Vob2xkZXI="}
    (project / "stacks" / "Pulumi.byo-ca.yaml").write_text(yaml.safe_dump(document))
    spec, run = plan_stack(resolve_stack("byo-ca", project))
    assert spec.cluster_cas is not None and not [r for r in run.resources if r.type.startswith("tls:")]
    cacerts = [r for r in run.mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-cacerts")]
    assert len(cacerts) == 2
    for secret in cacerts:
        assert secret.is_secret("stringData") and set(secret.plain["stringData"]) == CACERTS_KEYS
        assert secret.plain["stringData"]["ca-key.pem"] == PLACEHOLDER_PEM


def test_the_fixture_pki_is_what_it_claims(pki: Pki) -> None:
    """Guard the generator: the cluster CAs are pathlen:0 CAs under the enterprise intermediate."""
    for ca in pki.clusters.values():
        assert ca.cert.issuer == pki.enterprise.cert.subject
        constraints = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert constraints.ca and constraints.path_length == 0


def test_mesh_trust_refuses_a_cluster_without_its_ca(pki: Pki) -> None:
    east = pki.clusters["east"]
    given = {"east": ClusterCa(east.pem, east.key_pem, pki.root.pem, pki.enterprise.pem)}
    with pytest.raises(pulumi.RunError, match="missing: central"):
        run_program(lambda: MeshTrust("mesh1-trust", MeshTrustArgs(clusters=["east", "central"], cluster_cas=given)))
