"""The data package stays free of the user interface: nothing under data_access/ imports
Streamlit or ui/ (the benchmark, which runs the app, lives in benchmark/)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"streamlit", "ui", "pages", "benchmark"}
# the one allowed exception: the `bench` command loads the benchmark when it runs
ALLOWED = {("data_access/cli.py", "benchmark")}


def _modules() -> list[str]:
    return sorted("data_access." + p.relative_to(ROOT / "data_access").with_suffix("").as_posix().replace("/", ".")
                  for p in (ROOT / "data_access").rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def test_no_import_statement_reaches_the_ui():
    """Every import statement under data_access/, at any depth (a function's own import too)."""
    found = []
    for path in sorted((ROOT / "data_access").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in FORBIDDEN and (rel, top) not in ALLOWED:
                    found.append(f"{rel}:{node.lineno} imports {name}")
    assert found == []


def test_importing_every_data_access_module_loads_no_ui():
    code = (
        "import importlib, json, sys\n"
        f"for m in {_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in "
        f"{sorted(FORBIDDEN)!r})))\n"
    )
    env = {**os.environ, "PANTAU_PSEUDONYM_KEY": os.environ.get("PANTAU_PSEUDONYM_KEY", "test-key-0123456789abcdef")}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []
    assert "data_access.rollup_spec" in _modules() and "data_access.cli" in _modules()
