"""Write constraints.txt: the exact versions, installed here, of everything requirements-dev.txt
pulls in (its packages and their dependencies, transitively). Run it after the test suite has
passed on upgraded packages:

    pip install -U -r requirements-dev.txt && python -m pytest && python tools/freeze_constraints.py
"""
from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def top_level(path: Path) -> list[Requirement]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            out += top_level(path.parent / line[3:].strip())
        else:
            out.append(Requirement(line))
    return out


def closure(reqs: list[Requirement]) -> dict[str, str]:
    env = default_environment()
    seen: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in reqs]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed: install requirements-dev.txt first")
        first = name not in seen
        seen[name] = dist.version
        for dep in dist.requires or []:
            d = Requirement(dep)
            if d.marker is not None:
                ok = any(d.marker.evaluate({**env, "extra": e}) for e in (extras or {""}))
                if not ok:
                    continue
            if first or extras:
                todo.append((d, frozenset(d.extras)))
    return seen


def main() -> None:
    pins = closure(top_level(ROOT / "requirements-dev.txt"))
    lines = ["# Versions the test suite passed on (tools/freeze_constraints.py writes this file).",
             "# Use with: pip install -r requirements-dev.txt -c constraints.txt"]
    lines += [f"{n}=={v}" for n, v in sorted(pins.items())]
    (ROOT / "constraints.txt").write_text("\n".join(lines) + "\n")
    print(f"{len(pins)} packages pinned in constraints.txt")


if __name__ == "__main__":
    main()
