"""The llm evaluator end to end through litellm with the deterministic fake provider."""

from __future__ import annotations

import json

import pytest
from llm_helpers import design, scenario, solo, voters

from swarmdesign.errors import RunStopped
from swarmdesign.evaluators import make_evaluator
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.traces import TRACE_FILE, read_traces, spent_in


def test_registered_and_costly():
    ev = make_evaluator("llm", n_tasks=3)
    assert isinstance(ev, LLMEvaluator) and ev.costly and ev.params() == {"n_tasks": 3}


def test_metrics_and_voting_beats_a_single_agent(tmp_path, fake):
    sc = scenario(n_tasks=30)
    frame = LLMEvaluator(trace_dir=str(tmp_path)).evaluate([solo(), voters(5)], sc, seed=0)
    for col in ("quality", "cost", "latency", "robustness", "calls_per_task", "prompt_tokens_per_task"):
        assert col in frame.columns
    single, vote = frame.iloc[0], frame.iloc[1]
    assert vote["quality"] > single["quality"]
    assert vote["calls_per_task"] == 5 and single["calls_per_task"] == 1
    assert vote["cost"] > single["cost"] > 0
    assert single["cost"] == pytest.approx(single["cost_run"] / 30 * sc.workload.tasks)
    assert frame["robustness"].eq(1.0).all()


def test_traces_hold_messages_tokens_cost_latency_verdict(tmp_path, fake):
    LLMEvaluator(trace_dir=str(tmp_path)).evaluate([voters(3)], scenario(n_tasks=4), seed=1)
    records = list(read_traces([tmp_path]))
    tasks = [r for r in records if r["type"] == "task"]
    designs = [r for r in records if r["type"] == "design"]
    assert len(tasks) == 4 and len(designs) == 1
    for r in tasks:
        assert isinstance(r["verdict"], bool) and r["calls"] == 3
        assert r["prompt_tokens"] > 0 and r["completion_tokens"] > 0 and r["cost_usd"] > 0 and r["latency_s"] >= 0
        step = r["steps"][0]
        assert step["messages"][0]["role"] == "system" and step["response"]
        assert {"prompt_tokens", "completion_tokens", "cost_usd", "latency_s", "cached", "params"} <= set(step)
    assert designs[0]["metrics"]["quality"] == pytest.approx(sum(r["verdict"] for r in tasks) / 4)


def test_repeated_evaluation_costs_nothing_and_scores_the_same(tmp_path, fake):
    sc = scenario(n_tasks=5)
    first = LLMEvaluator(trace_dir=str(tmp_path / "a")).evaluate([voters(3)], sc, seed=2)
    calls = fake.calls
    again = LLMEvaluator(trace_dir=str(tmp_path / "b")).evaluate([voters(3)], sc, seed=2)
    assert fake.calls == calls
    assert again.iloc[0]["spent_run"] == 0
    for col in ("quality", "cost", "latency"):
        assert again.iloc[0][col] == first.iloc[0][col]


def test_large_role_counts_are_capped_and_said_so(tmp_path, fake):
    roles = [{"name": "solver", "archetype": "solver", "count": 1_000_000}]
    huge = design("huge", roles, "independent", redundancy=64)
    frame = LLMEvaluator(trace_dir=str(tmp_path)).evaluate([huge], scenario(n_tasks=2, max_agents_per_role=3), seed=0)
    assert frame.iloc[0]["calls_per_task"] == 3 and bool(frame.iloc[0]["agents_capped"])
    notes = next(r for r in read_traces([tmp_path]) if r["type"] == "task")["notes"]
    assert any("count 1000000" in n for n in notes) and any("redundancy 64" in n for n in notes)


def test_cost_cap_stops_cleanly_and_keeps_finished_traces(tmp_path, fake):
    ev = LLMEvaluator(trace_dir=str(tmp_path), max_cost_usd=1e-2)
    with pytest.raises(RunStopped):
        ev.evaluate([voters(5, model="fake/gpt-4o")], scenario(n_tasks=40, concurrency=3), seed=0)
    assert 0 < ev.spent_usd <= 1e-2
    traced = list(read_traces([tmp_path]))
    calls = [r for r in traced if r["type"] == "call"]
    # every dollar spent is in the traces, one record per paid call, finished tasks or not, never over the cap
    assert sum(r["spent_usd"] for r in calls) == pytest.approx(ev.spent_usd) == pytest.approx(spent_in(tmp_path))
    assert sum(r["spent_usd"] for r in calls) <= 1e-2
    tasks = [r for r in traced if r["type"] == "task"]
    assert all(r["spend_in_calls"] for r in tasks)
    assert sum(r["spent_usd"] for r in tasks) <= sum(r["spent_usd"] for r in calls)
    # a new evaluator on the same folder (a resumed run) starts from what was already spent
    resumed = LLMEvaluator(trace_dir=str(tmp_path), max_cost_usd=1e-2)
    with pytest.raises(RunStopped):
        resumed.evaluate([voters(5, model="fake/gpt-4o")], scenario(n_tasks=40, concurrency=3, cache=False), seed=9)


def test_api_keys_never_reach_the_run_folder(tmp_path, fake, monkeypatch):
    secret = "sk-test-SECRET-4242424242"
    monkeypatch.setenv("FAKE_PROVIDER_KEY", secret)
    sc = scenario(n_tasks=3, api_key_env="FAKE_PROVIDER_KEY", api_base="https://user:hunter2@example.invalid/v1")
    # the fake provider ignores api_base; the key and the URL's password must still never be written
    LLMEvaluator(trace_dir=str(tmp_path / "run")).evaluate([voters(2)], sc, seed=0)
    written = b"".join(p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert written and secret.encode() not in written and b"hunter2" not in written
    cached = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached and secret.encode() not in cached


def test_trace_file_is_jsonl(tmp_path, fake):
    LLMEvaluator(trace_dir=str(tmp_path)).evaluate([solo()], scenario(n_tasks=2), seed=0)
    lines = (tmp_path / TRACE_FILE).read_text().splitlines()
    assert all(json.loads(line)["type"] in ("task", "design", "call") for line in lines)
