"""The policy pack: `policy.rules.POLICIES` wired into pulumi-policy.

Pulumi runs this file as `__main__` (`pulumi preview --policy-pack policy`); importing it
only defines `build_policies`, so the wiring is testable without the Pulumi CLI.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties

if __package__:  # imported as `policy.__main__` (tests)
    from . import rules
else:  # run by Pulumi: this directory is sys.path[0]
    import rules  # type: ignore[no-redef]

PACK_NAME = "meshlib-istio-multicluster"


def _plain(props: Any) -> dict[str, Any]:
    """pulumi-policy's props without its proxies; unknown values stay as their sentinels (rules skip them)."""
    return dict(serialize_properties(props))


def _resource_validation(rule: rules.ResourceRule) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(args.resource_type, _plain(args.props)):
            report_violation(message, None)

    return validate


def _stack_validation(rule: rules.StackRule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            rules.StackResource(r.resource_type, r.name, _plain(r.props), r.provider.urn if r.provider else "")
            for r in args.resources
        ]
        for message in rule(resources):
            report_violation(message, None)

    return validate


def build_policies() -> list[Policy]:
    """One pulumi-policy `Policy` per `rules.POLICIES` entry, with its enforcement level."""
    policies: list[Policy] = []
    for spec in rules.POLICIES:
        level = EnforcementLevel(spec.enforcement)
        if spec.resource_rule is not None:
            policies.append(
                ResourceValidationPolicy(
                    spec.name, spec.description, _resource_validation(spec.resource_rule), enforcement_level=level
                )
            )
        elif spec.stack_rule is not None:
            policies.append(
                StackValidationPolicy(
                    spec.name, spec.description, _stack_validation(spec.stack_rule), enforcement_level=level
                )
            )
    return policies


if __name__ == "__main__":
    PolicyPack(PACK_NAME, policies=build_policies(), description="Istio multi-cluster mesh guard rails (meshlib)")
