"""Every paper package has the same shape (the template of book/contributing.md, "Inside lib").

lib/<paper>/
    __init__.py   the paper cited, each module named, the public names re-exported
    runs.py       get_config() -> <Paper>ChapterConfig (frozen), the run spec (a BaseConfig
                  tree holding a TrainerConfig) and build_run(spec, data, ...) ->
                  lib.runs.RunParts, which every driver trains through
    recipes.py    get_config re-exported, data streams, fit_*
    measure.py    what the chapter measures on a trained model; <X>_VERDICT_RULE and the
                  function that applies it
    model.py      configs (BaseConfig) and models (@register_model)   } where the
    losses.py     loss(model, batch) -> (total, parts)                } paper has
    theory.py     closed forms and small-tensor arguments             } them
    record.py     the shipped records of long runs (paths, readers, tables)
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest
import tomllib

from lib.checkpoint import MODEL_REGISTRY

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"__init__.py", "recipes.py", "runs.py", "measure.py"}
OPTIONAL = {"model.py", "losses.py", "theory.py", "record.py"}


def _paper_packages() -> list[str]:
    """The packages the import contracts declare independent: one per paper."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "independence":
            return sorted(contract["modules"])
    raise AssertionError("no independence contract in pyproject.toml")


PACKAGES = _paper_packages()


def _chapter_packages() -> list[str]:
    """Every package of lib/ that trains a chapter's models (it has a recipes.py): the paper
    packages and chapter 00's, which has no paper and so no verdict (no measure.py)."""
    return sorted(
        f"lib.{path.parent.name}" for path in (ROOT / "lib").glob("*/recipes.py")
    )


CHAPTER_PACKAGES = _chapter_packages()


def test_the_chapter_packages_are_the_paper_packages_and_the_introduction():
    assert set(CHAPTER_PACKAGES) == set(PACKAGES) | {"lib.intro"}


@pytest.mark.parametrize("package", CHAPTER_PACKAGES)
def test_every_chapter_trains_through_one_run_spec_and_one_builder(package):
    from lib.runs import RunSpec
    from lib.trainer import TrainerConfig

    runs = importlib.import_module(f"{package}.runs")
    recipes = importlib.import_module(f"{package}.recipes")
    assert recipes.get_config is runs.get_config  # one home for the chapter config
    specs = [
        value
        for name, value in vars(runs).items()
        if inspect.isclass(value)
        and issubclass(value, RunSpec)
        and value.__module__ == runs.__name__
    ]
    assert specs, f"{package}.runs defines no run spec"
    for spec in specs:
        tree = spec()
        assert isinstance(tree.trainer, TrainerConfig), spec
        assert type(tree).from_dict(tree.to_dict()) == tree
    assert callable(runs.build_run)
    parameters = list(inspect.signature(runs.build_run).parameters)
    assert parameters[0] == "spec"
    # no driver builds a trainer config by hand: each takes its spec's
    for module in ("recipes", "runs"):
        text = (ROOT / Path(*package.split(".")) / f"{module}.py").read_text()
        if module == "recipes":
            assert "TrainerConfig(" not in text, f"{package}.{module}"


def _defined(package: str) -> dict[str, str]:
    """Each top-level name defined in the package's modules -> the module defining it."""
    names: dict[str, str] = {}
    folder = ROOT / Path(*package.split("."))
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names[node.name] = path.stem
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = path.stem
    return names


def test_there_is_one_package_per_paper_chapter():
    assert len(PACKAGES) == 5


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_has_the_template_files_and_no_other(package):
    files = {p.name for p in (ROOT / Path(*package.split("."))).glob("*.py")}
    assert REQUIRED <= files, f"{package} lacks {sorted(REQUIRED - files)}"
    assert files <= REQUIRED | OPTIONAL, (
        f"{package} has {sorted(files - REQUIRED - OPTIONAL)}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_the_docstring_cites_the_paper_and_names_every_module(package):
    module = importlib.import_module(package)
    doc = module.__doc__ or ""
    assert any(str(year) in doc for year in range(2017, 2024)), "no year of publication"
    for path in (ROOT / Path(*package.split("."))).glob("*.py"):
        if path.name != "__init__.py":
            assert f"{package}.{path.stem}" in doc, f"{path.name} is not named"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_chapter_config_comes_from_recipes(package):
    recipes = importlib.import_module(f"{package}.recipes")
    chapter = recipes.get_config()
    assert type(chapter).__name__.endswith("ChapterConfig")
    assert (
        dataclasses.is_dataclass(chapter) and type(chapter).__dataclass_params__.frozen
    )
    assert importlib.import_module(package).get_config is recipes.get_config


@pytest.mark.parametrize("package", PACKAGES)
def test_verdicts_live_in_measure_and_records_in_record(package):
    defined = _defined(package)
    verdicts = {n: m for n, m in defined.items() if n.endswith("_verdict")}
    rules = {n: m for n, m in defined.items() if n.endswith("_RULE")}
    records = {n: m for n, m in defined.items() if n.endswith(("_RECORD", "_SWEEP"))}
    readers = {n: m for n, m in defined.items() if n.startswith("load_")}
    assert verdicts and rules, f"{package} states no verdict rule"
    assert set(rules.values()) == {"measure"}, rules
    assert set(verdicts.values()) <= {"measure", "record"}, verdicts
    assert set(records.values()) <= {"record"}, records
    assert set(readers.values()) <= {"record"}, readers


@pytest.mark.parametrize("package", PACKAGES)
def test_models_live_in_model_and_every_public_name_is_exported(package):
    importlib.import_module(package)
    for cls in MODEL_REGISTRY.values():
        if cls.__module__.startswith(package + "."):
            assert cls.__module__ == f"{package}.model", cls
    module = importlib.import_module(package)
    public = (
        set()
    )  # the functions and classes a reader calls; constants may stay inside
    for name, where in _defined(package).items():
        value = getattr(importlib.import_module(f"{package}.{where}"), name)
        if not name.startswith("_") and (
            inspect.isfunction(value) or inspect.isclass(value)
        ):
            public.add(name)
    missing = sorted(n for n in public if n not in module.__all__)
    assert not missing, f"{package}.__all__ lacks {missing}"
    for name in module.__all__:
        assert hasattr(module, name), name
    assert all(not inspect.ismodule(getattr(module, n)) for n in module.__all__)


def test_training_recipes_import_no_plotting_and_no_sliders():
    # a script that only trains (experiments/reproduce.py on a GPU machine) should not pay
    # for pyplot, ipywidgets or the ONNX exporter
    import subprocess
    import sys

    packages = ["lib.intro", *PACKAGES]
    code = (
        "import sys\n"
        + "".join(f"import {p}.recipes\n" for p in packages)
        + "heavy = ['matplotlib.pyplot', 'lib.sliders', 'lib.live', 'lib.plotting']\n"
        + "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
