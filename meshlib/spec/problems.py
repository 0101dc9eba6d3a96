"""Configuration problems: each names its config key and says what would be valid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi

__all__ = ["ConfigError", "Problem", "key_path"]


def key_path(loc: Sequence[str | int]) -> str:
    """Render a location such as `("clusters", 1, "network")` as `mesh:clusters[1].network`."""
    path = "mesh:"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if index == 0 else f".{part}"
    return path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the stack configuration."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(pulumi.RunError):
    """The stack configuration is invalid; `problems` lists every reason.

    A `pulumi.RunError`, so `pulumi up` prints the message alone, without a traceback.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid mesh configuration ({count} problem{'s' if count != 1 else ''}):\n{lines}")
