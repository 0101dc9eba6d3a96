"""The stacks shipped in `stacks/` are examples users edit: the one test that reads them.

Every other test uses the fixed copies in `tests/fixtures/`, so editing a shipped stack can
only break this test, and only if the edit leaves the stack invalid or unplannable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshlib.__main__ import main
from meshlib.offline.diff import diff_plans, render_diff
from meshlib.offline.program import OfflineStack, local_config, plan_stack
from meshlib.offline.render import plan_document
from meshlib.spec import load_spec_file
from tests.conftest import ROOT, SHIPPED_STACKS, stack_name


@pytest.mark.parametrize("stack", SHIPPED_STACKS, ids=stack_name)
def test_every_shipped_stack_is_valid_and_plans(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = load_spec_file(stack)
    assert spec.clusters and all(cluster.network for cluster in spec.clusters)
    assert main(["plan", "--stack", str(stack), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stack"] == stack_name(stack) and plan["resources"]


UPGRADE = sorted((ROOT / "examples" / "upgrade").glob("*.yaml"))
UPGRADES_DOC = ROOT / "docs" / "upgrades.md"
BEGIN, END = "<!-- upgrade-walkthrough: begin -->", "<!-- upgrade-walkthrough: end -->"


def upgrade_walkthrough() -> str:
    """docs/upgrades.md's walkthrough: `meshlib diff` of each upgrade step on the shipped multi-primary stack.

    Each changed resource's line, without its inputs (the checks' scripts are long); regenerate
    with `python -m tests.test_shipped_stacks`.
    """
    stack = ROOT / "stacks" / "Pulumi.multi-primary.yaml"
    plans = [
        plan_document(found.name, *plan_stack(found))
        for found in (OfflineStack("multi-primary", stack, ROOT, local_config(path, [])) for path in UPGRADE)
    ]
    sections = []
    for path, old, new in zip(UPGRADE[1:], plans, plans[1:], strict=False):
        lines = render_diff(diff_plans(old, new)).splitlines()
        kept = [lines[0], *(line for line in lines[1:] if line[:1] in "+~-" and not line.startswith("    "))]
        sections.append(f"`{path.name}`:\n\n```\n" + "\n".join(kept) + "\n```\n")
    return "\n".join(sections)


def test_the_upgrade_walkthrough_in_the_docs_is_current() -> None:
    text = UPGRADES_DOC.read_text()
    shown = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert shown == upgrade_walkthrough().strip(), (
        "docs/upgrades.md is stale: run `python -m tests.test_shipped_stacks`"
    )


if __name__ == "__main__":
    doc = UPGRADES_DOC.read_text()
    head, tail = doc[: doc.index(BEGIN) + len(BEGIN)], doc[doc.index(END) :]
    UPGRADES_DOC.write_text(f"{head}\n{upgrade_walkthrough()}\n{tail}")
