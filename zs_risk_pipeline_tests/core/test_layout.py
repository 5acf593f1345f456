"""The shape of the code (代码结构): the pipeline never imports the synthetic city, and modules stay readable."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "zs_risk_pipeline"
# The CLI's `synth`, `demo` and demo-only commands drive the simulated city; they import it inside the command.
CLI = PIPELINE / "cli"


def _imports_of_synth(path: Path) -> list[tuple[int, bool]]:
    """(line, at module level) of every import of zs_risk_synth in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n == "zs_risk_synth" or n.startswith("zs_risk_synth.") for n in names):
            found.append((node.lineno, id(node) in top))
    return found


def test_the_pipeline_never_imports_the_synthetic_city() -> None:
    offenders = []
    for path in sorted(PIPELINE.rglob("*.py")):
        for line, top_level in _imports_of_synth(path):
            if CLI not in path.parents or top_level:
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []
    # and loading the code location (every asset, check, sensor) does not pull it in
    probe = "import sys, zs_risk_pipeline.definitions, zs_risk_pipeline.cli; print('zs_risk_synth' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_the_scan_sees_an_import_of_the_city(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import zs_risk_synth as s\ndef f():\n    from zs_risk_synth import oracle\n", encoding="utf-8")
    assert _imports_of_synth(sample) == [(1, True), (3, False)]
