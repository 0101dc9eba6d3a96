"""Deploy-time checks (issue 16): the decision on recorded evidence, the Jobs, their order and reruns."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from meshlib.offline.replacements import changes
from meshlib.plan.topology import plan_mesh
from meshlib.plan.verify import (
    Check,
    checks,
    clusterz_evidence,
    job,
    judge,
    metric_labels,
    namespace,
    responder_manifests,
    service_account,
)
from meshlib.spec import parse_spec
from tests.test_failure import run_config
from tests.test_lifecycle import base as lifecycle_base
from tests.validators import validate_core


def base() -> dict[str, Any]:
    """The lifecycle tests' mesh, its exported service answered by meshlib's responder."""
    config = lifecycle_base()
    config["mesh:services"][0]["responder"] = True
    return config


FIXTURES = Path(__file__).parent / "fixtures" / "verify"
CASES = sorted(FIXTURES.glob("*.json"))


def spec_of(config: dict[str, Any]) -> Any:
    return parse_spec({key.removeprefix("mesh:"): value for key, value in config.items()}, stack="test")


def sample_check(kind: str) -> Check:
    """The check a recorded case belongs to, from the base config's plan."""
    found = {c.kind: c for c in checks(plan_mesh(spec_of(base())))}
    if kind == "remote":
        return Check("remote", "spoke", "remote", {"cluster": "spoke", "primary": "hub"})
    if kind == "sync":
        facts = {"cluster": "east", "istiod": "istiod.istio-system.svc", "watched": "central"}
        return Check("sync", "east", "sync", facts, watched=("central",))
    return found[kind]


def evidence(case: dict[str, Any]) -> dict[str, str]:
    raw = case["raw"]
    if case["check"] == "sync":
        return clusterz_evidence(raw["http"], raw["body"])
    if case["check"] == "remote":
        return dict(raw)
    labels = metric_labels(raw["metric"])
    flags = labels.get("response_flags", "")
    fields = {k: v for k, v in raw.items() if k != "metric"}
    return {**fields, "flags": "" if flags == "-" else flags, "principal": labels.get("destination_principal", "")}


def message(path: Path) -> tuple[str, str]:
    case = json.loads(path.read_text())
    verdict = judge(sample_check(case["check"]), evidence(case))
    return case["hop"], verdict.message if not verdict.ok else ""


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_recorded_case_is_judged_to_its_hop(path: Path) -> None:
    case = json.loads(path.read_text())
    verdict = judge(sample_check(case["check"]), evidence(case))
    assert case["source"]
    assert verdict.ok == (case["hop"] == ""), verdict.message
    assert verdict.hop == case["hop"]
    if not verdict.ok:
        check = sample_check(case["check"])
        assert check.facts["cluster"] in verdict.message
        if check.kind == "call":
            assert check.facts["exporter"] in verdict.message


def test_every_failure_kind_has_a_recorded_case() -> None:
    hops = {json.loads(p.read_text())["hop"] for p in CASES}
    wanted = {"DNS capture", "ServiceEntry", "SNI", "gateway", "mTLS", "remote endpoint", "remote secret"}
    assert hops >= wanted | {"injection", "xDS", "control plane", ""}


def test_docs_show_the_messages_of_the_recorded_cases() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "verify.md").read_text()
    for path in CASES:
        hop, text = message(path)
        if text:
            assert text in docs, f"docs/verify.md is stale: run `python -m tests.test_verify` ({path.stem})"


def test_the_manifests_are_valid_kubernetes_objects() -> None:
    spec = spec_of(base())
    for check in checks(plan_mesh(spec)):
        validate_core(job(spec, check, {"EXPORTER_ADDRESSES": "203.0.113.9"}))
    validate_core(namespace(spec))
    validate_core(service_account("meshlib-verify"))
    for manifest in responder_manifests(spec, "reviews", "default", [(9080, "http")]):
        validate_core(manifest)


def test_no_cluster_admin_and_no_rbac() -> None:
    run = run_config(base())
    kinds = {r.type for r in run.resources if "-verify-" in r.name}
    assert not any("rbac" in kind for kind in kinds)
    assert kinds >= {"kubernetes:batch/v1:Job", "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:Namespace"}


# -- on the mock engine ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed() -> Any:
    return run_config(base())


def jobs(run: Any) -> dict[str, Any]:
    return {r.name: r for r in run.resources if r.type == "kubernetes:batch/v1:Job"}


def test_one_job_per_planned_check(deployed: Any) -> None:
    planned = checks(plan_mesh(spec_of(base())))
    assert sorted(jobs(deployed)) == sorted(
        f"mesh1-{c.cluster}-watches-{c.key.removeprefix('sync-')}-verify"
        if c.kind == "sync"
        else f"mesh1-{c.cluster}-verify-{c.key}"
        for c in planned
    )
    kinds = sorted(c.kind for c in planned)
    assert kinds.count("sync") == 6 and kinds.count("call") == 2  # 3 primaries x 2 watched; 2 consumers


def test_a_call_check_runs_after_what_it_verifies(deployed: Any) -> None:
    job_ = jobs(deployed)["mesh1-east-verify-call-reviews-default-central-9080"]
    names = {urn.rsplit("::", 1)[1] for urn in job_.dependencies}
    assert {
        "mesh1-east-federation-serviceentry-reviews.default.svc.central.local",
        "mesh1-east-federation-destinationrule-reviews.default.svc.central.local",
        "mesh1-central-eastwest-release",
        "mesh1-east-istio-istiod",
        "mesh1-central-istio-istiod",
        "mesh1-east-watches-central-secret",
        "mesh1-central-verify-responder-reviews-default-deployment",
    } <= names


def test_an_unrelated_change_leaves_the_jobs_alone() -> None:
    new = base()
    new["mesh:adminCidrs"].append("198.51.100.0/24")
    result = changes(run_config(base()).resources, run_config(new).resources)
    assert {c.action for c in result.values() if c.type == "kubernetes:batch/v1:Job"} == {"same"}


def test_a_verified_change_and_a_generation_bump_replace_the_jobs() -> None:
    new = base()
    new["mesh:services"][0]["ports"][0]["number"] = 9081
    result = changes(run_config(base()).resources, run_config(new).resources)
    calls = {c.name: c.action for c in result.values() if "-call-" in c.name}
    assert set(calls.values()) == {"create", "delete"}  # a new port: a new check
    bumped = copy.deepcopy(base())
    bumped["mesh:verify"] = {"generation": 1}
    result = changes(run_config(base()).resources, run_config(bumped).resources)
    acted = {c.action for c in result.values() if c.type == "kubernetes:batch/v1:Job"}
    assert acted == {"replace"}
    assert all("metadata.name" in c.forcing for c in result.values() if c.type == "kubernetes:batch/v1:Job")


def test_verify_off_removes_everything() -> None:
    off = base()
    off["mesh:verify"] = {"enabled": False}
    run = run_config(off)
    assert not [r.name for r in run.resources if "-verify" in r.name]
    per_service = base()
    per_service["mesh:services"][0]["verify"] = False
    assert not [r.name for r in run_config(per_service).resources if "-call-" in r.name or "responder" in r.name]


def render_docs() -> str:
    """docs/verify.md's message section, from the recorded cases."""
    rows = []
    for path in CASES:
        hop, text = message(path)
        if text:
            rows.append(f"- **{hop}** (`{path.stem}`):\n\n  ```\n  {text}\n  ```\n")
    return "\n".join(rows)


if __name__ == "__main__":
    print(render_docs())
