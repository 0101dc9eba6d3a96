"""The fleet driver's ordering, concurrency, stop and resume (on a fake workspace: no Pulumi CLI here),
the fleet stacks' config, and `python -m meshlib fleet`."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlib.__main__ import main
from meshlib.fleet.config import (
    FLEET_BASE_KEY,
    FLEET_STACK_KEY,
    fleet_config,
    fleet_stack_name,
    write_fleet_configs,
)
from meshlib.fleet.driver import NO_CLI, AutomationWorkspace, FleetReport, fleet_available, run_fleet
from meshlib.fleet.layout import FleetLayout, plan_fleet
from tests.conftest import ROOT, example, fixture_stack

BASE = "multi-primary"


@pytest.fixture(scope="module", params=["multi-primary", "primary-remote"])
def layout(request: pytest.FixtureRequest) -> FleetLayout:
    return plan_fleet(example(request.param))


@pytest.fixture(scope="module")
def multi_primary() -> FleetLayout:
    return plan_fleet(example("multi-primary"))


class FakeWorkspace:
    """Records each call's start and end (a global sequence number), fails the stacks asked to, sleeps a little."""

    def __init__(
        self,
        fail: frozenset[str] | set[str] = frozenset(),
        delay: float = 0.0,
        delays: Mapping[str, float] | None = None,
        undeployed: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.fail = set(fail)
        self.undeployed = set(undeployed)
        self.delay = delay
        self.delays = dict(delays or {})
        self.lock = threading.Lock()
        self.sequence = itertools.count()
        self.calls: list[tuple[str, str]] = []  # (method, stack) in start order
        self.started: dict[str, int] = {}
        self.ended: dict[str, int] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.running = 0
        self.most_running = 0

    def _run(self, method: str, stack_name: str) -> None:
        with self.lock:
            self.calls.append((method, stack_name))
            self.started[stack_name] = next(self.sequence)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(self.delays.get(stack_name, self.delay))
            if stack_name in self.fail:
                raise RuntimeError(f"{method} of {stack_name} failed: boom")
        finally:
            with self.lock:
                self.running -= 1
                self.ended[stack_name] = next(self.sequence)

    def up(self, stack_name: str, config: Mapping[str, Any]) -> None:
        self.configs[stack_name] = dict(config)
        self._run("up", stack_name)

    def deployed(self, stack_name: str) -> bool:
        return stack_name not in self.undeployed

    def preview(self, stack_name: str, config: Mapping[str, Any]) -> None:
        self.configs[stack_name] = dict(config)
        self._run("preview", stack_name)

    def destroy(self, stack_name: str) -> None:
        self._run("destroy", stack_name)


def names(layout: FleetLayout) -> list[str]:
    return [stack.name for stack in layout.stacks]


def full(name: str) -> str:
    return f"{BASE}.{name}"


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("action", ["up", "preview"])
def test_layers_run_in_order_and_no_stack_starts_before_what_it_reads(layout: FleetLayout, action: Any) -> None:
    fake = FakeWorkspace(delay=0.002)
    report = run_fleet(layout, BASE, action, fake, concurrency=3, on_event=quiet)
    assert report.ok and report.stopped_at_layer is None
    assert sorted(report.succeeded) == sorted(names(layout))
    assert sorted(stack for _, stack in fake.calls) == sorted(full(n) for n in names(layout))
    assert {method for method, _ in fake.calls} == {action}
    for index, layer in enumerate(layout.layers):
        for stack in layer:
            for earlier in (s for previous in layout.layers[:index] for s in previous):
                assert fake.started[full(stack.name)] > fake.ended[full(earlier.name)], (stack.name, earlier.name)
            for needed in stack.needs:
                assert fake.started[full(stack.name)] > fake.ended[full(needed)]


def test_destroy_runs_the_layers_in_reverse(layout: FleetLayout) -> None:
    fake = FakeWorkspace(delay=0.002)
    report = run_fleet(layout, BASE, "destroy", fake, concurrency=3, on_event=quiet)
    assert report.ok
    assert {method for method, _ in fake.calls} == {"destroy"}
    assert fake.configs == {}
    for stack in layout.stacks:  # a stack goes only once every stack reading it is gone
        for needed in stack.needs:
            assert fake.started[full(needed)] > fake.ended[full(stack.name)], (needed, stack.name)
    last, first = layout.layers[-1], layout.layers[0]
    assert max(fake.ended[full(s.name)] for s in last) < min(fake.started[full(s.name)] for s in first)


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_concurrency_is_bounded_and_used(multi_primary: FleetLayout, concurrency: int) -> None:
    fake = FakeWorkspace(delay=0.02)
    assert run_fleet(multi_primary, BASE, "up", fake, concurrency=concurrency, on_event=quiet).ok
    widest = max(len(layer) for layer in multi_primary.layers)
    assert fake.most_running == min(concurrency, widest)


def test_a_failure_stops_the_run_after_its_layer_finishes(multi_primary: FleetLayout, tmp_path: Path) -> None:
    # cluster-east fails at once; cluster-central, of the same layer, is still running and must finish
    fake = FakeWorkspace(fail={full("cluster-east")}, delays={full("cluster-central"): 0.03})
    report = run_fleet(multi_primary, BASE, "up", fake, concurrency=4, on_event=quiet)
    layer_0 = [s.name for s in multi_primary.layers[0]]
    later = [s.name for layer in multi_primary.layers[2:] for s in layer]
    assert not report.ok
    assert report.stopped_at_layer == 1
    assert sorted(report.succeeded) == sorted([*layer_0, "cluster-central"])
    assert list(report.failed) == ["cluster-east"]
    assert "boom" in report.failed["cluster-east"]
    assert list(report.not_started) == later
    assert fake.ended[full("cluster-central")] > fake.ended[full("cluster-east")]
    assert not {full(name) for name in later} & set(fake.started)
    summary = report.summary()
    assert "stopped at layer 1" in summary and "failed: cluster-east" in summary and "--resume" in summary


def test_a_failure_starts_nothing_more_in_its_own_layer(multi_primary: FleetLayout) -> None:
    first, *rest = [s.name for s in multi_primary.layers[0]]
    fake = FakeWorkspace(fail={full(first)})
    report = run_fleet(multi_primary, BASE, "up", fake, concurrency=1, on_event=quiet)
    assert fake.calls == [("up", full(first))]
    assert report.succeeded == () and list(report.failed) == [first]
    assert list(report.not_started) == [*rest, *(s.name for layer in multi_primary.layers[1:] for s in layer)]
    assert report.stopped_at_layer == 0


def test_destroy_stops_in_reverse_too(multi_primary: FleetLayout) -> None:
    victim = multi_primary.layers[-2][0].name
    fake = FakeWorkspace(fail={full(victim)})
    report = run_fleet(multi_primary, BASE, "destroy", fake, concurrency=4, on_event=quiet)
    assert report.stopped_at_layer == len(multi_primary.layers) - 2
    assert set(report.not_started) == {s.name for layer in multi_primary.layers[:-2] for s in layer}


def test_resume_skips_what_succeeded_and_reruns_the_failure(multi_primary: FleetLayout, tmp_path: Path) -> None:
    progress = tmp_path / "progress.json"
    failing = FakeWorkspace(fail={full("cluster-east")})
    first = run_fleet(multi_primary, BASE, "up", failing, concurrency=4, progress_file=progress, on_event=quiet)
    assert not first.ok and progress.is_file()

    fake = FakeWorkspace()
    second = run_fleet(multi_primary, BASE, "up", fake, 4, progress, resume=True, on_event=quiet)
    assert second.ok
    assert sorted(second.skipped) == sorted(first.succeeded)
    ran = {stack for _, stack in fake.calls}
    assert ran == {full(n) for n in names(multi_primary)} - {full(n) for n in first.succeeded}
    assert full("cluster-east") in ran
    assert not progress.exists()  # completed: nothing left to resume


def test_resume_without_a_progress_file_runs_everything(multi_primary: FleetLayout, tmp_path: Path) -> None:
    fake = FakeWorkspace()
    report = run_fleet(multi_primary, BASE, "up", fake, 4, tmp_path / "none.json", resume=True, on_event=quiet)
    assert report.ok and len(fake.calls) == len(multi_primary.stacks)


@pytest.mark.parametrize("change", ["needs", "action", "base"])
def test_a_changed_layout_or_action_invalidates_the_progress_file(
    multi_primary: FleetLayout, tmp_path: Path, change: str
) -> None:
    progress = tmp_path / "progress.json"
    failing = FakeWorkspace(fail={full("wiring-east")})
    assert not run_fleet(multi_primary, BASE, "up", failing, 4, progress, on_event=quiet).ok
    layout, action, base = multi_primary, "up", BASE
    if change == "needs":  # the same stacks, one reading one more stack
        stacks = [replace(s, needs=(*s.needs, "trust")) if s.name == "verify-east" else s for s in multi_primary.stacks]
        layout = FleetLayout(plan=multi_primary.plan, stacks=tuple(stacks))
    elif change == "action":
        action = "preview"
    else:
        base = "other"
    events: list[str] = []
    fake = FakeWorkspace()
    report = run_fleet(layout, base, action, fake, 4, progress, resume=True, on_event=events.append)  # type: ignore[arg-type]
    assert report.ok and report.skipped == ()
    assert len(fake.calls) == len(multi_primary.stacks)
    assert any("running every stack" in event for event in events)


def test_each_stack_gets_the_base_config_and_its_fleet_keys(multi_primary: FleetLayout) -> None:
    base_config = {"mesh:meshId": "mesh1", "aws:region": "us-east-1", "gcp:project": "p", "mesh:x": {"secure": "v1"}}
    fake = FakeWorkspace()
    run_fleet(multi_primary, BASE, "preview", fake, on_event=quiet, base_config=base_config)
    for stack in multi_primary.stacks:
        config = fake.configs[fleet_stack_name(BASE, stack)]
        assert config == {**base_config, FLEET_STACK_KEY: stack.name, FLEET_BASE_KEY: BASE}


def test_fleet_config_keeps_every_base_key_and_adds_the_two_fleet_keys(multi_primary: FleetLayout) -> None:
    base_config = yaml.safe_load(fixture_stack(BASE).read_text())["config"]
    base_config = {**base_config, "aws:region": "us-east-1", "gcp:project": "acme", "aws:secretKey": {"secure": "v1:x"}}
    stack = multi_primary.stack("istio-east")
    config = fleet_config(base_config, stack, BASE)
    assert {k: v for k, v in config.items() if k not in (FLEET_STACK_KEY, FLEET_BASE_KEY)} == base_config
    assert config[FLEET_STACK_KEY] == "istio-east" and config[FLEET_BASE_KEY] == BASE
    assert fleet_stack_name(BASE, stack) == "multi-primary.istio-east"
    assert base_config.get(FLEET_STACK_KEY) is None  # the base mapping is not changed


def project_copy(tmp_path: Path, secure: bool = False) -> Path:
    """A project with the multi-primary fixture as its stack `mp` (in stacks/, as the repo keeps them)."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())  # `fleet plan` runs it per stack
    (tmp_path / "stacks").mkdir()
    document = yaml.safe_load(fixture_stack(BASE).read_text())
    document["environment"] = ["acme/mesh"]
    if secure:
        document["config"]["aws:secretKey"] = {"secure": "v1:abc"}
    (tmp_path / "stacks" / "Pulumi.mp.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def test_write_fleet_configs_writes_every_stack_file_next_to_the_base(tmp_path: Path) -> None:
    project = project_copy(tmp_path, secure=True)
    layout = plan_fleet(example(BASE))
    stack_file = project / "stacks" / "Pulumi.mp.istio-east.yaml"
    stack_file.write_text("encryptionsalt: v1:salt\nconfig: {}\n")  # an earlier file's own secrets provider
    written = write_fleet_configs(project, "mp")
    assert sorted(p.name for p in written) == sorted(f"Pulumi.mp.{n}.yaml" for n in names(layout))
    assert all(p.parent == project / "stacks" for p in written)
    base = yaml.safe_load((project / "stacks" / "Pulumi.mp.yaml").read_text())
    text = stack_file.read_text()
    assert text.startswith("# Generated by `python -m meshlib fleet plan --stack mp --write-config`")
    assert "aws:secretKey" in text.splitlines()[2]  # said, not copied
    document = yaml.safe_load(text)
    assert document["encryptionsalt"] == "v1:salt"
    assert document["environment"] == ["acme/mesh"]
    plain = {k: v for k, v in base["config"].items() if k != "aws:secretKey"}
    assert document["config"] == {**plain, FLEET_STACK_KEY: "istio-east", FLEET_BASE_KEY: "mp"}


def test_fleet_plan_prints_the_layers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(shutil, "which", lambda *_: None)  # planning needs no CLI
    assert main(["fleet", "plan", "--stack", "tests/fixtures/Pulumi.multi-primary.yaml"]) == 0
    out = capsys.readouterr().out
    layout = plan_fleet(example(BASE))
    for index, layer in enumerate(layout.layers):
        assert f"layer {index}: {', '.join(s.name for s in layer)}\n" in out
    assert f"{len(layout.layers)} layers" in out
    assert "  multi-primary.trust: nothing\n" in out
    istio = layout.stack("istio-east")
    assert f"  multi-primary.istio-east: {', '.join(istio.needs)}\n" in out


def test_fleet_plan_writes_the_stack_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = project_copy(tmp_path)
    monkeypatch.chdir(project)
    assert main(["fleet", "plan", "--stack", "mp", "--write-config"]) == 0
    assert len(list((project / "stacks").glob("Pulumi.mp.*.yaml"))) == len(plan_fleet(example(BASE)).stacks)


@pytest.mark.parametrize("action", ["up", "preview", "destroy"])
def test_without_the_pulumi_cli_the_fleet_says_so(
    action: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *_: None)
    assert fleet_available() == NO_CLI
    assert main(["fleet", action]) == 2
    err = capsys.readouterr().err
    assert "need the Pulumi CLI" in err and "https://www.pulumi.com/docs/install/" in err and "fleet plan" in err
    monkeypatch.setattr(shutil, "which", lambda *_: "/usr/local/bin/pulumi")
    assert fleet_available() is None


def test_fleet_up_runs_every_stack_with_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_copy(tmp_path)
    monkeypatch.chdir(project)
    monkeypatch.setattr(shutil, "which", lambda *_: "/usr/local/bin/pulumi")
    fakes: list[FakeWorkspace] = []

    def workspace(project_dir: Path, base: str) -> FakeWorkspace:
        assert (project_dir, base) == (project, "mp")
        fakes.append(FakeWorkspace(fail={"mp.wiring-central"}))
        return fakes[-1]

    monkeypatch.setattr("meshlib.__main__.AutomationWorkspace", workspace)
    assert main(["fleet", "up", "--stack", "mp", "--concurrency", "2"]) == 1
    out = capsys.readouterr().out
    assert "stopped at layer 3" in out and "failed: wiring-central" in out
    assert fakes[0].most_running <= 2
    assert fakes[0].configs["mp.trust"][FLEET_STACK_KEY] == "trust"
    assert (project / "stacks" / "Pulumi.mp.trust.yaml").is_file()
    assert (project / ".meshlib" / "fleet-mp.json").is_file()

    def healthy(project_dir: Path, base: str) -> FakeWorkspace:
        fakes.append(FakeWorkspace())
        return fakes[-1]

    fakes.clear()
    monkeypatch.setattr("meshlib.__main__.AutomationWorkspace", healthy)
    assert main(["fleet", "up", "--stack", "mp", "--resume"]) == 0
    assert {stack for _, stack in fakes[0].calls} == {"mp.wiring-central", "mp.verify-east", "mp.verify-central"}


class FakeStack:
    def __init__(self, name: str, config: dict[str, Any], log: list[tuple[str, str, Any]]) -> None:
        self.name, self.config, self.log = name, config, log

    def get_all_config(self) -> dict[str, Any]:
        return self.config

    def set_all_config(self, config: dict[str, Any], path: bool = False) -> None:
        self.log.append(("set_all_config", self.name, (config, path)))

    def up(self, on_output: Any) -> None:
        on_output("updated\n")
        self.log.append(("up", self.name, None))

    def destroy(self, on_output: Any) -> None:
        self.log.append(("destroy", self.name, None))


def test_automation_workspace_keeps_secrets_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pulumi import automation as auto

    log: list[tuple[str, str, Any]] = []
    base_values = {
        "mesh:meshId": auto.ConfigValue("mesh1"),
        "aws:secretKey": auto.ConfigValue("s3cret", secret=True),
        "mesh:fromEsc": auto.ConfigValue("only in the environment"),
    }
    monkeypatch.setattr(auto, "select_stack", lambda stack_name, work_dir: FakeStack(stack_name, base_values, log))
    monkeypatch.setattr(auto, "create_or_select_stack", lambda stack_name, work_dir: FakeStack(stack_name, {}, log))
    lines: list[str] = []
    workspace = AutomationWorkspace(tmp_path, "mp", on_output=lines.append)
    config = {"mesh:meshId": "mesh1", "aws:secretKey": {"secure": "v1:x"}, "mesh:n": 3, FLEET_STACK_KEY: "trust"}
    workspace.up("mp.trust", config)
    (_, name, (values, path)), up = log
    assert name == "mp.trust" and up == ("up", "mp.trust", None) and path is False
    assert set(values) == set(config)  # the environment's values stay in the environment
    assert (values["aws:secretKey"].value, values["aws:secretKey"].secret) == ("s3cret", True)
    assert (values["mesh:n"].value, values["mesh:n"].secret) == ("3", False)
    assert values[FLEET_STACK_KEY].value == "trust"
    assert lines == ["[mp.trust] updated"]
    with pytest.raises(ValueError, match="secure value"):
        workspace.up("mp.other", {"gcp:key": {"secure": "v1:y"}})


def test_report_is_ok_only_when_everything_ran() -> None:
    assert FleetReport("up", ("a",)).ok
    assert not FleetReport("up", ("a",), {"b": "x"}, (), (), 0).ok
    assert not FleetReport("up", (), {}, ("c",), (), 0).ok


def test_a_preview_of_a_new_fleet_previews_what_reads_only_deployed_stacks() -> None:
    layout = plan_fleet(example(BASE))
    fresh = {f"{'mp'}.{stack.name}" for stack in layout.stacks}
    workspace = FakeWorkspace(undeployed=fresh)
    report = run_fleet(layout, "mp", "preview", workspace, on_event=lambda _: None)
    assert {name for _, name in workspace.calls} == {f"{'mp'}.{s.name}" for s in layout.layers[0]}
    assert set(report.not_previewable) == {s.name for layer in layout.layers[1:] for s in layer}
    assert report.not_previewable["cluster-east"] == ("network-net-aws", "network-net-gcp")
    assert report.ok and "not previewed: istio-east: reads" in report.summary()
    deployed = FakeWorkspace()
    assert run_fleet(layout, "mp", "preview", deployed, on_event=lambda _: None).not_previewable == {}
    assert len(deployed.calls) == len(layout.stacks)
