"""The pull-request workflow: valid YAML with the jobs and triggers the README describes."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import ROOT, SHIPPED_STACKS, stack_name

WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"


def workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_runs_on_pull_requests_to_main() -> None:
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow()[True]
    assert triggers == {"pull_request": {"branches": ["main"]}}


def test_jobs() -> None:
    assert set(workflow()["jobs"]) == {"tests", "policy-pack", "offline-plan", "pulumi-preview"}


def test_tests_job_runs_the_projects_checks() -> None:
    job = workflow()["jobs"]["tests"]
    assert any(step.get("run") == "./scripts/check" for step in steps(job))


def test_policy_pack_job_runs_the_packs_unit_tests_and_loads_the_pack() -> None:
    job = workflow()["jobs"]["policy-pack"]
    assert "if" not in job  # every pull request, forks included: no credentials needed
    runs = [step.get("run", "") for step in steps(job)]
    install = next(i for i, run in enumerate(runs) if "pip install" in run and "-e '.[dev]'" in run)
    unit = next(i for i, run in enumerate(runs) if "pytest" in run and "tests/test_policy.py" in run)
    load = next(i for i, run in enumerate(runs) if "-r policy/requirements.txt" in run)
    assert install < unit
    assert "['build_policies']()" in runs[load] and "policy/venv/bin/python" in runs[load]
    assert (ROOT / "tests" / "test_policy.py").is_file()


def test_offline_plan_diffs_every_stack_and_keeps_one_comment() -> None:
    job = workflow()["jobs"]["offline-plan"]
    assert job["permissions"]["pull-requests"] == "write"
    checkout = steps(job)[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    script = next(step["run"] for step in steps(job) if "meshlib diff" in step.get("run", ""))
    assert "for file in stacks/Pulumi.*.yaml" in script
    assert '--base "origin/${{ github.base_ref }}"' in script and "--markdown" in script
    assert "test $? -eq 1" in script  # "changed" is not a failure
    assert any('>> "$GITHUB_STEP_SUMMARY"' in step.get("run", "") for step in steps(job))
    poster = next(step for step in steps(job) if step.get("uses", "").startswith("actions/github-script@"))
    assert "updateComment" in poster["with"]["script"] and "createComment" in poster["with"]["script"]
    assert "meshlib-offline-plan" in poster["with"]["script"]
    assert poster["if"] == "github.event.pull_request.head.repo.full_name == github.repository"  # not forks


def test_pulumi_preview_only_with_cloud_credentials() -> None:
    job = workflow()["jobs"]["pulumi-preview"]
    assert job["if"] == (
        "vars.PULUMI_PREVIEW == 'true' && github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert job["permissions"]["id-token"] == "write"  # OIDC, no stored cloud keys
    uses = [step.get("uses", "") for step in steps(job)]
    assert any(u.startswith("aws-actions/configure-aws-credentials@") for u in uses)
    assert any(u.startswith("google-github-actions/auth@") for u in uses)
    preview = next(step for step in steps(job) if step.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True and preview["with"]["diff"] is True
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"
    # the policy pack runs in the preview (`pulumi preview --policy-pack policy`), its virtualenv ready before
    assert preview["with"]["policyPacks"] == "policy"
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()
    position = steps(job).index(preview)
    prepared = [i for i, step in enumerate(steps(job)) if "-r policy/requirements.txt" in step.get("run", "")]
    assert prepared and prepared[0] < position
    assert "python -m venv policy/venv" in steps(job)[prepared[0]]["run"]
    cloud_stacks = {stack_name(s) for s in SHIPPED_STACKS} - {"existing"}
    assert set(job["strategy"]["matrix"]["stack"]) == cloud_stacks
