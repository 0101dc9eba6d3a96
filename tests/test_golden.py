"""What each test stack generates (Helm values, Istio manifests) is pinned in `tests/golden/`.

A change to generated output fails here until `scripts/update-golden` rewrites the files,
so the change shows up in review as a diff of YAML. The inputs are the fixed test stacks in
`tests/fixtures/`, not the shipped stacks users edit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from meshlib.__main__ import main
from tests.conftest import ROOT, STACKS, fixture_stack, stack_name


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_generated_output_matches_the_golden_file(
    stack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = ROOT / "tests" / "golden" / f"{stack_name(stack)}.yaml"
    assert main(["plan", "--stack", str(stack), "--format", "yaml"]) == 0
    assert capsys.readouterr().out == golden.read_text(), "run scripts/update-golden and review the diff"


def test_every_golden_file_has_a_test_stack() -> None:
    goldens = {path.stem for path in (ROOT / "tests" / "golden").glob("*.yaml")}
    assert goldens == {stack_name(stack) for stack in STACKS}


def test_plans_do_not_depend_on_the_hash_seed() -> None:
    """Two processes with different string hashing plan the same bytes (no set-order leaks)."""

    def plan(seed: str) -> str:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "meshlib",
                "plan",
                "--stack",
                str(fixture_stack("primary-remote")),
                "--format",
                "json",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    first = plan("1")
    assert first and first == plan("2")
