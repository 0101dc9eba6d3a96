"""The `mesh:*` config reference in Markdown, generated from the models (never hand-kept)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from meshlib.spec.models import (
    ChartValuesSpec,
    ClusterCaSpec,
    ClusterSpec,
    FailoverSpec,
    IngressGatewaySpec,
    IstioSpec,
    KubeconfigSpec,
    MeshSpec,
    NamespaceSpec,
    NetworkSpec,
    NodesSpec,
    OutlierDetectionSpec,
    RevisionSpec,
    RootCaSpec,
    ServicePortSpec,
    ServiceSpec,
)

__all__ = ["config_reference"]

_SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("`mesh:*` (top-level keys)", MeshSpec),
    ("`mesh:istio`", IstioSpec),
    ("`mesh:istio.revisions[]`", RevisionSpec),
    ("`mesh:istio.values`, `mesh:clusters[].istioValues`", ChartValuesSpec),
    ("`mesh:clusters[]`", ClusterSpec),
    ("`mesh:clusters[].nodes`", NodesSpec),
    ("`mesh:clusters[].kubeconfig`", KubeconfigSpec),
    ("`mesh:clusters[].ingressGateway`", IngressGatewaySpec),
    ("`mesh:services[]`", ServiceSpec),
    ("`mesh:services[].ports[]`", ServicePortSpec),
    ("`mesh:namespaces[]`", NamespaceSpec),
    ("`mesh:failover[]`", FailoverSpec),
    ("`mesh:failover[].outlierDetection`", OutlierDetectionSpec),
    ("`mesh:rootCa`", RootCaSpec),
    ("`mesh:clusterCas.<cluster>`", ClusterCaSpec),
    ("`mesh:networks.<network>`", NetworkSpec),
]


def config_reference() -> str:
    """Markdown tables of every config key: type, default and description."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `meshlib/spec/models.py` by `python -m meshlib reference`; do not edit by hand.",
        "Keys live in namespace `mesh` of `stacks/Pulumi.<stack>.yaml`. Unknown keys are refused.",
    ]
    for title, model in _SECTIONS:
        lines += ["", f"## {title}", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        lines += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        schema = model.model_json_schema(by_alias=True)
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        for name, field in model.model_fields.items():
            key = field.alias or name
            lines.append(
                f"| `{key}` | {_type(properties.get(key, {}))} | {_default(field, key in required)} | "
                f"{(field.description or '').replace('|', '/')} |"
            )
    return "\n".join(lines) + "\n"


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " / ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"] if option.get("type") != "null")
    if "$ref" in schema:
        return "object"
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return str(schema.get("type", "any"))


def _default(field: FieldInfo, required: bool) -> str:
    if required:
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "`[]`" if value == [] else "(see below)" if isinstance(value, BaseModel) else f"`{value}`"
    return (
        "none"
        if field.default is None
        else f"`{str(field.default).lower() if isinstance(field.default, bool) else field.default}`"
    )
