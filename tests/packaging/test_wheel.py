"""The built wheel, installed without extras into a fresh environment, works.

One module-scoped fixture builds the sdist and the wheel from a copy of the working
tree (the wheel is built from the sdist, so the sdist is checked too), creates a fresh
virtual environment with uv and installs the wheel alone: no extras, no dev tools. Every
test below then runs the installed package there, as a platform team would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_opsguard"
UV = Path(sys.executable).with_name("uv")
CONTRACTS = ROOT / "dags_examples" / "contracts"
# What an install without extras must not bring: each is an extra's, or a dev tool.
NOT_INSTALLED = ("great_expectations", "psycopg", "pymysql", "pandas", "pyarrow")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, args: Sequence[str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.work,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return self.run([self.bin("python"), "-c", code])


def _run(args: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=900, check=False
    )
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    _run([UV, "build", "--out-dir", dist, source], cwd=source)
    (wheel,) = dist.glob("*.whl")
    venv = work / "venv"
    _run([UV, "venv", "--python", sys.executable, venv], cwd=work)
    _run([UV, "pip", "install", "--python", venv / "bin" / "python", wheel], cwd=work)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSGUARD_", "AIRFLOW"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env.update(
        {
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(work / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "OPSGUARD_HOME": str(work / "opsguard-home"),
            "NO_COLOR": "1",
        }
    )
    return Installed(wheel=wheel, venv=venv, work=work, env=env)


@pytest.fixture(scope="module")
def example_data(installed: Installed) -> dict[str, Path]:
    """The example orders (healthy Parquet, broken CSV feed), written by this test
    process: the fresh environment has no pandas to write them."""
    sys.path.insert(0, str(ROOT / "dags_examples"))
    try:
        from example_data import write_example_data
    finally:
        sys.path.remove(str(ROOT / "dags_examples"))
    paths: dict[str, Path] = write_example_data(installed.work / "data")
    return paths


def test_the_wheel_holds_the_pages_static_files_migrations_and_license(
    installed: Installed,
) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        (info,) = {n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")}
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        license_text = wheel.read(f"{info}/licenses/LICENSE").decode()
    for folder, pattern in [
        ("plugin/static", "*"),
        ("plugin/templates", "*.html"),
        ("store/migrations", "*.py"),
        ("store/migrations/versions", "*.py"),
    ]:
        files = sorted((PACKAGE / folder).glob(pattern))
        assert files, folder
        for path in files:
            assert f"airflow_opsguard/{folder}/{path.name}" in names
    assert "airflow_opsguard/py.typed" in names
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert metadata["License-Expression"] == "Apache-2.0"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= set(urls)
    plain = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert any(r.startswith("apache-airflow>=3.3") for r in plain)
    for optional in ("great-expectations", "psycopg", "pymysql", "pyarrow", "pandas"):
        assert not any(r.startswith(optional) for r in plain), optional
    assert {"postgres", "mysql", "gx", "openlineage", "all"} <= set(
        metadata.get_all("Provides-Extra") or []
    )


def test_the_fresh_environment_has_no_extras(installed: Installed) -> None:
    code = (
        "import importlib.util, json\n"
        f"print(json.dumps([m for m in {list(NOT_INSTALLED)!r} "
        "if importlib.util.find_spec(m) is not None]))"
    )
    proc = installed.python(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_opsguard_check_passes_and_fails_the_examples_and_stores_the_verdicts(
    installed: Installed, example_data: dict[str, Path]
) -> None:
    store = f"sqlite:///{installed.work / 'results.db'}"
    healthy = installed.run(
        [
            installed.bin("opsguard"),
            "check",
            str(CONTRACTS / "orders.yml"),
            "--data",
            str(example_data["orders"]),
            "--store",
            store,
            "--no-alerts",
        ]
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "orders: PASS" in healthy.stdout
    broken = installed.run(
        [
            installed.bin("opsguard"),
            "check",
            str(CONTRACTS / "orders_feed.yml"),
            "--data",
            str(example_data["orders_feed"]),
            "--format",
            "json",
            "--store",
            store,
            "--no-alerts",
        ]
    )
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert json.loads(broken.stdout)["status"] == "fail"
    # The store was created by the wheel's migrations, and holds both verdicts.
    results = installed.run(
        [installed.bin("opsguard"), "results", "--store", store, "--format", "json"]
    )
    assert results.returncode == 0, results.stderr
    found = {(r["dataset"], r["status"]) for r in json.loads(results.stdout)}
    assert found == {("orders", "pass"), ("orders_feed", "fail")}


def test_the_wheels_migrations_bring_a_new_store_to_head(installed: Installed) -> None:
    from airflow_opsguard.store.migrate import HEAD

    store = f"sqlite:///{installed.work / 'migrated.db'}"
    upgrade = installed.run([installed.bin("opsguard"), "db", "upgrade", "--store", store])
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    current = installed.run([installed.bin("opsguard"), "db", "current", "--store", store])
    assert current.returncode == 0, current.stdout + current.stderr
    assert HEAD in current.stdout


@pytest.mark.parametrize(
    ("contract", "extra"),
    [
        (
            "dataset: orders\nsource: {url: 'postgresql://reader:Pa55-word@db.example/dw', "
            "table: orders}\nvolume: {min_rows: 1}\n",
            "postgres",
        ),
        (
            "dataset: orders\nsource: {url: 'mysql://reader:Pa55-word@db.example/dw', "
            "table: orders}\nvolume: {min_rows: 1}\n",
            "mysql",
        ),
        ("dataset: orders\nsource: {path: orders.csv}\ngx_suite: suite.json\n", "gx"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(
    installed: Installed, tmp_path: Path, contract: str, extra: str
) -> None:
    (tmp_path / "orders.csv").write_text("order_id\n1\n2\n")
    suite = {"name": "s", "expectations": [{"type": "expect_column_to_exist", "kwargs": {}}]}
    suite["expectations"][0]["kwargs"] = {"column": "order_id"}
    (tmp_path / "suite.json").write_text(json.dumps(suite))
    (tmp_path / "orders.yml").write_text(contract)
    proc = installed.run(
        [installed.bin("opsguard"), "check", str(tmp_path / "orders.yml"), "--no-store"]
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"pip install 'airflow-opsguard[{extra}]'" in lines[0]
    assert "Traceback" not in proc.stderr
    assert "Pa55-word" not in proc.stderr + proc.stdout


def test_the_plugin_serves_its_static_files_and_renders_its_pages(installed: Installed) -> None:
    code = """
import json
from fastapi.testclient import TestClient
from airflow_opsguard.plugin import pages
from airflow_opsguard.plugin.app import create_app

client = TestClient(create_app())
css = client.get("/static/opsguard.css")
icon = client.get("/static/icon.svg")
api = client.get("/api/v1/datasets")
page = pages.environment.get_template("error.html").render(
    root="/opsguard", status_code=404, title="Not found", detail="no such run"
)
print(json.dumps({
    "css": [css.status_code, css.headers["content-type"], css.text],
    "icon": icon.status_code,
    "api": api.status_code,
    "templates": sorted(pages.environment.list_templates()),
    "page": page,
}))
"""
    proc = installed.python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    status, content_type, css = found["css"]
    assert (status, content_type.split(";")[0]) == (200, "text/css")
    assert css == (PACKAGE / "plugin" / "static" / "opsguard.css").read_text()
    assert found["icon"] == 200
    assert found["api"] == 401  # the API answers no anonymous caller
    assert found["templates"] == sorted(p.name for p in (PACKAGE / "plugin/templates").iterdir())
    assert "no such run" in found["page"]
    assert "/opsguard/static/opsguard.css" in found["page"]


def test_airflow_loads_the_installed_plugin_and_provider(installed: Installed) -> None:
    plugins = installed.run([installed.bin("airflow"), "plugins", "--output", "json"])
    assert plugins.returncode == 0, plugins.stderr[-3000:]
    (ours,) = [p for p in json.loads(plugins.stdout) if p["name"] == "opsguard"]
    assert f"airflow-opsguard=={VERSION}" in ours["source"]
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/opsguard"]
    code = (
        "from airflow.providers_manager import ProvidersManager\n"
        "print(ProvidersManager().providers['airflow-opsguard'].version)"
    )
    provider = installed.python(code)
    assert provider.returncode == 0, provider.stderr[-3000:]
    assert provider.stdout.strip() == VERSION
