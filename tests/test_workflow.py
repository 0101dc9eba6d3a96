"""The pull-request workflow: valid YAML with the jobs and triggers the README describes, hardened.

Hardening (docs/credentials.md): actions pinned by commit, no checkout token kept in jobs that run
the pull request's code, the least permissions per job, OIDC instead of stored secrets, and PR
comments posted by a job that runs no code of the pull request.
"""

from __future__ import annotations

import re
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
    assert set(workflow()["jobs"]) == {"tests", "policy-pack", "offline-plan", "pulumi-preview", "comment"}


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


def test_offline_plan_diffs_every_stack_and_hands_the_comment_on() -> None:
    job = workflow()["jobs"]["offline-plan"]
    assert "if" not in job  # forks included: no credentials needed
    checkout = steps(job)[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    plan = next(step for step in steps(job) if "meshlib diff" in step.get("run", ""))
    script = plan["run"]
    assert "for file in stacks/Pulumi.*.yaml" in script
    assert '--base "origin/$BASE_REF"' in script and plan["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert "--markdown" in script and "> comments/offline-plan.md" in script
    assert "test $? -eq 1" in script  # "changed" is not a failure
    assert 'echo "<!-- meshlib-offline-plan -->"' in script  # the marker the comment job updates by
    assert any('>> "$GITHUB_STEP_SUMMARY"' in step.get("run", "") for step in steps(job))
    upload = next(step for step in steps(job) if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "comments/offline-plan.md" and upload["with"]["name"].startswith("comment-")


def test_the_comment_job_posts_every_preview_and_runs_no_pull_request_code() -> None:
    jobs = workflow()["jobs"]
    job = jobs["comment"]
    assert set(job["needs"]) == {"offline-plan", "pulumi-preview"}
    # after the previews even when one was skipped or failed; not for forks (their token cannot comment)
    assert "!cancelled()" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["permissions"] == {"pull-requests": "write"}
    assert not [step for step in steps(job) if "run" in step], "the comment job runs a command"
    uses = [step["uses"].split("@")[0] for step in steps(job)]
    assert uses == ["actions/download-artifact", "actions/github-script"]  # no checkout: no PR code on disk
    download, poster = steps(job)
    assert download["with"]["pattern"] == "comment-*" and download["with"]["merge-multiple"] is True
    script = poster["with"]["script"]
    assert "updateComment" in script and "createComment" in script and "startsWith(marker)" in script
    assert 'require("child_process")' not in script and "eval(" not in script
    # every job that makes a comment file uploads it under the name the download picks up
    for name in ("offline-plan", "pulumi-preview"):
        uploads = [s for s in steps(jobs[name]) if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert uploads and all(s["with"]["name"].startswith("comment-") for s in uploads)


def test_pulumi_preview_only_with_cloud_credentials() -> None:
    job = workflow()["jobs"]["pulumi-preview"]
    assert job["if"] == (
        "vars.PULUMI_PREVIEW == 'true' && github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert job["permissions"] == {"contents": "read", "id-token": "write"}  # OIDC; no write to the PR
    uses = [step.get("uses", "").split("@")[0] for step in steps(job)]
    at = {action: uses.index(action) for action in uses if action}
    # the Pulumi token from OIDC, as an organization token, before anything runs Pulumi
    auth = steps(job)[at["pulumi/auth-actions"]]
    assert auth["with"] == {
        "organization": "${{ vars.PULUMI_ORGANIZATION }}",
        "requested-token-type": "urn:pulumi:token-type:access_token:organization",
    }
    aws = steps(job)[at["aws-actions/configure-aws-credentials"]]["with"]
    assert aws["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"  # the read-only role (docs/credentials.md)
    gcp = steps(job)[at["google-github-actions/auth"]]["with"]
    assert gcp["service_account"] == "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT }}"
    preview = next(step for step in steps(job) if step.get("uses", "").startswith("pulumi/actions@"))
    assert max(at["pulumi/auth-actions"], at["aws-actions/configure-aws-credentials"]) < steps(job).index(preview)
    assert preview["with"]["command"] == "preview" and preview["with"]["diff"] is True
    assert "comment-on-pr" not in preview["with"] and "github-token" not in preview["with"]  # the comment job's
    assert "env" not in preview  # no PULUMI_ACCESS_TOKEN: auth-actions exported the OIDC token
    hand_on = next(step for step in steps(job) if "comments/pulumi-preview-$STACK.md" in step.get("run", ""))
    assert hand_on["env"]["OUTPUT"] == "${{ steps.preview.outputs.output }}"  # through env, not into the script
    assert "${{" not in hand_on["run"]
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


# ---- hardening -------------------------------------------------------------------------------------------

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+$")


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow()["jobs"].items() for step in steps(job)]


def test_every_action_is_pinned_by_commit_with_its_tag_in_a_comment() -> None:
    uses = [step["uses"] for _, step in all_steps() if "uses" in step]
    assert uses and [u for u in uses if not PINNED.match(u)] == []
    lines = [line.strip().removeprefix("- ") for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert len(lines) == len(uses)
    assert [line for line in lines if not TAG_COMMENT.match(line)] == []
    # one action, one commit: no two pins of the same action drift apart
    commits: dict[str, set[str]] = {}
    for u in uses:
        commits.setdefault(u.split("@")[0], set()).add(u.split("@")[1])
    assert {action: pins for action, pins in commits.items() if len(pins) > 1} == {}


def test_no_checkout_keeps_the_token() -> None:
    checkouts = [(job, step) for job, step in all_steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert {job for job, _ in checkouts} == {"tests", "policy-pack", "offline-plan", "pulumi-preview"}
    assert [job for job, step in checkouts if step.get("with", {}).get("persist-credentials") is not False] == []


def test_permissions_are_the_least_each_job_needs() -> None:
    document = workflow()
    assert document["permissions"] == {}  # nothing by default: every job says what it needs
    for name, job in document["jobs"].items():
        granted = job["permissions"]
        oidc = any(
            step.get("uses", "").split("@")[0]
            in ("pulumi/auth-actions", "aws-actions/configure-aws-credentials", "google-github-actions/auth")
            for step in steps(job)
        )
        assert ("id-token" in granted) == oidc, name
        if name == "comment":
            assert granted == {"pull-requests": "write"}
        else:  # jobs that run the pull request's code write nothing
            assert set(granted) <= {"contents", "id-token"} and granted["contents"] == "read", name


def test_no_long_lived_secret_is_used() -> None:
    text = WORKFLOW.read_text()
    for secret in ("PULUMI_ACCESS_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "credentials_json"):
        assert secret not in text, secret
    assert re.findall(r"secrets\.\w+", text) == []  # not even GITHUB_TOKEN is passed around


def test_no_expression_of_the_event_is_expanded_into_a_script() -> None:
    for job, step in all_steps():
        assert "${{" not in step.get("run", ""), f"{job}: pass values through env, not into the script"


def test_the_credentials_the_workflow_assumes_are_documented() -> None:
    doc = (ROOT / "docs" / "credentials.md").read_text()
    for needed in (
        "token.actions.githubusercontent.com:sub",
        "repo:<owner>/<repo>:pull_request",
        "sts.amazonaws.com",
        "ReadOnlyAccess",
        "assertion.repository=='<owner>/<repo>' && assertion.event_name=='pull_request'",
        "urn:pulumi:token-type:access_token:organization",
        "PULUMI_ORGANIZATION",
        "AWS_PREVIEW_ROLE_ARN",
        "GCP_WORKLOAD_IDENTITY_PROVIDER",
        "GCP_PREVIEW_SERVICE_ACCOUNT",
    ):
        assert needed in doc, needed
    used = set(re.findall(r"vars\.(\w+)", WORKFLOW.read_text())) - {"PULUMI_PREVIEW"}
    assert used and [var for var in used if var not in doc] == []
