"""What each shipped stack generates (Helm values, Istio manifests) is pinned in `tests/golden/`.

A change to generated output fails here until `scripts/update-golden` rewrites the files,
so the change shows up in review as a diff of YAML.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meshlib.__main__ import main
from tests.conftest import ROOT, STACKS, stack_name


@pytest.mark.parametrize("stack", STACKS, ids=stack_name)
def test_generated_output_matches_the_golden_file(
    stack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = ROOT / "tests" / "golden" / f"{stack_name(stack)}.yaml"
    assert main(["plan", "--stack", str(stack), "--format", "yaml"]) == 0
    assert capsys.readouterr().out == golden.read_text(), "run scripts/update-golden and review the diff"
