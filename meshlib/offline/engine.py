"""Run a Pulumi program on the SDK's mock engine and record what it registers.

No cloud, no Pulumi CLI, no state: each resource is answered with its inputs (plus
whatever `computed` adds), each invoke by `invoke`. In preview mode outputs that are
not inputs stay unknown, exactly as on the first `pulumi preview` of an empty stack.
Used by `python -m meshlib plan` and by the test suite.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.rpc import UNKNOWN

__all__ = [
    "Computed",
    "Invoke",
    "MeshMocks",
    "Registered",
    "Run",
    "is_secret",
    "registrations",
    "run_program",
    "unwrap",
]

Computed = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""(type, name, plain inputs) -> outputs a provider would compute."""
Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(token, args) -> result of a provider function."""

_GC_THRESHOLD0 = 10_000
"""Generation-0 threshold of the cyclic garbage collector while a program runs (CPython's default: 700).

The SDK keeps every Output, task and future of a run alive until it ends, so collections find
little garbage and each full one walks the whole growing heap: with the default about half of
a fleet-size plan was collections. A higher threshold makes them rarer (a 32-cluster plan:
about 40% faster, the same peak memory); the previous thresholds are restored afterwards.
"""

_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: Any) -> bool:
    """Whether a deserialised property value is marked secret."""
    return isinstance(value, dict) and value.get(_SECRET_SIG) == _SECRET_VALUE


def unwrap(value: Any) -> Any:
    """`value` with every secret marker replaced by the value it wraps."""
    if is_secret(value):
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


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
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    read: bool = False
    """Read from the cloud (`Resource.get`), not managed: `pulumi preview` shows it as a read."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per top-level input, the URNs of the resources its value came from."""
    aliases: tuple[str, ...] = ()
    """URNs it was known by before (`ResourceOptions.aliases`): Pulumi updates that resource rather than
    replacing it."""

    @property
    def parent_name(self) -> str:
        """The logical name of the parent resource ('' for the stack)."""
        return self.parent.split("::")[-1] if self.parent else ""

    @property
    def provider_name(self) -> str:
        """The logical name of the explicit provider (from its reference `urn::id`), or ''."""
        if not self.provider:
            return ""
        parts = self.provider.split("::")
        return parts[-2] if len(parts) >= 2 else self.provider

    @property
    def plain(self) -> dict[str, Any]:
        """Inputs with secret markers removed (the values as the provider gets them)."""
        return unwrap(self.inputs)  # type: ignore[no-any-return]

    def is_secret(self, key: str) -> bool:
        """Whether input `key` was sent as a secret."""
        return is_secret(self.inputs.get(key))


def _nothing_computed(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {}


def _no_invokes(token: str, args: dict[str, Any]) -> dict[str, Any]:
    raise pulumi.RunError(f"no offline answer for provider function {token}")


@dataclass
class MeshMocks(Mocks):
    """Mocks that record every registration; `preview=True` leaves computed outputs unknown."""

    preview: bool = False
    computed: Computed = _nothing_computed
    invoke: Invoke = _no_invokes
    resources: list[Registered] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the program logged with `pulumi.log.warn` (and errors), in order."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(
            Registered(
                type=args.typ,
                name=args.name,
                inputs=inputs,
                provider=args.provider or "",
                custom=bool(args.custom) if args.custom is not None else True,
            )
        )
        if self.preview:  # what the engine cannot know before deploying stays unknown
            return None, inputs
        return f"{args.name}-id", {**inputs, **self.computed(args.typ, args.name, unwrap(inputs))}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        return self.invoke(args.token, dict(args.args)), []

    def of_type(self, type_: str) -> list[Registered]:
        """Registrations of one resource type, in registration order."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        """The one registration called `name`."""
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]

    def __iter__(self) -> Iterator[Registered]:
        return iter(self.resources)


class _LogRecorder(logging.Handler):
    """Keeps the program's warnings and errors instead of printing them."""

    def __init__(self, mocks: MeshMocks) -> None:
        super().__init__(logging.WARNING)
        self.mocks = mocks

    def emit(self, record: logging.LogRecord) -> None:
        self.mocks.warnings.append(record.getMessage())


def _program_logger(mocks: MeshMocks) -> logging.Logger:
    logger = logging.getLogger(f"meshlib.offline.program.{id(mocks)}")
    logger.propagate = False
    logger.handlers = [_LogRecorder(mocks)]
    return logger


class _RecordingMonitor(MockMonitor):
    """Adds what `Mocks.new_resource` does not see: parent, dependencies, secret outputs."""

    def __init__(self, mocks: MeshMocks) -> None:
        super().__init__(mocks)
        self.mesh_mocks = mocks
        self.lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._complete(request, response.urn, custom=bool(request.custom))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._complete(request, response.urn, custom=True, read=True)
        return response

    def _complete(self, request: Any, urn: str, custom: bool, read: bool = False) -> None:
        with self.lock:  # registrations run on several threads: find this one by type and name
            registered = next(
                r
                for r in reversed(self.mesh_mocks.resources)
                if r.type == request.type and r.name == request.name and not r.urn
            )
            registered.urn = urn
            registered.parent = request.parent
            registered.dependencies = tuple(request.dependencies)
            registered.additional_secret_outputs = tuple(request.additionalSecretOutputs)
            registered.custom = custom
            registered.read = read
            registered.property_dependencies = {
                key: tuple(value.urns) for key, value in getattr(request, "propertyDependencies", {}).items()
            }
            registered.protect = bool(getattr(request, "protect", False))
            registered.delete_before_replace = bool(getattr(request, "deleteBeforeReplace", False))
            registered.ignore_changes = tuple(getattr(request, "ignoreChanges", ()))
            registered.aliases = tuple(_alias_urns(urn, getattr(request, "aliases", ())))


def _alias_urns(urn: str, aliases: Any) -> Iterator[str]:
    """The old URNs of `aliases` (full URNs, or specs renaming a resource under the same parent)."""
    for alias in aliases:
        if alias.urn:
            yield alias.urn
        elif alias.spec.name and not (alias.spec.type or alias.spec.parentUrn or alias.spec.noParent):
            yield f"{urn.rsplit('::', 1)[0]}::{alias.spec.name}"


@dataclass
class Run:
    """The outcome of one program run on the mock engine."""

    mocks: MeshMocks
    outputs: dict[str, Any]
    """Stack outputs, resolved (unknown values are None)."""
    secret_outputs: set[str]
    unknown_outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs with what is unknown marked as Pulumi marks it on the wire (`rpc.UNKNOWN`), so that
    a StackReference answering with them gives unknown values, as a preview after a preview would."""

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.resources

    @property
    def warnings(self) -> list[str]:
        return self.mocks.warnings


def run_program(
    build: Callable[[], Any],
    *,
    preview: bool = False,
    config: dict[str, Any] | None = None,
    mocks: MeshMocks | None = None,
    project: str = "istio-multicluster",
    stack: str = "offline",
) -> Run:
    """Run `build()` as a whole Pulumi program on the mock engine and return what it registered.

    `config` maps full keys (`mesh:clusters`) to values; structured values are passed
    as JSON text, as Pulumi does. Pass `mocks` to inspect a program that raises.
    """
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = mocks or MeshMocks(preview=preview)
    mocks.preview = preview
    # A previous run that failed can leave work behind: start from a clean runtime.
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in (config or {}).items()}, []
    )
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=preview,
        logger=_program_logger(mocks),
        monitor=_RecordingMonitor(mocks),
    )
    root = settings.get_root_resource()
    if root is None:  # pragma: no cover - set_mocks always creates the stack
        raise RuntimeError("the mock engine created no stack")
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], _GC_THRESHOLD0), *thresholds[1:])
    try:
        _sync_await(run_pulumi_func(build))
        outputs, secrets, unknown = _sync_await(_resolve_outputs(root))
    finally:
        gc.set_threshold(*thresholds)
    return Run(mocks=mocks, outputs=outputs, secret_outputs=secrets, unknown_outputs=unknown)


async def _resolve_outputs(root: Any) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    """The stack's outputs, resolved (unknown values are None), which of them are secret, and with unknowns marked."""
    outputs: dict[str, Any] = {}
    secrets: set[str] = set()
    unknown: dict[str, Any] = {}
    for key, value in root.outputs.items():
        output = pulumi.Output.from_input(value)
        outputs[key] = await output.future(with_unknowns=False)
        found = await output.future(with_unknowns=True)
        unknown[key] = _mark_unknowns(found) if found is not None or await output.is_known() else UNKNOWN
        if await output.is_secret():
            secrets.add(key)
    return outputs, secrets, unknown


def _mark_unknowns(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: _mark_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark_unknowns(item) for item in value]
    return value


def registrations(run: Run) -> dict[tuple[str, str], Any]:
    """Every registration's inputs, parent, provider and dependencies by (type, name).

    Registration order varies between runs (they are concurrent), so it is not part of it.
    """
    return {(r.type, r.name): (r.inputs, r.parent, r.provider_name, sorted(r.dependencies)) for r in run.resources}
