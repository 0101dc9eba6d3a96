"""Compare two offline plans: resources added, removed, and changed (with the input paths)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshlib.offline.replacements import changed_paths

__all__ = ["PlanDiff", "diff_plans", "render_diff"]

Key = tuple[str, str]


@dataclass
class PlanDiff:
    """What changed between an old and a new plan."""

    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    changed: dict[Key, list[str]] = field(default_factory=dict)
    """Per changed resource: the input paths whose values differ."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    """Compare the `resources` of two plan documents (`meshlib.offline.render.plan_document`)."""
    before = {(r["type"], r["name"]): r for r in old.get("resources", [])}
    after = {(r["type"], r["name"]): r for r in new.get("resources", [])}
    result = PlanDiff(added=sorted(after.keys() - before.keys()), removed=sorted(before.keys() - after.keys()))
    for key in sorted(before.keys() & after.keys()):
        paths = changed_paths(_comparable(before[key]), _comparable(after[key]))
        if paths:
            result.changed[key] = paths
    return result


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "inputs": resource.get("inputs", {}),
        "parent": resource.get("parent"),
        "provider": resource.get("provider"),
    }


def render_diff(diff: PlanDiff, title: str = "", markdown: bool = False) -> str:
    """The diff as text (or Markdown for a pull-request comment)."""
    lines: list[str] = []
    if title:
        lines.append(f"### {title}" if markdown else title)
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    counts = f"{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to remove"
    lines.append(counts)
    if markdown:
        lines.append("```diff")
    for type_, name in diff.added:
        lines.append(f"+ {type_} {name}")
    for type_, name in diff.removed:
        lines.append(f"- {type_} {name}")
    for (type_, name), paths in diff.changed.items():
        lines.append(f"~ {type_} {name}")
        lines += [f"    ~ {path}" for path in paths]
    if markdown:
        lines.append("```")
    return "\n".join(lines) + "\n"
