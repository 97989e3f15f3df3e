"""The package never turns input into code: a scan of its source that a future change cannot slip past.

Checked on the syntax tree of every module under ``swarmdesign/`` (comments
and docstrings cannot trigger it, aliases cannot hide from it):

* YAML is only read with a safe loader: no ``yaml.unsafe_load``/``full_load``,
  no ``yaml.load``/``load_all`` without ``Loader=<...Safe...>``, no
  ``Loader``/``FullLoader``/``UnsafeLoader`` anywhere;
* no ``eval``, ``exec``, ``compile`` or ``__import__`` of anything;
* no unpickling or other object deserialisers (``pickle``, ``marshal``,
  ``shelve``, ``dill``, ``jsonpickle``, ``joblib.load``, ``pandas.read_pickle``,
  ``numpy.load(allow_pickle=True)``, ``torch.load``);
* no shell: ``os.system``, ``os.popen``, ``shell=True``;
* dynamic imports only where a registry or a documented import path needs
  them (listed below with the reason).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "swarmdesign"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts)

#: Attribute calls refused on any object (``<anything>.<name>(...)``).
FORBIDDEN_METHODS = {
    "unsafe_load": "yaml.unsafe_load runs Python tags",
    "unsafe_load_all": "yaml.unsafe_load_all runs Python tags",
    "full_load": "yaml.full_load constructs Python objects",
    "full_load_all": "yaml.full_load_all constructs Python objects",
    "read_pickle": "unpickling runs code",
    "system": "os.system goes through a shell",
    "popen": "os.popen goes through a shell",
}
#: Modules that deserialise objects (running code) or hand input to a shell.
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "jsonpickle", "cloudpickle", "joblib"}
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "Loader", "FullLoader", "UnsafeLoader"}

#: Where a module is imported by a computed name, and why that name is trusted.
DYNAMIC_IMPORTS = {
    "cli.py": "the fixed list COMMAND_MODULES",
    "export/__init__.py": "the fixed target registry",
    "optimizers/__init__.py": "the fixed BUILTIN_MODULES",
    "evaluators.py": "an evaluator import path the user gives (checked to be an Evaluator subclass)",
    "distributed/_worker.py": "the evaluator class path the driver stored in the shared study",
}


def _problems(source: str, rel: str) -> list[str]:
    """What is wrong with module ``rel`` (a path under swarmdesign/) whose text is ``source``."""
    tree = ast.parse(source, filename=rel)
    out: list[str] = []

    def where(node: ast.AST) -> str:
        return f"{rel}:{getattr(node, 'lineno', '?')}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_MODULES:
                    out.append(f"{where(node)}: imports {module} (object deserialisation)")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml":
                for alias in node.names:
                    if alias.name in FORBIDDEN_NAMES or alias.name in FORBIDDEN_METHODS or alias.name == "load":
                        out.append(f"{where(node)}: from yaml import {alias.name}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            out.append(f"{where(node)}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES and node.attr != "compile":
            out.append(f"{where(node)}: uses .{node.attr}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if name in FORBIDDEN_METHODS and not (name == "system" and owner == "platform"):
                out.append(f"{where(node)}: calls .{name}() - {FORBIDDEN_METHODS[name]}")
            if owner == "yaml" and name in ("load", "load_all"):
                loader = keywords.get("Loader")
                text = ast.unparse(loader) if loader is not None else ""
                if "Safe" not in text:
                    out.append(f"{where(node)}: yaml.{name} without a safe Loader ({text or 'none'})")
            if name == "load" and owner in ("torch", "joblib", "dill"):
                out.append(f"{where(node)}: {owner}.load deserialises objects")
            if name == "load" and owner in ("np", "numpy"):
                flag = keywords.get("allow_pickle")
                if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                    out.append(f"{where(node)}: numpy.load with allow_pickle")
            shell = keywords.get("shell")
            if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
                out.append(f"{where(node)}: shell=True")
            if name == "import_module":
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) and rel not in DYNAMIC_IMPORTS:
                    out.append(
                        f"{where(node)}: imports a computed module name; add it to DYNAMIC_IMPORTS with a reason"
                    )
    return out


def test_the_package_sources_were_found() -> None:
    assert len(SOURCES) > 50
    assert PACKAGE / "yamlio.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(PACKAGE).as_posix() for p in SOURCES])
def test_no_unsafe_loading_or_code_execution(path: Path) -> None:
    assert _problems(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import yaml\nyaml.load(text)\n", "without a safe Loader"),
        ("import yaml\nyaml.load(text, Loader=yaml.Loader)\n", "uses .Loader"),
        ("import yaml\nyaml.load(text, Loader=yaml.FullLoader)\n", "uses .FullLoader"),
        ("import yaml as y\ny.unsafe_load(text)\n", "calls .unsafe_load()"),
        ("from yaml import load\n", "from yaml import load"),
        ("import pickle\n", "imports pickle"),
        ("from pickle import loads\n", "imports pickle"),
        ("import pandas as pd\npd.read_pickle(p)\n", "calls .read_pickle()"),
        ("import numpy as np\nnp.load(p, allow_pickle=True)\n", "allow_pickle"),
        ("eval(text)\n", "uses eval"),
        ("f = exec\n", "uses exec"),
        ("import builtins\nbuiltins.eval(text)\n", "uses .eval"),
        ("compile(src, 'x', 'exec')\n", "uses compile"),
        ("__import__(name)\n", "uses __import__"),
        ("import os\nos.system(cmd)\n", "calls .system()"),
        ("import subprocess\nsubprocess.run(cmd, shell=True)\n", "shell=True"),
        ("import importlib\nimportlib.import_module(name)\n", "computed module name"),
    ],
)
def test_the_scan_catches_each_pattern(source: str, expected: str) -> None:
    problems = _problems(source, "probe.py")
    assert any(expected in p for p in problems), problems


def test_safe_patterns_pass() -> None:
    source = (
        "import re, platform, yaml, importlib\n"
        "yaml.safe_load(text)\n"
        "yaml.load(text, Loader=yaml.CSafeLoader)\n"
        "re.compile('x')\n"
        "platform.system()\n"
        "importlib.import_module('swarmdesign.sim')\n"
    )
    assert _problems(source, "probe.py") == []
