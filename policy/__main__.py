"""The policy pack: `policy.rules.POLICIES` wired into pulumi-policy.

Pulumi runs this file as `__main__` (`pulumi preview --policy-pack policy`); importing it
only defines `build_policies`, so the wiring is testable without the Pulumi CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

if __package__:  # imported as `policy.__main__` (tests)
    from . import rules
else:  # run by Pulumi: this directory is sys.path[0]
    import rules  # type: ignore[no-redef, import-not-found, unused-ignore]

PACK_NAME = "meshlib-istio-multicluster"


def _plain(props: Any) -> dict[str, Any]:
    """pulumi-policy's props as plain dicts and lists, with `rules.UNKNOWN` where a value is not known yet.

    Read through the Mapping and Sequence interfaces only (pulumi-policy's public API): its
    props proxies raise on reading a value that is unknown during preview, and the
    exception's class is not part of that API, so any refusal to give a value counts as unknown.
    """
    return dict(_unwrap(props))


def _unwrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _read(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_read(value, index) for index in range(len(value))]
    return value


def _read(container: Any, key: Any) -> Any:
    try:
        item = container[key]
    except Exception:  # pulumi-policy's UnknownValueError (a value not known during preview)
        return rules.UNKNOWN
    return _unwrap(item)


def _resource_validation(rule: rules.ResourceRule) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(args.resource_type, _plain(args.props)):
            report_violation(message, None)

    return validate


def _stack_validation(rule: rules.StackRule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            rules.StackResource(
                r.resource_type,
                r.name,
                _plain(r.props),
                r.provider.urn if r.provider else "",
                r.urn,
                r.parent.urn if r.parent else "",
            )
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
