"""The Mermaid diagram of a mesh's traffic, and its SVG rendering by the Mermaid CLI (faked here)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from meshlib.__main__ import main
from meshlib.offline import svg
from meshlib.offline.render import _NodeIds, mermaid
from meshlib.spec import MeshSpec, parse_spec
from tests.conftest import ROOT, example
from tests.mermaid import read_flowchart

FAKE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text>mesh</text></svg>\n'


def adopted(name: str, network: str, number: int, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "cloud": "existing",
        "kubeconfig": {"context": name},
        "network": network,
        "eastWestAddress": f"203.0.113.{number}",
        **fields,
    }


def two_primaries_and_a_remote() -> MeshSpec:
    return parse_spec(
        {
            "meshId": "m",
            "mode": "primary-remote",
            "clusters": [
                adopted("a", "n1", 1, role="primary"),
                adopted("b", "n2", 2, role="remote", primary="a"),
                adopted("c", "n2", 3, role="primary"),
            ],
            "services": [
                {
                    "name": "reviews",
                    "namespace": "default",
                    "cluster": "c",
                    "consumers": ["a", "b"],
                    "ports": [
                        {"number": 9080, "name": "http", "protocol": "HTTP"},
                        {"number": 9443, "name": "https", "protocol": "HTTPS"},
                    ],
                }
            ],
        }
    )


def multi_primary(count: int) -> MeshSpec:
    clusters = [adopted(f"k{i}", f"n{i}", i + 1) for i in range(count)]
    return parse_spec({"meshId": "m", "mode": "multi-primary", "clusters": clusters})


def test_diagram_is_exactly_the_traffic() -> None:
    assert mermaid(two_primaries_and_a_remote()) == (
        "flowchart LR\n"
        '  subgraph cloud_existing["Adopted clusters"]\n'
        '    subgraph net_n1["network n1"]\n'
        '      c_a["a<br/>primary: istiod"]\n'
        '      gw_a{{"a<br/>east-west gateway"}}\n'
        "    end\n"
        '    subgraph net_n2["network n2"]\n'
        '      c_b(["b<br/>remote of a"])\n'
        '      gw_b{{"b<br/>east-west gateway"}}\n'
        '      c_c["c<br/>primary: istiod"]\n'
        '      gw_c{{"c<br/>east-west gateway"}}\n'
        '      svc_c_default_reviews[/"reviews.default<br/>in c"/]\n'
        "    end\n"
        "  end\n"
        '  c_a -->|"15443"| gw_c\n'
        '  c_b -->|"15443"| gw_c\n'
        '  gw_c -->|"9080, 9443"| svc_c_default_reviews\n'
        '  c_b ==>|"15012/15017"| gw_a\n'
        '  gw_a ==>|"istiod"| c_a\n'
        '  c_a -.->|"watches"| c_b\n'
        '  c_a -.->|"watches"| c_c\n'
        '  c_c -.->|"watches"| c_a\n'
        '  c_c -.->|"watches"| c_b\n'
        "  classDef primary fill:#e8f0fe,stroke:#1a73e8,color:#0b1f3a\n"
        "  classDef remote fill:#fef7e0,stroke:#e37400,color:#3a2500\n"
        "  classDef gateway fill:#e6f4ea,stroke:#188038,color:#0d2e17\n"
        "  classDef service fill:#fce8e6,stroke:#c5221f,color:#3a0b0a\n"
        "  class c_a,c_c primary\n"
        "  class c_b remote\n"
        "  class gw_a,gw_b,gw_c gateway\n"
        "  class svc_c_default_reviews service\n"
    )


def test_diagram_is_deterministic() -> None:
    for spec in (two_primaries_and_a_remote(), example("multi-primary"), example("primary-remote")):
        assert mermaid(spec) == mermaid(spec)
    assert mermaid(two_primaries_and_a_remote()) == mermaid(two_primaries_and_a_remote())


def test_small_meshes_draw_every_watch() -> None:
    chart = read_flowchart(mermaid(multi_primary(3)))
    assert len(chart.edges_labelled("watches")) == 6
    assert not any("watches all" in label for label in chart.nodes.values())


@pytest.mark.parametrize("count", [4, 12])
def test_a_primary_watching_every_other_cluster_says_so_instead_of_n_squared_edges(count: int) -> None:
    chart = read_flowchart(mermaid(multi_primary(count)))
    assert chart.edges == []
    for i in range(count):
        assert chart.nodes[f"c_k{i}"] == f"k{i}<br/>primary: istiod<br/>watches all {count - 1} others"


def test_node_ids_are_sanitized_unique_and_stable() -> None:
    ids = _NodeIds()
    assert ids.of("c", "kind-a") == "c_kind_a"
    assert ids.of("c", "kind_a") == "c_kind_a_2"  # would clash once sanitized
    assert ids.of("c", "kind-a") == "c_kind_a"
    assert ids.of("net", "n1", within="aws") == "net_n1"
    assert ids.of("net", "n1", within="gcp") == "net_n1_2"  # one network drawn in two clouds
    assert ids.of("svc", "a.b", "x y") == "svc_a_b_x_y"


def test_a_cluster_named_like_a_mermaid_keyword_is_still_a_node() -> None:
    spec = parse_spec(
        {"meshId": "m", "mode": "multi-primary", "clusters": [adopted("end", "subgraph", 1), adopted("o", "x", 2)]}
    )
    chart = read_flowchart(mermaid(spec))
    assert {"c_end", "c_o", "net_subgraph", "net_x"} <= set(chart.nodes) | set(chart.groups)


# SVG


def fake_mmdc(directory: Path, exit_code: int = 0) -> Path:
    """An `mmdc` that records its arguments, input and config, and writes FAKE_SVG to --output."""
    directory.mkdir(exist_ok=True)
    script = directory / "mmdc"
    record = directory / "call.json"
    script.write_text(
        f"""#!{os.path.realpath(sys.executable)}
import json, sys
from pathlib import Path
args = sys.argv[1:]
option = lambda name: args[args.index(name) + 1]
Path({str(record)!r}).write_text(json.dumps({{
    "args": args,
    "input": Path(option("--input")).read_text(),
    "config": json.loads(Path(option("--configFile")).read_text()),
}}))
if {exit_code}:
    print("Error: Failed to launch the browser process!", file=sys.stderr)
    sys.exit({exit_code})
Path(option("--output")).write_text({FAKE_SVG!r})
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


def test_without_mmdc_svg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(svg.SvgUnavailable, match="npm install -g @mermaid-js/mermaid-cli"):
        svg.render_svg("flowchart LR\n")


def test_plan_format_svg_without_mmdc_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "")
    assert main(["plan", "--stack", str(ROOT / "stacks" / "Pulumi.primary-remote.yaml"), "--format", "svg"]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (
        "meshlib: --format svg needs the Mermaid CLI (mmdc) on PATH: npm install -g @mermaid-js/mermaid-cli "
        "(or print the diagram's Mermaid source with --format mermaid)\n"
    )


def test_render_svg_runs_mmdc_on_the_diagram(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    record = fake_mmdc(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv(svg.MMDC_ARGS, "-p '/etc/my puppeteer.json'")
    text = mermaid(example("primary-remote"))
    assert svg.render_svg(text) == FAKE_SVG
    call = json.loads(record.read_text())
    args = call["args"]
    assert args[0::2][:3] == ["--input", "--output", "--configFile"]
    assert Path(args[1]).name == "mesh.mmd" and Path(args[3]).name == "mesh.svg"
    assert args[6:] == ["--quiet", "-p", "/etc/my puppeteer.json"]
    assert call["input"] == text
    assert call["config"] == {"htmlLabels": False, "flowchart": {"htmlLabels": False}, "handDrawnSeed": 1}


def test_render_svg_reports_a_failing_mmdc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_mmdc(tmp_path / "bin", exit_code=1)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(svg.SvgUnavailable, match=r"Failed to launch the browser process!\); .*MESHLIB_MMDC_ARGS"):
        svg.render_svg("flowchart LR\n")


def test_plan_format_svg_prints_and_writes_the_rendered_diagram(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = fake_mmdc(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    stack = ROOT / "stacks" / "Pulumi.primary-remote.yaml"
    assert main(["plan", "--stack", str(stack), "--format", "svg", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == FAKE_SVG
    assert (tmp_path / "out" / "mesh.svg").read_text() == FAKE_SVG
    assert json.loads(record.read_text())["input"] == (tmp_path / "out" / "mesh.mmd").read_text()


@pytest.mark.parametrize("stack", ["existing", "multi-primary", "primary-remote"])
def test_docs_show_each_shipped_stacks_diagram(stack: str) -> None:
    rendered = ROOT / "docs" / "diagrams" / f"{stack}.svg"
    assert rendered.read_text().startswith("<svg") and "foreignObject" not in rendered.read_text()
    assert f"diagrams/{stack}.svg" in (ROOT / "docs" / "diagrams.md").read_text()
