"""The command line as a user meets it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli


def _one_line_error(res, *needles: str) -> None:  # noqa: ANN001
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_help_lists_the_commands() -> None:
    res = run_cli("--help")
    assert res.code == 0
    for cmd in ("run", "resume", "evaluate", "validate", "show"):
        assert cmd in res.stdout


def test_run_show_evaluate_validate(tmp_path: Path) -> None:
    res = run_cli("run", "--budget", "24", "--out", str(tmp_path), "--name", "r", "--quiet")
    assert res.code == 0, res.stderr
    assert "best:" in res.stderr
    shown = run_cli("show", str(tmp_path / "r"), "--top", "3")
    assert shown.code == 0 and "score" in shown.stdout
    ev = run_cli("evaluate", str(tmp_path / "r" / "best.yaml"), "--json")
    assert ev.code == 0, ev.stderr
    metrics = json.loads(ev.stdout)
    assert {"quality", "cost", "latency", "score"} <= set(metrics)
    files = [
        str(p) for p in sorted((REPO / "search_spaces").glob("*.yaml")) + sorted((REPO / "fitness").glob("*.yaml"))
    ]
    val = run_cli("validate", *files, str(tmp_path / "r" / "best.yaml"))
    assert val.code == 0, val.stderr
    assert val.stdout.count("ok:") == len(files) + 1


def test_bundled_names_and_paths_both_work(tmp_path: Path) -> None:
    res = run_cli(
        "run",
        str(REPO / "search_spaces" / "qa_ensemble.yaml"),
        "--fitness",
        "math_qa",
        "--budget",
        "8",
        "--out",
        str(tmp_path),
        "--name",
        "q",
        "--quiet",
        "--seed",
        "1",
    )
    assert res.code == 0, res.stderr


def test_resume_of_finished_run_is_a_no_op(tmp_path: Path) -> None:
    assert run_cli("run", "--budget", "8", "--out", str(tmp_path), "--name", "r", "--quiet").code == 0
    res = run_cli("resume", str(tmp_path / "r"), "--quiet")
    assert res.code == 0 and "finished 8/8" in res.stderr


def test_existing_run_folder_is_not_overwritten(tmp_path: Path) -> None:
    assert run_cli("run", "--budget", "4", "--out", str(tmp_path), "--name", "r", "--quiet").code == 0
    res = run_cli("run", "--budget", "4", "--out", str(tmp_path), "--name", "r", "--quiet")
    _one_line_error(res, "swarmdesign resume")


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (
            "swarmdesign_space: 1\nname: s\nroles: [{name: c, archetype: coder, count: {min: 9, max: 3}}]\n",
            ("roles[0].count", "min 9 > max 3"),
        ),
        ("swarmdesign_space: 1\nname: s\nroles: [{name: c, archetype: coder, colour: red}]\n", ("roles[0].colour",)),
        ("swarmdesign_space: 1\nname: s\nroles: [{name: c, archetype: coder}\n", ("(syntax)", "line")),
        ("swarmdesign_space: 1\nname: s\nroles: [{name: c, archetype: necromancer}]\n", ("roles[0].archetype",)),
    ],
)
def test_bad_space_files_fail_with_one_line(tmp_path: Path, content: str, needles: tuple[str, ...]) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(content)
    res = run_cli("run", str(space), "--budget", "4", "--out", str(tmp_path / "runs"), "--quiet")
    _one_line_error(res, str(space), *needles)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_optimizer_missing_file_and_bad_budget(tmp_path: Path) -> None:
    _one_line_error(
        run_cli("run", "--optimizer", "simulated-annealing", "--out", str(tmp_path), "--quiet"),
        "--optimizer",
        "unknown optimizer",
        "tpe",
    )
    _one_line_error(run_cli("run", "no/such/space.yaml", "--out", str(tmp_path)), "no/such/space.yaml", "SPACE")
    _one_line_error(run_cli("run", "--fitness", "nonexistent", "--out", str(tmp_path)), "nonexistent", "--fitness")
    _one_line_error(run_cli("run", "--budget", "0", "--out", str(tmp_path)), "--budget", ">= 1")
    _one_line_error(run_cli("evaluate", str(tmp_path / "missing.yaml")), "missing.yaml", "no such file")
    _one_line_error(run_cli("resume", str(tmp_path / "nope")), "nope", "no such run folder")


def test_bad_scenario_and_design_name_file_and_field(tmp_path: Path) -> None:
    scen = tmp_path / "scen.yaml"
    scen.write_text("swarmdesign_scenario: 1\nname: s\nworkload: {tasks: -5}\n")
    _one_line_error(run_cli("run", "--fitness", str(scen), "--out", str(tmp_path)), str(scen), "workload.tasks")
    design = tmp_path / "d.yaml"
    design.write_text(
        "swarmdesign: 1\nname: d\nroles: [{name: a, archetype: coder, count: 2, model: m}]\n"
        "edges: [[a, ghost]]\ntopology: {kind: chain}\n"
    )
    _one_line_error(run_cli("evaluate", str(design)), str(design), "edges[0]", "ghost")
    res = run_cli("validate", str(design), str(scen))
    assert res.code == 2 and res.stderr.count("error:") == 2


def test_seed_design_outside_the_space_is_refused(tmp_path: Path) -> None:
    design = tmp_path / "mine.yaml"
    design.write_text(
        "swarmdesign: 1\nname: d\nroles: [{name: wizard, archetype: coder, count: 2, model: gpt-4o}]\n"
        "topology: {kind: chain}\n"
    )
    _one_line_error(
        run_cli("run", "--seed-design", str(design), "--out", str(tmp_path / "runs")),
        str(design),
        "roles[0].name",
        "wizard",
    )


def test_seed_design_takes_a_bundled_name_and_names_an_unknown_one(tmp_path: Path) -> None:
    res = run_cli(
        "run", "--seed-design", "code_review_chain", "-n", "4", "--out", str(tmp_path), "--name", "s",
        "--quiet", "--no-recommend",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    from swarmdesign.design import Design
    from swarmdesign.results import load_run

    first = load_run(tmp_path / "s").trials.iloc[0]
    seed = Design.load(REPO / "designs" / "code_review_chain.yaml")
    assert first["agents"] == seed.total_agents  # the first trial evaluated is the seed
    _one_line_error(
        run_cli("run", "--seed-design", "no_such_design", "--out", str(tmp_path)), "--seed-design", "no_such_design"
    )


def test_run_searches_the_score_unless_asked_for_the_front(tmp_path: Path) -> None:
    """The default run's study is the score (what best.yaml and the recommendation pick by); --pareto the front."""
    import yaml

    common = ("-n", "16", "--no-recommend", "-q", "--out", str(tmp_path))
    assert run_cli("run", *common, "--name", "score").code == 0
    config = yaml.safe_load((tmp_path / "score" / "config.yaml").read_text())
    assert config["objectives"] == [{"name": "score", "direction": "maximize"}]
    assert list((tmp_path / "score" / "pareto").glob("trial-*.yaml"))  # the front of quality and cost, all the same
    assert run_cli("run", *common, "--name", "front", "--pareto").code == 0
    config = yaml.safe_load((tmp_path / "front" / "config.yaml").read_text())
    assert [o["name"] for o in config["objectives"]] == ["quality", "cost"]  # software_project's own
    assert list((tmp_path / "front" / "pareto").glob("trial-*.yaml"))
    _one_line_error(run_cli("run", "-o", "pso", "--pareto", *common, "--name", "bad"), "--pareto", "pso")
    assert not (tmp_path / "bad").exists()


def test_a_large_budget_gives_a_population_optimizer_a_larger_population(tmp_path: Path) -> None:
    """-n 1800 gives ga 18 particles (100 generations), said once and kept by a resume; -p population wins."""
    import csv

    import yaml

    common = ("-o", "ga", "--no-recommend", "-q", "--out", str(tmp_path))
    res = run_cli("run", "-n", "1800", *common, "--name", "big")
    assert res.code == 0, res.stderr
    assert res.stderr.count("note: a budget of 1,800 gives ga a population of 18") == 1
    config = yaml.safe_load((tmp_path / "big" / "config.yaml").read_text())
    assert config["optimizer"]["params"]["population"] == 18

    def generations() -> list[int]:
        with (tmp_path / "big" / "trials.csv").open() as fh:
            return [int(r["generation"]) for r in csv.DictReader(fh) if r["generation"]]

    assert sorted(generations()) == [g for g in range(100) for _ in range(18)]
    res = run_cli("resume", str(tmp_path / "big"), "-n", "3600", "-q")
    assert res.code == 0, res.stderr
    assert yaml.safe_load((tmp_path / "big" / "config.yaml").read_text())["optimizer"]["params"]["population"] == 18
    assert sorted(generations()) == [g for g in range(200) for _ in range(18)]  # the resume kept its population
    res = run_cli("run", "-n", "1800", *common, "--name", "own", "-p", "population=12")
    assert res.code == 0 and "note: a budget" not in res.stderr
    assert yaml.safe_load((tmp_path / "own" / "config.yaml").read_text())["optimizer"]["params"]["population"] == 12
    res = run_cli("run", "-n", "1600", *common, "--name", "small")
    assert res.code == 0 and "note: a budget" not in res.stderr
    assert yaml.safe_load((tmp_path / "small" / "config.yaml").read_text())["optimizer"]["params"]["population"] == 16


def test_import_crewai_takes_an_exported_project_folder(tmp_path: Path) -> None:
    assert run_cli("export", "code_review_chain", "--to", "crewai", "--out", str(tmp_path / "crew")).code == 0
    res = run_cli("import", "crewai", str(tmp_path / "crew"), "--out", str(tmp_path / "seed.yaml"))
    assert res.code == 0, res.stderr
    from swarmdesign.design import Design

    back = Design.load(tmp_path / "seed.yaml")
    original = Design.load(REPO / "designs" / "code_review_chain.yaml")
    assert [(r.name, r.count) for r in back.roles] == [(r.name, r.count) for r in original.roles]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ((), ("missing command", "run")),
        (("run", "-n", "abc"), ("--budget", "integer")),
        (("run", "--no-such-option"), ("No such option",)),
        (("no-such-command",), ("No such command",)),
        (("show",), ("Missing argument",)),
        (("--no-such-option",), ("No such option",)),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    _one_line_error(run_cli(*args), *needles)


def test_version_prints_the_version() -> None:
    from swarmdesign import __version__

    res = run_cli("--version")
    assert res.code == 0 and __version__ in res.stdout


def test_usage_errors_without_click_installed(tmp_path: Path) -> None:
    """A base install has no ``click`` (Typer vendors its own): the CLI must not need it, even for errors."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoClick:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click' or name.startswith('click.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoClick())\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}"}
    probe = run_cli("--version", env=env)
    assert probe.code == 0, probe.stderr
    _one_line_error(run_cli("run", "-n", "abc", env=env), "--budget")
    _one_line_error(run_cli("run", "--bogus", env=env), "No such option")
    _one_line_error(run_cli(env=env), "missing command")


def _click_commands() -> list[tuple[str, object]]:
    """Every command of the CLI as click sees it, with its full name (``import crewai`` included)."""
    import typer.main

    from swarmdesign.cli import app

    out: list[tuple[str, object]] = []
    todo = [("swarmdesign", typer.main.get_command(app))]
    while todo:
        name, command = todo.pop()
        out.append((name, command))
        for sub_name, sub in (getattr(command, "commands", None) or {}).items():
            todo.append((f"{name} {sub_name}", sub))
    return out


def test_a_short_flag_means_one_option_everywhere() -> None:
    """``-o`` is ``--optimizer`` on ``run``; no other command may use it for something else (e.g. ``--out``)."""
    meaning: dict[str, dict[str, list[str]]] = {}
    for name, command in _click_commands():
        for param in getattr(command, "params", []):
            flags = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            longs = sorted(f for f in flags if f.startswith("--")) or [str(param.name)]
            for short in (f for f in flags if f.startswith("-") and not f.startswith("--")):
                meaning.setdefault(short, {}).setdefault("/".join(longs), []).append(name)
    assert len(meaning) >= 8, meaning  # the walk found the commands' options
    clashes = {short: longs for short, longs in meaning.items() if len(longs) > 1}
    assert not clashes, f"short flags with two meanings: {clashes}"


def test_out_has_no_short_flag_and_o_is_the_optimizer(tmp_path: Path) -> None:
    for command in ("report", "calibrate"):
        res = run_cli(command, str(tmp_path / "nope"), "-o", str(tmp_path / "x"))
        assert res.code == 2 and "No such option: -o" in res.stderr, (command, res.stderr)
    res = run_cli("run", "-o", "random", "-n", "4", "--out", str(tmp_path), "--name", "r", "--quiet")
    assert res.code == 0, res.stderr
    from swarmdesign import yamlio

    assert yamlio.load_file(tmp_path / "r" / "config.yaml")["optimizer"]["name"] == "random"


def test_evaluate_takes_a_bundled_design_name_like_export(tmp_path: Path) -> None:
    ev = run_cli("evaluate", "code_review_chain", "--json")
    assert ev.code == 0, ev.stderr
    assert json.loads(ev.stdout)["design"] == "code-review-chain"
    ex = run_cli("export", "code_review_chain", "--to", "yaml", "--out", str(tmp_path / "x"))
    assert ex.code == 0, ex.stderr
    _one_line_error(run_cli("evaluate", "no_such_design"), "no_such_design", "DESIGN", "code_review_chain")


def test_gp_without_torch_names_the_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoTorch())\n"
    )
    res = run_cli(
        "run", "-o", "gp", "-n", "4", "--out", str(tmp_path / "runs"), env={"PYTHONPATH": f"{tmp_path}:{REPO}"}
    )
    _one_line_error(res, "--optimizer", "torch", "pip install 'swarmdesign[gp]'")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_docs_short_flag_table_matches_the_cli() -> None:
    import re

    table = {}
    for line in (REPO / "docs" / "cli.md").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\| `(-\w)` \| `(--[\w-]+)` \| ([\w, ]+) \|", line.strip())
        if m:
            table[m.group(1)] = (m.group(2), sorted(c.strip() for c in m.group(3).split(",")))
    actual: dict[str, tuple[str, list[str]]] = {}
    for name, command in _click_commands():
        for param in getattr(command, "params", []):
            flags = list(getattr(param, "opts", []))
            longs = [f for f in flags if f.startswith("--")]
            for short in (f for f in flags if f.startswith("-") and not f.startswith("--")):
                long, users = actual.get(short, (longs[0], []))
                actual[short] = (long, sorted([*users, name.split()[-1]]))
    assert table == actual
