"""Compare two offline plans as `pulumi preview --diff` would: what is created, updated, replaced, deleted.

Every changed input is shown with its old and new value (secrets stay `[secret]`). A change
of an input that forces replacement (`meshlib.offline.replacements.REPLACE_ON`) marks the
resource `+-` with that input named; a resource whose replace-forcing input is computed from a
replaced resource (a subnet's `vpcId` after the VPC is replaced) is marked as possibly replaced,
with the chain that leads to it. Dangerous changes come first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshlib.offline.render import COMPUTED, SECRET
from meshlib.offline.replacements import Action, Change, Snapshot, changes

__all__ = ["DANGEROUS_TYPES", "PlanDiff", "diff_plans", "is_dangerous", "render_diff"]
_GLYPH = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}
_ORDER = {"replace": 0, "delete": 1, "create": 2, "update": 3}

DANGEROUS_TYPES = frozenset(
    {
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/eip:Eip",
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
        "gcp:compute/network:Network",
        "gcp:compute/address:Address",
        "tls:index/privateKey:PrivateKey",
        "tls:index/selfSignedCert:SelfSignedCert",
        "tls:index/locallySignedCert:LocallySignedCert",
        "meshlib:index:RemoteSecret",
        "pulumi:providers:kubernetes",
    }
)
"""Replacing or deleting one of these loses a cluster, its nodes, an address peers use, or trust."""


def is_dangerous(change: Change) -> bool:
    """Replacing or deleting something that holds state or trust."""
    if change.action not in ("replace", "delete"):
        return False
    return change.type in DANGEROUS_TYPES or change.name.endswith("-cacerts")


@dataclass
class PlanDiff:
    """Every resource that changes between two plans, dangerous first."""

    changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def as_json(self) -> dict[str, Any]:
        """The diff for other tools (`diff --format json`)."""
        return {
            "summary": {action: self.count(action) for action in ("create", "update", "replace", "delete")},
            "changes": [
                {
                    "type": change.type,
                    "name": change.name,
                    "action": change.action,
                    "dangerous": is_dangerous(change),
                    "possibly": change.possibly,
                    "because": [_name(key) for key in change.because],
                    "inputs": [
                        {
                            "path": item.path,
                            **({"old": item.old} if item.old is not ... else {}),
                            **({"new": item.new} if item.new is not ... else {}),
                            "forcesReplacement": item.forces_replacement,
                        }
                        for item in change.inputs
                    ],
                }
                for change in self.changes
            ],
        }


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    """Compare the `resources` of two plan documents (`meshlib.offline.render.plan_document`).

    The same classifier as the lifecycle tests (`meshlib.offline.replacements.changes`); reads
    (`Resource.get`) are not managed and never change.
    """

    def snapshots(document: dict[str, Any]) -> list[Snapshot]:
        return [Snapshot.of_plan(r) for r in document.get("resources", []) if not r.get("read")]

    found = [c for c in changes(snapshots(old), snapshots(new)).values() if c.action != "same"]
    return PlanDiff(sorted(found, key=lambda c: (not is_dangerous(c), _ORDER[c.action], c.type, c.name)))


def render_diff(diff: PlanDiff, title: str = "", markdown: bool = False) -> str:
    """The diff as text, or as Markdown for a pull-request comment (details collapsed when long)."""
    lines: list[str] = []
    if title:
        lines.append(f"### {title}" if markdown else title)
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    header = ", ".join(f"{diff.count(action)} to {action}" for action in ("create", "update", "replace", "delete"))
    dangerous = [change for change in diff.changes if is_dangerous(change)]
    if markdown:
        lines.append(f"**{header}**")
        if dangerous:
            lines.append(f"**Dangerous:** {', '.join(f'`{c.name}` ({c.action})' for c in dangerous)}")
    else:
        lines.append(header)
    body = [line for change in diff.changes for line in _resource_lines(change)]
    if markdown:
        long = len(body) > 40
        if long:
            lines += ["", "<details><summary>Every change</summary>", ""]
        lines += ["```diff", *body, "```"]
        if long:
            lines.append("</details>")
    else:
        lines += body
    return "\n".join(lines) + "\n"


def _resource_lines(change: Change) -> list[str]:
    head = f"{_GLYPH[change.action]} {change.type} {change.name}"
    notes = []
    if is_dangerous(change):
        notes.append("DANGEROUS")
    chain = " -> ".join(_name(key) for key in change.because)
    if change.action == "replace":
        reason = ", ".join(change.forcing) or f"follows {chain}"
        notes.append(f"{'possibly ' if change.possibly else ''}replaced: {reason}")
    elif change.because:
        notes.append(f"possibly updated: follows {chain}")
    lines = [head + (f"  [{'; '.join(notes)}]" if notes else "")]
    for item in change.inputs:
        glyph = "+" if item.old is ... else "-" if item.new is ... else "~"
        values = (
            _value(item.new)
            if item.old is ...
            else _value(item.old)
            if item.new is ...
            else (f"{_value(item.old)} => {_value(item.new)}")
        )
        lines.append(f"    {glyph} {item.path}: {values}{'  (forces replacement)' if item.forces_replacement else ''}")
    return lines


def _name(key: str) -> str:
    return key.rsplit("::", 1)[-1]


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value in (COMPUTED, SECRET) else f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
