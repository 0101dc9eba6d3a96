"""Mermaid to SVG with the Mermaid CLI (`mmdc`), when it is installed.

`MESHLIB_MMDC_ARGS` adds arguments to every `mmdc` call, e.g. a puppeteer config naming the
browser to use: `MESHLIB_MMDC_ARGS="-p puppeteer.json"` with
`{"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox"]}`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["INSTALL_HINT", "MMDC_ARGS", "PLAIN_SVG_CONFIG", "SvgUnavailable", "mmdc_command", "render_svg"]

MMDC_ARGS = "MESHLIB_MMDC_ARGS"
INSTALL_HINT = (
    "--format svg needs the Mermaid CLI (mmdc) on PATH: npm install -g @mermaid-js/mermaid-cli "
    "(or print the diagram's Mermaid source with --format mermaid)"
)


class SvgUnavailable(RuntimeError):
    """`mmdc` is not installed, or failed to render."""


PLAIN_SVG_CONFIG = {"htmlLabels": False, "flowchart": {"htmlLabels": False}, "handDrawnSeed": 1}
"""Labels as SVG text, not HTML in `foreignObject`: the SVG then shows in any viewer, `<img>` included.
A fixed seed for the shapes Mermaid draws with random control points: the same diagram, the same bytes."""


def mmdc_command(source: Path, target: Path, config: Path) -> list[str]:
    """The `mmdc` call that renders `source` (Mermaid) to `target` (SVG); SvgUnavailable without mmdc."""
    mmdc = shutil.which("mmdc")
    if mmdc is None:
        raise SvgUnavailable(INSTALL_HINT)
    extra = shlex.split(os.environ.get(MMDC_ARGS, ""))
    return [mmdc, "--input", str(source), "--output", str(target), "--configFile", str(config), "--quiet", *extra]


def render_svg(mermaid_text: str) -> str:
    """`mermaid_text` rendered to an SVG document by `mmdc`."""
    with tempfile.TemporaryDirectory(prefix="meshlib-svg-") as directory:
        source, target = Path(directory) / "mesh.mmd", Path(directory) / "mesh.svg"
        config = Path(directory) / "mermaid.json"
        source.write_text(mermaid_text)
        config.write_text(json.dumps(PLAIN_SVG_CONFIG))
        command = mmdc_command(source, target, config)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not target.is_file():
            lines = (result.stderr or result.stdout).strip().splitlines()
            reason = lines[-1] if lines else f"exit code {result.returncode}"
            raise SvgUnavailable(
                f"mmdc could not render the diagram ({reason}); a browser it can start may be missing: "
                f"set {MMDC_ARGS}='-p puppeteer.json' (see meshlib/offline/svg.py)"
            )
        return target.read_text()
