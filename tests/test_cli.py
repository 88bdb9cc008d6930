"""The command line as an operator uses it: help, init, demo, users; clean errors."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, data_dir: Path, stdin: str | None = None, env: dict | None = None):
    full = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), **(env or {})}
    full.pop("DATABASE_URL", None) if not (env and "DATABASE_URL" in env) else None
    return subprocess.run([sys.executable, "-m", "data_access", *args], cwd=ROOT, env=full, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [[], ["init"], ["demo"], ["users"], ["users", "add"]])
def test_help_everywhere(tmp_path, args):
    r = cli(*args, "--help", data_dir=tmp_path)
    assert r.returncode == 0
    assert "bantuan" in r.stdout


def test_init_demo_users(tmp_path):
    r = cli("demo", data_dir=tmp_path)
    assert r.returncode == 1 and "init" in r.stderr and "Traceback" not in r.stderr
    assert cli("init", data_dir=tmp_path).returncode == 0
    r = cli("init", data_dir=tmp_path)
    assert r.returncode == 0 and "0 ditambahkan" in r.stdout
    r = cli("demo", "--days", "10", "--scale", "0.1", "--quiet", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "check-in" in r.stdout and "demo-kominfo" in r.stdout
    r = cli("users", "add", "andi", "--role", "satpolpp", "--password-stdin", data_dir=tmp_path, stdin="rahasia-andi\n")
    assert r.returncode == 0, r.stderr
    r = cli("users", "add", "andi", "--role", "satpolpp", "--password-stdin", data_dir=tmp_path, stdin="rahasia-andi\n")
    assert r.returncode == 1 and "sudah dipakai" in r.stderr
    r = cli("users", "add", "budi", "--role", "kominfo", "--password-stdin", data_dir=tmp_path, stdin="pendek\n")
    assert r.returncode == 1 and "minimal" in r.stderr
    r = cli("users", "add", "cici", "--role", "kominfo", data_dir=tmp_path, stdin="")
    assert r.returncode == 1 and "--password-stdin" in r.stderr
    assert cli("users", "disable", "andi", data_dir=tmp_path).returncode == 0
    r = cli("users", "list", data_dir=tmp_path)
    assert "andi" in r.stdout and "nonaktif" in r.stdout
    r = cli("users", "passwd", "nobody", "--password-stdin", data_dir=tmp_path, stdin="rahasia-baru\n")
    assert r.returncode == 1 and "tidak ditemukan" in r.stderr


@pytest.mark.parametrize("args", [["demo", "--days", "0"], ["demo", "--scale", "-1"], ["demo", "--days", "abc"]])
def test_bad_arguments(tmp_path, args):
    cli("init", data_dir=tmp_path)
    r = cli(*args, data_dir=tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr


def test_bad_database_url(tmp_path):
    r = cli("init", data_dir=tmp_path, env={"DATABASE_URL": "foo://nowhere"})
    assert r.returncode == 1 and r.stderr.startswith("Galat") and "Traceback" not in r.stderr
    r = cli("init", data_dir=tmp_path, env={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    assert r.returncode == 1 and "tidak dapat dihubungi" in r.stderr and "Traceback" not in r.stderr
