"""The recommendation through the real CLI and the real simulator (and a kill -9 in the middle of it)."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from swarmdesign.results import load_run
from tests.conftest import run_cli
from tests.recommend.conftest import HERE, KNOWN_TRUTH, KNOWN_TRUTH_SCENARIO

ONE_AGENT_WINS = HERE / "one_agent_wins.yaml"


def _stage_keys(run_dir: Path) -> collections.Counter[str]:
    res = load_run(run_dir)
    done = res.trials[(res.trials["state"] == "COMPLETE") & res.trials["stage"].notna()]
    return collections.Counter(done["stage_key"])


def test_a_scenario_where_one_agent_wins_recommends_the_single_agent(tmp_path: Path) -> None:
    r = run_cli("run", "qa_ensemble", "-f", str(ONE_AGENT_WINS), "-n", "64", "--out", str(tmp_path), "--name", "one",
                "-q")  # fmt: skip
    assert r.code == 0, r.stderr
    assert "does not beat the best baseline beyond noise" in r.stderr
    best = yaml.safe_load((tmp_path / "one" / "best.yaml").read_text())
    assert sum(role["count"] for role in best["roles"]) == 1
    assert best["topology"]["kind"] == "single"
    res = load_run(tmp_path / "one")
    assert res.recommendation["kind"] == "baseline"
    assert res.best_trial == res.recommendation["trial"] == best["provenance"]["trial"]
    assert not res.baselines.empty and res.baselines["advantage_se"].notna().all()


def test_trimmed_design_is_no_larger_scores_within_tolerance_and_is_best_everywhere(tmp_path: Path) -> None:
    r = run_cli("run", "qa_ensemble", "-f", "math_qa", "-n", "96", "--out", str(tmp_path), "--name", "trim", "-q",
                "--trim-tolerance", "0.01")  # fmt: skip
    assert r.code == 0, r.stderr
    res = load_run(tmp_path / "trim")
    rec = res.recommendation
    assert rec["agents_after"] <= rec["agents_before"]
    assert rec["trimmed_score"] >= rec["winner_score"] - 0.01 - 1e-12
    trimmed = res.design(rec["trimmed_trial"])
    assert sum(role.count for role in trimmed.roles) == rec["agents_after"]
    # one definition of best: best.yaml, the results API, show
    best = yaml.safe_load((tmp_path / "trim" / "best.yaml").read_text())
    assert best["provenance"]["trial"] == res.best_trial == rec["trial"]
    shown = run_cli("show", str(tmp_path / "trim"), "-k", "3")
    assert shown.code == 0, shown.stderr
    assert f"best.yaml now holds trial {rec['trial']}" in " ".join(shown.stdout.split())
    assert f"trimmed from {rec['agents_before']:,} to {rec['agents_after']:,} agents" in " ".join(shown.stdout.split())
    by_kind = run_cli("show", str(tmp_path / "trim"), "--by", "topology")
    assert by_kind.code == 0 and "best design per topology kind" in " ".join(by_kind.stdout.split())
    kinds = res.archive("topology")
    assert set(kinds["bin"]) == set(res.trials.loc[res.trials["stage"].isna(), "topology"])


def test_bad_recommendation_options_fail_before_a_run_folder_exists(tmp_path: Path) -> None:
    bad = ((["--trim-tolerance", "-1"], "--trim-tolerance"), (["--rescore-seeds", "1"], "--rescore-seeds"))
    for args, field in bad:
        r = run_cli("run", "qa_ensemble", "-f", "math_qa", "-n", "8", "--out", str(tmp_path), "--name", "bad", *args)
        assert r.code == 2
        assert field in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "bad").exists()
    r = run_cli("show", str(tmp_path), "--by", "colour")
    assert r.code == 2 and "--by" in r.stderr


def _kill_when(run_dir: Path, proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> None:
    journal = run_dir / "study.journal"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if journal.exists() and marker in journal.read_text(errors="replace"):
            break
        assert proc.poll() is None, f"the run ended before reaching {marker}: {proc.communicate()[1][-2000:]}"
        time.sleep(0.05)
    else:
        raise AssertionError(f"{marker} never appeared")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _start(out: Path, name: str, *args: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "swarmdesign.cli", "run", "qa_ensemble", "-f", str(KNOWN_TRUTH_SCENARIO),
           "-e", KNOWN_TRUTH, "-E", "sleep_s=0.15", "-o", "random", "-n", "32", "--rescore-top", "3",
           "--rescore-seeds", "3", "--out", str(out), "--name", name, "-q", *args]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_during_trim_then_resume_redoes_nothing(tmp_path: Path) -> None:
    proc = _start(tmp_path, "k")
    _kill_when(tmp_path / "k", proc, '"trim:')
    before = _stage_keys(tmp_path / "k")
    assert any(k.startswith("trim:") for k in before)
    r = run_cli("resume", str(tmp_path / "k"), "-q")
    assert r.code == 0, r.stderr
    after = _stage_keys(tmp_path / "k")
    assert max(after.values()) == 1, [k for k, n in after.items() if n > 1]  # nothing evaluated twice
    assert all(after[k] == 1 for k in before)
    res = load_run(tmp_path / "k")
    assert res.recommendation is not None and res.summary()["finished"] == 32


def test_kill_9_during_robustness_then_resume_redoes_nothing(tmp_path: Path) -> None:
    proc = _start(tmp_path, "rb", "--robustness", "12")
    _kill_when(tmp_path / "rb", proc, '"robustness:')
    before = _stage_keys(tmp_path / "rb")
    r = run_cli("resume", str(tmp_path / "rb"), "-q")
    assert r.code == 0, r.stderr
    after = _stage_keys(tmp_path / "rb")
    assert max(after.values()) == 1
    assert sum(k.startswith("robustness:") for k in after) == 12
    assert sum(k.startswith("robustness:") for k in before) < 12
    rob = load_run(tmp_path / "rb").robustness
    assert len(rob) >= 2 and rob["win_share"].between(0, 1).all()
    assert json.loads(json.dumps(rob.to_dict("records")))  # JSON-safe, as the study stores it


def test_fill_archive_gives_every_topology_kind_its_own_evaluations(tmp_path: Path) -> None:
    r = run_cli("run", "qa_ensemble", "-f", "math_qa", "-n", "32", "--fill-archive", "8", "--rescore-top", "2",
                "--rescore-seeds", "2", "--out", str(tmp_path), "--name", "fa", "-q")  # fmt: skip
    assert r.code == 0, r.stderr
    res = load_run(tmp_path / "fa")
    filled = res.trials[res.trials["stage"] == "archive"]
    kinds = res.space.spec.topology.kinds
    assert filled["topology"].value_counts().reindex(kinds).tolist() == [8] * len(kinds)
    assert set(res.archive("topology")["bin"]) == set(kinds)
    assert res.summary()["finished"] == 32  # archive trials do not count toward the search budget
    assert res.trials.loc[res.trials["state"] == "COMPLETE", "score_se"].gt(0).all()


def test_the_archive_fill_is_on_the_front_wherever_the_front_is_shown(tmp_path: Path) -> None:
    """Archive trials are search designs (as for the best design): pareto/, the stamp ``show`` reads and
    ``load_run(...).pareto`` hold the same front, and the fill's designs that are on it."""
    r = run_cli("run", "-n", "64", "--fill-archive", "32", "--rescore-top", "2", "--rescore-seeds", "2",
                "--out", str(tmp_path), "--name", "fa", "-q")  # fmt: skip
    assert r.code == 0, r.stderr
    run_dir = tmp_path / "fa"
    folder = sorted(int(p.stem.split("-")[1]) for p in (run_dir / "pareto").glob("trial-*.yaml"))
    stamp = json.loads((run_dir / "trials.stamp.json").read_text())["pareto"]
    res = load_run(run_dir)
    shown = sorted(res.pareto.frame["trial"].tolist())
    stages = res.trials.set_index("trial")["stage"]
    assert folder == stamp == shown
    assert (stages.loc[folder] == "archive").any() and stages.loc[folder].isna().any()
