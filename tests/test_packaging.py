"""Packaging: environment.yml (conda) and pyproject.toml (pip) agree; pip ships every data file."""

import re
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(
        _split(r)
        for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    )
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if (
                item.startswith("-e")
                or item.startswith(("python", "pip"))
                and _split(item)[0] in ("python", "pip")
            ):
                continue
            name, spec = _split(item)
            listed[CONDA_NAMES.get(name, name)] = spec
    assert listed == wanted


def test_no_exact_pins_in_lib_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [r for r in project["dependencies"] if "==" in r]
    assert any(
        r.startswith("jupyter-book") and "<2" in r
        for r in project["optional-dependencies"]["dev"]
    )


def test_package_data_covers_every_shipped_file():
    """A pip install (e.g. on Colab) must carry every checkpoint and record under lib/pretrained."""
    from fnmatch import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]["package-data"]["lib"]
    shipped = [
        p.relative_to(ROOT / "lib").as_posix()
        for p in (ROOT / "lib" / "pretrained").rglob("*")
        if p.is_file()
    ]
    assert shipped, "no shipped files found"
    missed = [
        f for f in shipped if not any(fnmatch(f, pattern) for pattern in patterns)
    ]
    assert not missed, f"not in [tool.setuptools.package-data]: {missed}"
