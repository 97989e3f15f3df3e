"""What real traces say about the mechanisms that decide multi-agent effects.

Read by :mod:`swarmdesign.llm.calibrate`. Everything is keyed by the model
that really answered (the step's litellm ``model``, after ``llm.model_map``),
not the name the design gives it: a design saying ``gpt-4o`` that ran on a
local model tells us about the local model.

Figures, each with its number of observations:

* single-attempt accuracy per model, from *plain* attempts (no plan, no
  previous answer in the prompt: what one agent does alone), and per
  (archetype, model);
* the per-item correctness distribution: the share of a role's attempts that
  were right on each item (Chen et al. 2024: voting helps items an agent
  usually gets right and hurts those it usually gets wrong), and the accuracy
  of a plurality vote over every ``k``-subset of those attempts - the figure
  a ``k``-vote design would have had, with the real answers' agreement;
* correlation of correctness between two attempts on one item, same model
  and different models, and how often two wrong answers agree;
* per checker kind (``reviewer``, ``tester``, ``judge``, or ``self`` when a
  producer checks its own work): the share of wrong answers sent back
  (caught) and of right answers sent back (false rejection); a judge's share
  of right picks when a right candidate existed;
* calls' seconds, tokens per producer call and per kind of call.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.archetypes import STAGE_OF
from swarmdesign.errors import SwarmdesignError
from swarmdesign.llm.tasks import vote_key
from swarmdesign.llm.traces import read_traces
from swarmdesign.llm.workflow import CHOICE, is_revise

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

MIN_OBSERVATIONS = 5
VOTE_SIZES = (3, 5)
_CONTEXT_MARKERS = ("Plan:", "Previous team member's answer:")
_CANDIDATE = re.compile(r"Candidate (\d+): ANSWER: ([^\n]*)")

Rate = tuple[float, int]  # (share, observations)


@dataclass
class Observations:
    """Traced designs and their task records, and what could not be used (reported, not fatal)."""

    designs: dict[str, Design] = field(default_factory=dict)
    tasks: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))  # design_id -> records
    skipped: list[str] = field(default_factory=list)

    def restricted(self, design_ids: Iterable[str]) -> Observations:
        keep = set(design_ids)
        return Observations(
            {k: v for k, v in self.designs.items() if k in keep}, {k: v for k, v in self.tasks.items() if k in keep}
        )


def load_observations(paths: Iterable[str | Path]) -> Observations:
    """Designs and task records of every trace file / run folder in ``paths`` (several runs at once)."""
    from swarmdesign.design import Design

    obs = Observations()
    tasks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in read_traces(paths):
        if rec.get("type") == "design" and "design_id" in rec:
            obs.designs.setdefault(rec["design_id"], Design.from_dict(rec["design_yaml"]))
        elif rec.get("type") == "task" and "design_id" in rec and isinstance(rec.get("steps"), list):
            tasks[rec["design_id"]].append(rec)
    for did, recs in sorted(tasks.items()):
        if did not in obs.designs:
            name = recs[0].get("design", "?")
            obs.skipped.append(f"design '{name}' ({did}): {len(recs)} task records, no design record (stopped early)")
    for did, design in obs.designs.items():
        if did not in tasks:
            obs.skipped.append(f"design '{design.name}' ({did}): no task records")
    obs.tasks = {k: v for k, v in tasks.items() if k in obs.designs}
    obs.designs = {k: v for k, v in obs.designs.items() if k in obs.tasks}
    if not obs.tasks:
        raise SwarmdesignError("the traces hold no evaluated design (no 'design' and 'task' records)", field="TRACES")
    return obs


def split_tasks(obs: Observations, holdout: float, seed: int) -> tuple[set[str], set[str]]:
    """Task ids for fitting and for the held-out check (a seeded split)."""
    ids = sorted({r["task_id"] for recs in obs.tasks.values() for r in recs})
    if holdout <= 0 or len(ids) < 2:
        return set(ids), set()
    order = np.random.default_rng(seed).permutation(len(ids))
    n_hold = min(max(1, round(holdout * len(ids))), len(ids) - 1)
    held = {ids[int(i)] for i in order[:n_hold]}
    return set(ids) - held, held


def _model_of(design: Design, step: dict[str, Any]) -> str:
    return str(step.get("model") or design.role(step["role"]).model)


def _records(obs: Observations, keep: set[str]) -> Iterator[tuple[Design, dict[str, Any]]]:
    for did, recs in obs.tasks.items():
        for r in recs:
            if r["task_id"] in keep:
                yield obs.designs[did], r


def is_attempt(step: dict[str, Any]) -> bool:
    return step["kind"] == "produce" and str(step.get("tag", "")).startswith("attempt") and "correct" in step


def is_plain(step: dict[str, Any]) -> bool:
    user = step["messages"][-1]["content"] if step.get("messages") else ""
    return not any(marker in user for marker in _CONTEXT_MARKERS)


def _same_answer(text: str, expected: str, check: str) -> bool:
    got = vote_key(f"ANSWER: {text}", check)
    return bool(got) and got == vote_key(f"ANSWER: {expected}", check)


def plurality_right(keys: list[str], right: list[bool]) -> float:
    """Chance that a plurality vote over these answers is right; ties broken uniformly, empty answers unique."""
    counted = Counter(k for k in keys if k)
    best = max(counted.values(), default=0)
    if best <= 1:  # every answer given once: each is as likely to be picked
        return sum(right) / len(right)
    top = [k for k, n in counted.items() if n == best]
    winners = {k: any(r for kk, r in zip(keys, right, strict=True) if kk == k) for k in top}
    return sum(winners.values()) / len(top)


def _rate(values: list[bool]) -> Rate | None:
    return (float(np.mean(values)), len(values)) if values else None


def statistics(obs: Observations, keep: set[str]) -> dict[str, Any]:
    """The calibration targets on the task ids in ``keep`` (see the module docstring)."""
    plain: dict[str, list[bool]] = defaultdict(list)
    anywhere: dict[str, list[bool]] = defaultdict(list)
    by_arch: dict[tuple[str, str], list[bool]] = defaultdict(list)
    latency: dict[str, list[float]] = defaultdict(list)
    tokens_in: list[int] = []
    tokens_out: list[int] = []
    kind_tokens: dict[str, list[float]] = defaultdict(list)
    caught: dict[str, list[bool]] = defaultdict(list)
    false_reject: dict[str, list[bool]] = defaultdict(list)
    checker_model: dict[str, str] = {}
    judge_picks: list[tuple[bool, float]] = []
    judge_model: dict[str, str] = {}
    pairs: dict[bool, list[tuple[bool, bool]]] = {True: [], False: []}
    wrong_agree: list[bool] = []
    item_share: dict[str, list[float]] = defaultdict(list)
    votes: dict[tuple[str, int], list[float]] = defaultdict(list)
    for design, rec in _records(obs, keep):
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        attempts = []
        for s in rec["steps"]:
            if s.get("error"):
                continue
            model = _model_of(design, s)
            if not s.get("cached") and s.get("latency_s") is not None:
                latency[model].append(float(s["latency_s"]))
            used = float(s["prompt_tokens"]) + float(s["completion_tokens"])
            if s["kind"] == "judge":  # the simulator sizes a judge call per attempt it reads
                used /= max(s["messages"][-1]["content"].count("Candidate "), 1)
            kind_tokens[s["kind"]].append(used)
            if is_attempt(s):
                attempts.append((model, s))
                anywhere[model].append(bool(s["correct"]))
                by_arch[(s["archetype"], model)].append(bool(s["correct"]))
                tokens_in.append(int(s["prompt_tokens"]))
                tokens_out.append(int(s["completion_tokens"]))
                if is_plain(s):
                    plain[model].append(bool(s["correct"]))
                    groups[(s["role"], model)].append(s)
            elif s["kind"] == "check":
                who = s["archetype"] if STAGE_OF.get(s["archetype"]) == "check" else "self"
                proposed = s["messages"][-1]["content"].rsplit("Proposed answer:", 1)[-1].strip()
                sent_back = is_revise(s["response"])
                if _same_answer(proposed, rec["expected"], rec["check"]):
                    false_reject[who].append(sent_back)
                else:
                    caught[who].append(sent_back)
                checker_model[who] = model
            elif s["kind"] == "judge" and s.get("archetype") == "judge":
                listed = _CANDIDATE.findall(s["messages"][-1]["content"])
                right = {n for n, text in listed if _same_answer(text, rec["expected"], rec["check"])}
                m = CHOICE.search(s["response"] or "")
                if listed and right and m:
                    judge_picks.append((m.group(1) in right, len(right) / len(listed)))
                    judge_model["judge"] = model
        for i, (ma, a) in enumerate(attempts):
            for mb, b in attempts[i + 1 :]:
                pairs[ma == mb].append((bool(a["correct"]), bool(b["correct"])))
                if not a["correct"] and not b["correct"]:
                    ka, kb = vote_key(a["response"], rec["check"]), vote_key(b["response"], rec["check"])
                    wrong_agree.append(bool(ka) and ka == kb)
        for (_role, model), steps in groups.items():
            right = [bool(s["correct"]) for s in steps]
            if len(steps) >= 3:
                item_share[model].append(sum(right) / len(right))
            keys = [vote_key(s["response"], rec["check"]) for s in steps]
            for k in VOTE_SIZES:
                if len(steps) >= k:
                    subsets = itertools.combinations(range(len(steps)), k)
                    outcomes = [plurality_right([keys[i] for i in c], [right[i] for i in c]) for c in subsets]
                    votes[(model, k)].append(float(np.mean(outcomes)))
    accuracy = {m: _rate(v) for m, v in plain.items() if v}
    for m, v in anywhere.items():  # a model seen only with context still gets a figure
        accuracy.setdefault(m, _rate(v))
    judge_acc = None
    if len(judge_picks) >= MIN_OBSERVATIONS:
        hit = np.array([h for h, _ in judge_picks], dtype=float)
        chance = np.array([c for _, c in judge_picks])
        # P(pick right) = a + (1 - a) * chance  =>  a = (hits - chance) / (1 - chance), pooled
        denominator = float((1.0 - chance).sum())
        a = float((hit - chance).sum()) / denominator if denominator > 0 else 1.0
        judge_acc = (min(max(a, 0.0), 1.0), len(judge_picks))
    return {
        "accuracy": accuracy,
        "accuracy_by_archetype": {f"{a}@{m}": _rate(v) for (a, m), v in by_arch.items()},
        "seconds_per_call": {m: float(np.mean(v)) for m, v in latency.items() if v},
        "input_tokens_per_step": float(np.mean(tokens_in)) if tokens_in else None,
        "output_tokens_per_step": float(np.mean(tokens_out)) if tokens_out else None,
        "tokens_per_call": {k: float(np.mean(v)) for k, v in kind_tokens.items() if v},
        "checkers": {
            who: {"caught": _rate(caught[who]), "false_reject": _rate(false_reject[who]), "model": checker_model[who]}
            for who in checker_model
        },
        "judge": {"accuracy": judge_acc, "model": judge_model.get("judge")} if judge_acc else None,
        "correlation": pair_correlation(pairs[True]),
        "correlation_cross": pair_correlation(pairs[False]),
        "wrong_agree": _rate(wrong_agree),
        "item_share": {m: v for m, v in item_share.items() if v},
        "votes": {f"{m}@{k}": (float(np.mean(v)), len(v)) for (m, k), v in votes.items() if v},
    }


def pair_correlation(pairs: list[tuple[bool, bool]]) -> Rate | None:
    """Intra-class correlation of correctness between two attempts at one item."""
    if len(pairs) < MIN_OBSERVATIONS:
        return None
    x = np.array(pairs, dtype=float)
    p = x.mean()
    if p <= 0 or p >= 1:
        return None
    rho = (float((x[:, 0] * x[:, 1]).mean()) - p * p) / (p * (1 - p))
    return min(max(rho, 0.0), 1.0), len(pairs)


def item_histogram(shares: list[float]) -> str:
    """Per-item correctness in five bins, e.g. ``0-.2: 12 | .2-.4: 3 | ...`` (items usually wrong ... usually right)."""
    counts, _ = np.histogram(shares, bins=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0001])
    labels = ["0-.2", ".2-.4", ".4-.6", ".6-.8", ".8-1"]
    return " | ".join(f"{lab}: {int(c)}" for lab, c in zip(labels, counts, strict=True))
