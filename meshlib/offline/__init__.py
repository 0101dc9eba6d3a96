"""Offline runs of the program on Pulumi's mock engine: plans, diffs and diagrams without a cloud.

See `meshlib.offline.engine` (the mock engine), `program` (running a stack), `render`
(what a plan shows) and `diff` (comparing plans); `python -m meshlib` is the command line.
"""

from __future__ import annotations

__all__: list[str] = []
