"""Every file of the hostile-input corpus is refused by every command that reads it, on one line.

The corpus is ``tests/data/bad/`` and its ``manifest.yaml`` (see there for the
layout). For each entry and each command of its kind the real CLI runs with
its working directory in a fresh temp folder and must exit 2 with exactly one
non-empty stderr line, ``error: <file>: <field>: <expectation>``, naming the
file, the manifest's field path and expectation, with no traceback and
nothing written into ``runs/``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cli_pool import Job, Result, run_jobs

from tests.conftest import REPO, run_cli

BAD = REPO / "tests" / "data" / "bad"
MANIFEST: dict[str, dict[str, object]] = yaml.safe_load((BAD / "manifest.yaml").read_text(encoding="utf-8"))

#: Commands run on every entry of a kind, by name (see ``_args``).
COMMANDS: dict[str, tuple[str, ...]] = {
    "design": ("validate", "evaluate", "run-seed-design", "export"),
    "space": ("validate", "run"),
    "scenario": ("validate", "run", "evaluate"),
    "tasks": ("validate", "evaluate-llm", "run-llm"),
    "crewai": ("import",),
    "runfolder": ("resume", "show"),
    "storage": ("run-journal", "run-sqlite"),
}

SEED_SPACE = REPO / "search_spaces" / "qa_ensemble.yaml"
GOOD_DESIGN = REPO / "designs" / "code_review_chain.yaml"


@dataclass(frozen=True)
class Case:
    entry: str
    command: str

    @property
    def kind(self) -> str:
        return self.entry.split("/", 1)[0]

    @property
    def id(self) -> str:
        return f"{self.entry}::{self.command}"


def _cases() -> list[Case]:
    out = []
    for entry, spec in MANIFEST.items():
        kind = entry.split("/", 1)[0]
        allowed = spec.get("commands")
        for command in COMMANDS[kind]:
            if allowed is None or command in allowed:
                out.append(Case(entry, command))
    return out


CASES = _cases()


def _llm_inputs(task_file: Path, folder: Path) -> tuple[Path, Path]:
    """An llm scenario reading ``task_file`` and a design for it, all models on the offline fake provider."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "llm_scenario.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "swarmdesign_scenario": 1,
                "name": "bad-task-set",
                "objectives": [{"name": "quality"}, {"name": "cost"}],
                "llm": {
                    "tasks": str(task_file),
                    "n_tasks": 2,
                    "max_cost_usd": 0.01,
                    "model_map": {"gpt-4o-mini": "fake/skill-0.9"},
                    "prices": {"fake/skill-0.9": {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6}},
                },
            }
        ),
        encoding="utf-8",
    )
    design = folder / "design.yaml"
    design.write_text(
        "swarmdesign: 1\nname: probe\nroles: [{name: solver, archetype: solver, count: 1, model: gpt-4o-mini}]\n"
        "topology: {kind: single}\n",
        encoding="utf-8",
    )
    return scenario, design


def _args(case: Case, work: Path, inputs: Path) -> tuple[str, ...]:
    """The command line of ``case``; outputs (runs/, exports) go under ``work``, the working directory."""
    path = BAD / case.entry
    runs = str(work / "runs")
    quiet_run = ("--budget", "4", "--out", runs, "--quiet")
    if case.kind == "design":
        return {
            "validate": ("validate", str(path)),
            "evaluate": ("evaluate", str(path)),
            "run-seed-design": ("run", str(SEED_SPACE), "--fitness", "math_qa", "--seed-design", str(path), *quiet_run),
            "export": ("export", str(path), "--to", "mermaid", "--out", str(work / "exported")),
        }[case.command]
    if case.kind == "space":
        return {"validate": ("validate", str(path)), "run": ("run", str(path), *quiet_run)}[case.command]
    if case.kind == "scenario":
        return {
            "validate": ("validate", str(path)),
            "run": ("run", "--fitness", str(path), *quiet_run),
            "evaluate": ("evaluate", str(GOOD_DESIGN), "--fitness", str(path)),
        }[case.command]
    if case.kind == "tasks":
        scenario, design = _llm_inputs(path, inputs)
        return {
            "validate": ("validate", str(scenario)),
            "evaluate-llm": ("evaluate", str(design), "--fitness", str(scenario), "--evaluator", "llm"),
            "run-llm": ("run", str(SEED_SPACE), "--fitness", str(scenario), "--evaluator", "llm", *quiet_run),
        }[case.command]
    if case.kind == "runfolder":  # a copy: resume takes the folder's lock, and a damaged folder is never rewritten
        run_dir = work / "run"
        if not run_dir.exists():
            shutil.copytree(path, run_dir)
        return (case.command, str(run_dir), *(("--quiet",) if case.command == "resume" else ()))
    if case.kind == "storage":  # a copy, compared with the original afterwards: refused means untouched
        target = work / path.name
        if not target.exists():
            shutil.copyfile(path, target)
        url = str(target) if case.command == "run-journal" else f"sqlite:///{target}"
        return ("run", "--storage", url, *quiet_run)
    assert case.kind == "crewai"
    return ("import", "crewai", str(path / "agents.yaml"), str(path / "tasks.yaml"))


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR"):
        env[var] = str(home / var.lower())
    env.update(
        CREWAI_DISABLE_TELEMETRY="true",
        OTEL_SDK_DISABLED="true",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        SWARMDESIGN_LLM_CACHE=str(home / "llm-cache"),
        COLUMNS="200",
    )
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(key, None)
    return env


@dataclass
class Ran:
    result: Result
    work: Path
    job: Job


@pytest.fixture(scope="session")
def corpus_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    """Every selected case, run at once through the fork server (see cli_pool)."""
    selected = {
        item.callspec.params["case"].id: item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "callspec", None) is not None and isinstance(item.callspec.params.get("case"), Case)
    }.values()
    root = tmp_path_factory.mktemp("corpus")
    jobs, where = [], {}
    for i, case in enumerate(selected):
        folder = root / f"{i:04d}"
        work, inputs, io_dir = folder / "work", folder / "inputs", folder / "io"
        for d in (work, io_dir):
            d.mkdir(parents=True)
        job = Job(case.id, _args(case, work, inputs), str(work), str(io_dir))
        jobs.append(job)
        where[case.id] = (work, job)
    results = run_jobs(jobs, env=_environment(root / "home"))
    return {cid: Ran(results[cid], work, job) for cid, (work, job) in where.items()}


def check_refusal(case: Case, result: Result, work: Path) -> str:
    """The contract every case must meet; returns the error line."""
    spec = {**MANIFEST[case.entry], **MANIFEST[case.entry].get(case.command, {})}
    assert result.code == 2, f"exit {result.code}\nstdout: {result.stdout[-800:]}\nstderr: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-2000:]
    line = lines[0]
    assert line.startswith("error: "), line
    if case.kind == "crewai":
        named = BAD / case.entry / str(spec["file"])
    elif case.kind == "runfolder":
        named = Path(str(spec["file"]))
    else:
        named = BAD / case.entry
    assert named.name in line, f"the message does not name the file {named.name}: {line}"
    assert f": {spec['field']}: " in line, f"the message does not name the field {spec['field']!r}: {line}"
    assert str(spec["expect"]) in line, f"expected {spec['expect']!r} in: {line}"
    runs = work / "runs"
    assert not runs.exists() or not any(runs.iterdir()), f"something was written into runs/: {list(runs.iterdir())}"
    if case.kind == "storage":
        assert (work / named.name).read_bytes() == named.read_bytes(), "the refused storage file was changed"
    if case.kind == "runfolder":
        for original in (BAD / case.entry).iterdir():
            assert (work / "run" / original.name).read_bytes() == original.read_bytes(), f"{original.name} changed"
    return line


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_is_refused_on_one_line(case: Case, corpus_runs: dict[str, Ran]) -> None:
    ran = corpus_runs[case.id]
    check_refusal(case, ran.result, ran.work)


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    kinds = {entry.split("/", 1)[0] for entry in MANIFEST}
    assert kinds == set(COMMANDS)
    assert len(MANIFEST) >= 40
    on_disk = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file() and p.name != "manifest.yaml"}
    listed = set()
    for entry in MANIFEST:
        if entry.startswith("crewai/"):
            listed |= {f"{entry}/agents.yaml", f"{entry}/tasks.yaml"}
        elif entry.startswith("runfolder/"):
            listed |= {str(p.relative_to(BAD)) for p in (BAD / entry).iterdir()}
        else:
            listed.add(entry)
    assert on_disk == listed, "every corpus file needs a manifest entry and every entry a file"


#: One case per kind, with the command that reads the most, also runs in a fresh interpreter, as a user runs it.
FRESH_COMMAND = {"design": "evaluate", "space": "run", "scenario": "run", "tasks": "evaluate-llm", "crewai": "import"}
FRESH = [next(c for c in CASES if c.kind == kind and c.command == command) for kind, command in FRESH_COMMAND.items()]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FRESH])
def test_fresh_interpreter_agrees_with_the_fork_server(case: Case, tmp_path: Path, corpus_runs: dict[str, Ran]) -> None:
    work, inputs = tmp_path / "work", tmp_path / "inputs"
    work.mkdir()
    res = run_cli(*_args(case, work, inputs), cwd=work, timeout=120)
    line = check_refusal(case, Result(res.code, res.stdout, res.stderr), work)
    if case.id in corpus_runs:
        forked = corpus_runs[case.id].result.stderr.strip()
        assert line == forked.replace(str(corpus_runs[case.id].work), str(work)), (line, forked)


def test_a_bad_task_set_leaves_no_run_folder(tmp_path: Path) -> None:
    case = Case("tasks/duplicate_id.jsonl", "run-llm")
    work = tmp_path / "work"
    work.mkdir()
    res = run_cli(*_args(case, work, tmp_path / "inputs"), cwd=work, timeout=120)
    check_refusal(case, Result(res.code, res.stdout, res.stderr), work)


def test_an_objective_the_evaluator_does_not_report_leaves_no_run_folder(tmp_path: Path) -> None:
    scenario = tmp_path / "custom_objective.yaml"
    scenario.write_text(
        "swarmdesign_scenario: 1\nname: s\nobjectives: [{name: happiness, direction: maximize}]\n", encoding="utf-8"
    )
    res = run_cli("run", "--fitness", str(scenario), "--budget", "2", "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert res.code == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()], (
        "one line expected"
    )  # nothing before the error: no run was started
    assert f"{scenario}: objectives[0].name: " in res.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
