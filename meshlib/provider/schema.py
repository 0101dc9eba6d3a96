"""The package's Pulumi schema as the plugin host infers it: `python -m meshlib.provider.schema`.

It is what `pulumi package add` generates SDKs from; `examples/schema.json` is its output,
kept in sync by `tests/test_provider.py`.
"""

import json
from importlib.metadata import version
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

from meshlib.provider.mesh import PACKAGE, MultiClusterMesh

__all__ = ["schema", "schema_text"]


def schema() -> dict[str, Any]:
    """The schema the component provider host serves (the analyzer run in-process, no Pulumi CLI)."""
    provider = ComponentProvider([MultiClusterMesh], PACKAGE, namespace="meshlib", version=version("meshlib"))
    document: dict[str, Any] = json.loads(provider.schema or "{}")
    return document


def schema_text() -> str:
    """`schema()` as stable, indented JSON."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
