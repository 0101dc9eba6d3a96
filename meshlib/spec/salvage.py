"""All problems in one pass: the cross-field rules run on whatever part of a broken config parses.

Pydantic stops at shape problems (a typo'd key, a wrong type); without this, a user would fix
those and only then learn of the cross-field ones. Here the clusters and services that parse
(without their broken optional fields) go through the rules, and the problems found are keyed
as in the user's config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from meshlib.spec.models import ClusterSpec, MeshSpec, ServiceSpec
from meshlib.spec.problems import Problem

__all__ = ["salvaged_problems"]

_LISTS: dict[str, type[BaseModel]] = {"clusters": ClusterSpec, "services": ServiceSpec}
_ITEM_KEY = re.compile(r"mesh:(clusters|services)\[(\d+)\]")


def salvaged_problems(
    model_input: Mapping[str, Any], shape: list[Problem], cross_field: Callable[[MeshSpec], list[Problem]]
) -> list[Problem]:
    """Cross-field problems of the parts that parse, keyed as in the config.

    Clusters and services that do not parse are left out, and so is every other key with a
    shape problem (a required one: the rules do not run). Rule problems about what was left out
    (its key, or a left-out cluster's name) would only repeat the shape problem, so they are dropped.
    """
    salvage = {key: value for key, value in model_input.items() if key not in _LISTS}
    broken = {problem.key.split(".")[0].split("[")[0].removeprefix("mesh:") for problem in shape}
    for key in broken - set(_LISTS):
        salvage.pop(key, None)
    positions: dict[str, list[int]] = {}
    left_out: set[str] = set()
    for key, model in _LISTS.items():
        items = model_input.get(key)
        if not isinstance(items, list):
            continue
        kept = []
        for index, item in enumerate(items):
            usable = _usable(model, item)
            if usable is None:
                name = item.get("name") if isinstance(item, Mapping) else None
                left_out.add(str(name))
                continue
            kept.append(usable)
            positions.setdefault(key, []).append(index)
        salvage[key] = kept
    placeholder = "meshId" in broken
    if placeholder:
        salvage["meshId"] = "x"
    try:
        spec = MeshSpec.model_validate(salvage)
    except ValidationError:
        return []  # a required key is broken: its shape problem is all there is to say

    def original(match: re.Match[str]) -> str:
        return f"mesh:{match[1]}[{positions[match[1]][int(match[2])]}]"

    found = []
    for problem in cross_field(spec):
        key, message = _ITEM_KEY.sub(original, problem.key), _ITEM_KEY.sub(original, problem.message)
        if any(key.startswith(p.key) or p.key.startswith(key) for p in shape):
            continue
        if any(f"{name!r}" in message for name in left_out) or (placeholder and "namePrefix" in message):
            continue
        found.append(Problem(key, message))
    return found


def _usable(model: type[BaseModel], item: Any) -> Any:
    """`item` if it parses, or with its broken optional fields left out, else None."""
    try:
        model.model_validate(item)
        return item
    except ValidationError as error:
        if not isinstance(item, Mapping):
            return None
        broken = {str(entry["loc"][0]) for entry in error.errors() if entry["loc"]}
        required = {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
        if broken & required:
            return None
        trimmed = {key: value for key, value in item.items() if key not in broken}
    try:
        model.model_validate(trimmed)
    except ValidationError:
        return None
    return trimmed
