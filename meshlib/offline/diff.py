"""Compare two offline plans as `pulumi preview --diff` would: what is created, updated, replaced, deleted.

Every changed input is shown with its old and new value (secrets stay `[secret]`). A change
of an input that forces replacement (`meshlib.offline.replacements.REPLACE_ON`) marks the
resource `+-` with that input named; a resource whose replace-forcing input is computed from a
replaced resource (a subnet's `vpcId` after the VPC is replaced) is marked as possibly replaced,
with the chain that leads to it. Dangerous changes come first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from meshlib.offline.replacements import changed_paths, flatten, forcing_paths, replace_rule

__all__ = ["DANGEROUS_TYPES", "InputChange", "PlanDiff", "ResourceChange", "diff_plans", "render_diff"]

Action = Literal["create", "update", "replace", "delete"]
_COMPUTED = "(computed)"
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


@dataclass(frozen=True)
class InputChange:
    """One input path with its old and new value (`...` where it is absent)."""

    path: str
    old: Any
    new: Any
    forces_replacement: bool = False


@dataclass
class ResourceChange:
    """What happens to one resource."""

    type: str
    name: str
    action: Action
    inputs: list[InputChange] = field(default_factory=list)
    because: list[str] = field(default_factory=list)
    """For a replacement that follows another: the chain of replaced resources leading here."""
    possibly: bool = False
    """The replacement depends on a value known only at deploy time."""

    @property
    def dangerous(self) -> bool:
        """Replacing or deleting something that holds state or trust."""
        if self.action not in ("replace", "delete"):
            return False
        return self.type in DANGEROUS_TYPES or self.name.endswith("-cacerts")

    @property
    def forcing(self) -> list[str]:
        return [change.path for change in self.inputs if change.forces_replacement]


@dataclass
class PlanDiff:
    """Every resource that changes between two plans, dangerous first."""

    changes: list[ResourceChange] = field(default_factory=list)

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
                    "dangerous": change.dangerous,
                    "possibly": change.possibly,
                    "because": change.because,
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
    """Compare the `resources` of two plan documents (`meshlib.offline.render.plan_document`)."""
    before = {(r["type"], r["name"]): r for r in old.get("resources", []) if not r.get("read")}
    after = {(r["type"], r["name"]): r for r in new.get("resources", []) if not r.get("read")}
    result: dict[tuple[str, str], ResourceChange] = {}
    for key in sorted(after.keys() - before.keys()):
        result[key] = ResourceChange(*key, "create")
    for key in sorted(before.keys() - after.keys()):
        result[key] = ResourceChange(*key, "delete")
    for key in sorted(before.keys() & after.keys()):
        change = _compare(key, before[key], after[key])
        if change is not None:
            result[key] = change
    _follow(result, after)
    ordered = sorted(result.values(), key=lambda c: (not c.dangerous, _ORDER[c.action], c.type, c.name))
    return PlanDiff(ordered)


def _compare(key: tuple[str, str], old: dict[str, Any], new: dict[str, Any]) -> ResourceChange | None:
    old_inputs, new_inputs = old.get("inputs", {}), new.get("inputs", {})
    paths = changed_paths(old_inputs, new_inputs)
    moved = old.get("parent") != new.get("parent") or old.get("provider") != new.get("provider")
    if not paths and not moved:
        return None
    forcing = set(forcing_paths(key[0], paths))
    before, after = flatten(old_inputs), flatten(new_inputs)
    inputs = [InputChange(p, before.get(p, ...), after.get(p, ...), p in forcing) for p in paths]
    if moved:  # a new parent or provider is a new URN for Pulumi: delete and create
        return ResourceChange(*key, "replace", inputs, because=["a new parent or provider"])
    computed_forcing = any(after.get(p) == _COMPUTED and before.get(p) != _COMPUTED for p in forcing)
    return ResourceChange(*key, "replace" if forcing else "update", inputs, possibly=computed_forcing)


def _follow(result: dict[tuple[str, str], ResourceChange], after: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Mark what takes an input from a replaced resource: possibly replaced where that input forces it."""
    changed = True
    while changed:
        changed = False
        replaced = {key[1]: change for key, change in result.items() if change.action == "replace"}
        for key, resource in after.items():
            current = result.get(key)
            if current is not None and current.action in ("replace", "create", "delete"):
                continue
            fed = {
                top: sorted(set(names) & replaced.keys())
                for top, names in resource.get("inputsFrom", {}).items()
                if set(names) & replaced.keys()
            }
            provider = resource.get("provider")
            if not fed and provider not in replaced:
                continue
            forced_by = [
                names[0] for top, names in fed.items() if forcing_paths(key[0], [top]) or _forces_below(key[0], top)
            ]
            upstream = provider if provider in replaced else forced_by[0] if forced_by else next(iter(fed.values()))[0]
            forced = provider in replaced or bool(forced_by)
            chain = [*replaced[upstream].because, upstream]
            if current is not None and current.because == chain and (current.action == "replace") == forced:
                continue
            inputs = current.inputs if current else []
            result[key] = ResourceChange(*key, "replace" if forced else "update", inputs, because=chain, possibly=True)
            changed = True


def _forces_below(type_: str, top: str) -> bool:
    """Whether a replace-forcing path of `type_` lies inside input `top` (e.g. `vpcConfig.subnetIds`)."""
    rule = replace_rule(type_)
    return bool(rule and any(path.startswith(f"{top}.") for path in rule.paths))


def render_diff(diff: PlanDiff, title: str = "", markdown: bool = False) -> str:
    """The diff as text, or as Markdown for a pull-request comment (details collapsed when long)."""
    lines: list[str] = []
    if title:
        lines.append(f"### {title}" if markdown else title)
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines) + "\n"
    header = ", ".join(f"{diff.count(action)} to {action}" for action in ("create", "update", "replace", "delete"))
    dangerous = [change for change in diff.changes if change.dangerous]
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


def _resource_lines(change: ResourceChange) -> list[str]:
    head = f"{_GLYPH[change.action]} {change.type} {change.name}"
    notes = []
    if change.dangerous:
        notes.append("DANGEROUS")
    if change.action == "replace":
        reason = ", ".join(change.forcing) or (
            f"follows {' -> '.join(change.because)}" if change.because else "a new parent or provider"
        )
        notes.append(f"{'possibly ' if change.possibly else ''}replaced: {reason}")
    elif change.because:
        notes.append(f"possibly updated: follows {' -> '.join(change.because)}")
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


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value in (_COMPUTED, "[secret]") else f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
