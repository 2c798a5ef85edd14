"""Extras: the runtime dependencies are what the package imports, the optional ones are
extras, and using a feature without its extra is one line naming the extra.

The "not installed" cases run in a subprocess that blocks the module first
(``sys.modules[name] = None`` makes every import of it raise ImportError, as a missing
package does); test_wheel.py checks the same lines in a real install without extras.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from airflow_opsguard.extras import EXTRAS, extra_for, missing_extra_message

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_opsguard"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PASSWORD = "Pa55-word-in-url"
GX_LINE = "great-expectations is not installed: pip install 'airflow-opsguard[gx]'"

# Imported by the package, yet optional: only the feature of their extra imports them.
OPTIONAL_IMPORTS = {
    "great_expectations": "gx",
    "pandas": "gx",  # the GX runner hands GX a DataFrame
    "airflow.providers.openlineage": "openlineage",
    "openlineage": "openlineage",
    "airflow.providers.common.compat": "openlineage",  # installed with that provider
    "pyspark": "spark",
}
# Needed at run time without an import of ours: FastAPI parses the pages' forms with it.
USED_WITHOUT_IMPORT = {"python-multipart"}
# Imported only to read data the caller handed in, which it already holds: Arrow tables
# and Arrow-backed pandas columns (engines/frame_counts.py), polars DataFrames exported
# to Arrow (engines/files.py).
WITH_THE_CALLERS_DATA = {"pyarrow", "polars"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(Requirement(r).name) for r in requirements}


def imported_modules() -> set[str]:
    """Every absolute import in the package, at module level or inside functions."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return found


def is_optional(module: str) -> bool:
    return any(
        module == p or module.startswith(p + ".")
        for p in (*OPTIONAL_IMPORTS, *WITH_THE_CALLERS_DATA)
    )


def distribution_of(module: str) -> str | None:
    """The distribution that provides ``module``, or None for ours and the stdlib."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in ("airflow_opsguard", "__future__"):
        return None
    if top == "airflow":
        parts = module.split(".")
        if parts[1:2] == ["providers"]:
            provider = parts[2:4] if parts[2] == "common" else parts[2:3]
            return normalise("apache-airflow-providers-" + "-".join(provider))
        return "apache-airflow"
    (name, *_) = packages_distributions()[top]
    return normalise(name)


def test_runtime_dependencies_are_exactly_what_the_package_imports() -> None:
    imported = imported_modules()
    optional = {m for m in imported if is_optional(m)}
    required = {d for m in imported - optional if (d := distribution_of(m)) is not None}
    declared = requirement_names(PYPROJECT["dependencies"])
    assert declared == required | USED_WITHOUT_IMPORT
    for forbidden in ("pyarrow", "great-expectations", "psycopg", "pymysql", "pandas"):
        assert forbidden not in declared


def test_every_optional_import_is_in_its_extra() -> None:
    extras = PYPROJECT["optional-dependencies"]
    imported = imported_modules()
    for prefix, extra in OPTIONAL_IMPORTS.items():
        modules = [m for m in imported if m == prefix or m.startswith(prefix + ".")]
        assert modules, f"{prefix} is no longer imported: drop it from OPTIONAL_IMPORTS"
        if prefix == "airflow.providers.common.compat":
            continue  # a dependency of the OpenLineage provider
        names = {normalise(d) for d in (distribution_of(m) for m in modules) if d}
        assert names <= requirement_names(extras[extra]) | {"openlineage-python"}, prefix


def test_the_extras_mapping_and_pyproject_agree() -> None:
    extras = PYPROJECT["optional-dependencies"]
    for module, (distribution, extra) in EXTRAS.items():
        assert extra in extras, module
        if extra != "openlineage":  # the client comes with the provider
            assert normalise(distribution) in requirement_names(extras[extra]), module
    everything = {e for e in extras if e not in ("all", "dev")}
    assert {"postgres", "mysql", "gx", "openlineage"} <= everything
    (combined,) = extras["all"]
    assert Requirement(combined).extras == everything
    assert "airflow-opsguard[all]" in extras["dev"]


def test_missing_extra_message_names_the_extra_of_the_module_that_failed() -> None:
    assert missing_extra_message(ModuleNotFoundError("x", name="psycopg")) == (
        "psycopg is not installed: pip install 'airflow-opsguard[postgres]'"
    )
    assert "[gx]" in (missing_extra_message(ImportError("x", name="great_expectations.core")) or "")
    assert extra_for("airflow.providers.openlineage.extractors") is not None
    assert missing_extra_message(ModuleNotFoundError("x", name="psycopg2")) is None
    assert missing_extra_message(ImportError("no pq wrapper available")) is None


def blocked_check(block: str, contract: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``opsguard check CONTRACT`` in a process where importing ``block`` fails."""
    code = (
        "import sys\n"
        f"sys.modules[{block!r}] = None\n"
        "from airflow_opsguard.cli import main\n"
        f"sys.exit(main(['check', {str(contract)!r}, '--no-store', '--no-alerts']))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.mark.parametrize(
    ("block", "url", "extra"),
    [
        ("psycopg", f"postgresql://reader:{PASSWORD}@127.0.0.1:5432/dw", "postgres"),
        ("psycopg", f"postgresql+psycopg://reader:{PASSWORD}@127.0.0.1:5432/dw", "postgres"),
        ("pymysql", f"mysql://reader:{PASSWORD}@127.0.0.1:3306/dw", "mysql"),
        ("pymysql", f"mariadb://reader:{PASSWORD}@127.0.0.1:3306/dw", "mysql"),
    ],
)
def test_a_database_url_without_its_driver_is_one_line_naming_the_extra(
    tmp_path: Path, block: str, url: str, extra: str
) -> None:
    contract = tmp_path / "orders.yml"
    contract.write_text(
        f"dataset: orders\nsource: {{url: '{url}', table: orders}}\nvolume: {{min_rows: 1}}\n"
    )
    proc = blocked_check(block, contract, tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.endswith(f"is not installed: pip install 'airflow-opsguard[{extra}]'"), line
    assert "cannot use database URL" in line and "reader:***@127.0.0.1" in line
    assert PASSWORD not in proc.stdout + proc.stderr


def test_a_gx_suite_without_gx_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id\n1\n2\n")
    suite = {"expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}
    (tmp_path / "suite.json").write_text(json.dumps(suite))
    contract = tmp_path / "orders.yml"
    contract.write_text("dataset: orders\nsource: {path: orders.csv}\ngx_suite: suite.json\n")
    proc = blocked_check("great_expectations", contract, tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == f"opsguard: {GX_LINE}\n"


def test_validate_without_gx_raises_the_contract_error_naming_the_extra(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id\n1\n")
    suite = {"expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}
    (tmp_path / "suite.json").write_text(json.dumps(suite))
    (tmp_path / "c.yml").write_text(
        "dataset: o\nsource: {path: orders.csv}\ngx_suite: suite.json\n"
    )
    code = (
        "import sys\n"
        "sys.modules['great_expectations'] = None\n"
        "from airflow_opsguard import ContractError, validate\n"
        "try:\n"
        "    validate('c.yml')\n"
        "except ContractError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert proc.stdout == f"{GX_LINE}\n"


def test_a_results_store_without_its_driver_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from airflow_opsguard.cli import main\n"
        f"sys.exit(main(['results', '--store', 'postgresql://w:{PASSWORD}@127.0.0.1/q']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line == (
        "opsguard: cannot use results store postgresql+psycopg://w:***@127.0.0.1/q: "
        "psycopg is not installed: pip install 'airflow-opsguard[postgres]'"
    )


def test_the_readme_lists_every_extra() -> None:
    """Each extra has its line in the README's install block: an extra nobody can find is
    a feature nobody installs."""
    readme = (PACKAGE.parent / "README.md").read_text()
    listed = set(re.findall(r"pip install 'airflow-opsguard\[([a-z0-9]+)\]'", readme))
    assert listed == set(PYPROJECT["optional-dependencies"]) - {"dev"}
