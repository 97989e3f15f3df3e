"""Every command the README shows runs as written.

The README's ``bash`` blocks are read line by line (comments dropped). A fast
test checks that each ``swarmdesign`` command names a real subcommand and only
options that subcommand has. A slow test then runs the blocks in order in a
scratch folder, as a reader would after ``pip install -e .``: offline, with
every ``*_API_KEY`` removed from the environment, so a command that would need
a hosted model fails here. Two substitutions keep it short: ``<run>`` becomes
the last run folder made so far and the ``-n``/``--budget`` of a search is
capped. Commands that install software, start a server or need a second
machine are skipped by name in ``SKIPPED``, with why; every other command must
exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

#: Command prefixes not run by the slow test, and why.
SKIPPED = {
    "pip install": "installs software (CI installs with scripts/install-test-deps.sh)",
    "scripts/install-test-deps.sh": "installs software; .ci/run runs it before the suite",
    "scripts/postgres.sh start": "starts a database server (tests/distributed and tests/deploy start their own)",
    "swarmdesign dashboard": "serves until stopped (tests/results/test_dashboard.py runs it)",
    "swarmdesign worker": "waits for a driver on another machine (tests/distributed runs workers)",
    "python my_team/team.py --base-url": "needs a running model server (tests/export/test_export_real_model.py)",
}
#: Largest budget a README search runs with here.
MAX_BUDGET = 24


def commands() -> list[str]:
    """The README's shell commands, in order, without comments."""
    text = README.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            command = line.split(" # ")[0].split("  #")[0].strip()
            if command:
                out.append(command)
    return out


def skip_reason(command: str) -> str | None:
    for prefix, reason in SKIPPED.items():
        if command.startswith(prefix) or f"&& {prefix}" in command:
            return reason
    if "python -m pytest" in command:
        return "the test suite itself"
    if "--driver" in command:
        return "waits for workers on other machines (tests/distributed runs the driver)"
    return None


#: Command groups whose subcommand is the next word.
GROUPS = ("import",)


@cache
def _help(*subcommand: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", *subcommand, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, COLUMNS="200"),
    )
    assert proc.returncode == 0, f"swarmdesign {subcommand} --help: {proc.stderr.strip()[-500:]}"
    return proc.stdout


def test_readme_has_commands() -> None:
    assert len([c for c in commands() if c.startswith("swarmdesign ")]) >= 20


@pytest.mark.parametrize("command", [c for c in commands() if c.startswith("swarmdesign ")])
def test_readme_swarmdesign_commands_use_real_options(command: str) -> None:
    words = shlex.split(command.replace("<run>", "RUN"))
    depth = 3 if words[1] in GROUPS else 2
    text = _help(*words[1:depth])
    for word in words[depth:]:
        flag = word.split("=")[0]
        if re.fullmatch(r"--?[A-Za-z][\w-]*", flag):
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"{words[1]} has no option {flag}"


def _capped(words: list[str]) -> list[str]:
    out = list(words)
    for flag in ("-n", "--budget"):
        if flag in out:
            i = out.index(flag) + 1
            out[i] = str(min(int(out[i]), MAX_BUDGET))
    if out[1] in ("run", "resume") and "-n" not in out and "--budget" not in out:
        out += ["--budget", str(MAX_BUDGET)]
    return out


def test_every_skip_names_a_readme_command() -> None:
    """A skip whose command left the README would hide nothing, but says the list is stale."""
    for prefix in SKIPPED:
        assert any(c.startswith(prefix) or f"&& {prefix}" in c for c in commands()), f"no README command {prefix!r}"


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    """Run every README command in one scratch folder, in order; each must exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}  # offline: no hosted model
    last_run: Path | None = None
    ran = 0
    for command in commands():
        if skip_reason(command) is not None:
            continue
        line = command
        if "<run>" in line:
            assert last_run is not None, f"{command}: no run made before it"
            line = line.replace("<run>", last_run.name)
        words = shlex.split(line)
        if words[0] == "swarmdesign":
            words = [sys.executable, "-m", "swarmdesign.cli", *_capped(words)[1:]]
        elif words[0] == "python":
            words = [sys.executable, *words[1:]]
        if any(w.endswith("*.yaml") for w in words):  # the shell's glob, relative to the repository's folders
            words = [str(p) for w in words for p in (sorted(REPO.glob(w)) if "*" in w else [w])]  # type: ignore[misc]
        proc = subprocess.run(words, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
        ran += 1
        runs = sorted((tmp_path / "runs").glob("*/config.yaml"), key=lambda p: p.stat().st_mtime)
        if runs:
            last_run = runs[-1].parent
    assert ran >= 15
