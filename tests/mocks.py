"""Pulumi mock engine for component and program tests: records every registration.

`MeshMocks` answers each resource with its inputs plus the outputs a real provider
would compute (from `tests.fakes`), and each invoke with canned data, so that
components can be run with no cloud, no Pulumi CLI and no network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor

from tests import fakes


@dataclass
class Registered:
    """One resource registration as the engine saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    provider: str
    custom: bool
    urn: str = ""
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()

    @property
    def parent_name(self) -> str:
        """The logical name of the parent resource ('' for the stack)."""
        return self.parent.split("::")[-1] if self.parent else ""

    @property
    def plain(self) -> dict[str, Any]:
        """Inputs with secret markers removed (the values as the provider gets them)."""
        return unwrap(self.inputs)

    def is_secret(self, key: str) -> bool:
        """Whether input `key` was sent as a secret."""
        return is_secret(self.inputs.get(key))

    @property
    def provider_name(self) -> str:
        """The name of the explicit provider (from its reference `urn::id`), or ''."""
        if not self.provider:
            return ""
        urn = self.provider.split("::")
        return urn[-2] if len(urn) >= 2 else self.provider


@dataclass
class MeshMocks(Mocks):
    """Mocks that record resources; `preview=True` leaves computed outputs unknown."""

    preview: bool = False
    resources: list[Registered] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(
            Registered(
                type=args.typ,
                name=args.name,
                inputs=inputs,
                provider=args.provider or "",
                custom=args.custom if args.custom is not None else True,
            )
        )
        if self.preview:  # what the engine cannot know before deploying stays unknown
            return None, inputs
        return f"{args.name}-id", {**inputs, **fakes.outputs(args.typ, args.name, unwrap(inputs))}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, dict(args.args)))
        return fakes.call(args.token, dict(args.args)), None

    # -- queries used by tests -------------------------------------------------------

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"{len(found)} resources named {name!r}"
        return found[0]

    def __iter__(self) -> Iterator[Registered]:
        return iter(self.resources)


_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def is_secret(value: Any) -> bool:
    """Whether a deserialised property value is marked secret."""
    return isinstance(value, dict) and value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270"


def unwrap(value: Any) -> Any:
    """`value` with every secret marker replaced by the value it wraps."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


class _RecordingMonitor(MockMonitor):
    """Adds what `Mocks.new_resource` does not see: parent, dependencies, secret outputs."""

    def __init__(self, mocks: MeshMocks) -> None:
        super().__init__(mocks)
        self.mesh_mocks = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            # Registrations run on several threads: find this one by its URN's type and name.
            registered = next(
                r
                for r in reversed(self.mesh_mocks.resources)
                if r.type == request.type and r.name == request.name and not r.urn
            )
            registered.urn = response.urn
            registered.parent = request.parent
            registered.dependencies = tuple(request.dependencies)
            registered.additional_secret_outputs = tuple(request.additionalSecretOutputs)
            registered.custom = bool(request.custom)
        return response


def fake_ip(seed: str) -> str:
    """A stable public-looking IP derived from `seed` (203.0.113.0/24 is documentation space)."""
    return f"203.0.113.{int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 250 + 1}"


@dataclass
class Run:
    """The outcome of one program run under mocks."""

    mocks: MeshMocks
    outputs: dict[str, Any]
    """Stack outputs, resolved (unknown values in preview are None)."""
    secret_outputs: set[str]

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.resources


def run_program(build: Callable[[], Any], *, preview: bool = False, config: dict[str, Any] | None = None) -> Run:
    """Run `build()` as a whole Pulumi program under fresh mocks and return what it registered."""
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = MeshMocks(preview=preview)
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_all_config({key: _config_text(value) for key, value in (config or {}).items()}, [])
    pulumi.runtime.set_mocks(
        mocks, project="istio-multicluster", stack="test", preview=preview, monitor=_RecordingMonitor(mocks)
    )
    root = settings.get_root_resource()
    assert root is not None
    _sync_await(run_pulumi_func(build))

    outputs: dict[str, Any] = {}
    secrets: set[str] = set()

    async def resolve() -> None:
        for key, value in root.outputs.items():  # type: ignore[attr-defined]
            output = pulumi.Output.from_input(value)
            outputs[key] = await output.future(with_unknowns=False)
            if await output.is_secret():
                secrets.add(key)

    _sync_await(resolve())
    return Run(mocks=mocks, outputs=outputs, secret_outputs=secrets)


def registrations(run: Run) -> dict[tuple[str, str], Any]:
    """Every registration's inputs by (type, name): what a second preview would diff against.

    Registration order varies between runs (they are concurrent), so it is not compared.
    """
    return {(r.type, r.name): (r.inputs, r.parent, r.provider_name, sorted(r.dependencies)) for r in run.resources}


def _config_text(value: Any) -> str:
    """Pulumi hands structured config to programs as JSON text."""
    import json

    return value if isinstance(value, str) else json.dumps(value)
