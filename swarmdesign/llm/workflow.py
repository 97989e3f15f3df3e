"""Execute one Design on one task with real LLM calls, the way its topology says.

The pipeline follows the design's stages (plan -> produce -> check -> merge):

1. **plan** - unless the topology is ``independent``, each active plan-stage role
   (planner, orchestrator, architect) writes a short plan, each seeing the plans
   before it; producers receive the last one (the coordinator decomposes).
2. **produce** - every produce-stage role makes ``redundancy`` attempts, by up to
   ``count`` distinct agents, both capped by ``max_agents_per_role``. A ``chain``
   (or explicit producer -> producer edges) runs producer roles in sequence,
   each seeing the previous answer; otherwise they work in parallel. With
   ``heterogeneity`` > 0 a share of the agents get distinct solving approaches.
   ``mesh`` and ``ring`` add one debate round (ring: the neighbour's answer only).
3. **aggregate** - several candidates are combined as ``aggregation`` says:
   ``majority_vote`` (plurality of final answers), ``judge`` (a judge role picks;
   without one, a merge role; else the vote), ``first_valid``. An active
   aggregator / integrator role then writes the final answer from the candidates.
4. **review** - check-stage roles (reviewer, tester; a judge not used for
   aggregation) check the answer for ``review_rounds`` rounds (at least one if
   such a role exists); ``REVISE`` sends it back to the first producer with the
   feedback. ``review_rounds`` without any check role means a self-check.

A design with no producer uses its first active role as the producer. Latency
is the critical path: sequential steps add, parallel attempts count once (the
slowest). Everything that happened goes into the returned trace record.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from swarmdesign.archetypes import STAGE_OF, STAGES
from swarmdesign.llm import templates
from swarmdesign.llm.tasks import answer_number, check_answer, final_answer, vote_key

if TYPE_CHECKING:
    from swarmdesign.design import Design, Role
    from swarmdesign.llm.client import CallResult, LLMClient
    from swarmdesign.llm.settings import LLMSettings
    from swarmdesign.llm.tasks import TaskItem

_REVISE = re.compile(r"VERDICT\s*:\s*REVISE\W*(.*)", re.IGNORECASE | re.S)
#: A judge's pick (``CHOICE: 2``); calibration reads traces with the same rule.
CHOICE = re.compile(r"CHOICE\s*:\s*(\d+)", re.IGNORECASE)


def is_revise(reply: str | None) -> bool:
    """Whether a checker's reply sends the answer back (the rule the review loop applies)."""
    return bool(reply) and _REVISE.search(reply) is not None


def call_seed(*parts: object) -> int:
    """A stable 31-bit sampling seed from the parts (run seed, task, role, agent, attempt)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "big") & 0x7FFFFFFF


@dataclass
class Candidate:
    role: str
    agent: int
    text: str

    @property
    def final(self) -> str:
        return final_answer(self.text)


@dataclass
class TaskRun:
    """The execution of one design on one task; see the module docstring."""

    design: Design
    item: TaskItem
    client: LLMClient
    settings: LLMSettings
    seed: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    critical_s: float = 0.0

    # ------------------------------------------------------------ plumbing
    def _call(self, stage: str, role: Role, agent: int, kind: str, user: str, tag: str, approach: str = "") -> str:
        system = templates.system_prompt(
            kind, role_name=role.name, archetype=role.archetype, policy=role.prompt, approach=approach
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        model = self.settings.litellm_model(role.model)
        seed = call_seed(self.seed, self.item.id, role.name, agent, tag)
        result: CallResult = self.client.complete(model, messages, seed=seed)
        step = {
            "stage": stage,
            "role": role.name,
            "archetype": role.archetype,
            "agent": agent,
            "kind": kind,
            "tag": tag,
            "messages": messages,
            "response": result.text,
            **{k: v for k, v in result.record().items() if k != "text"},
        }
        if kind in ("produce", "merge") or tag.startswith("revise"):
            step["correct"] = bool(result.ok and check_answer(self.item, result.text))
        self.steps.append(step)
        return result.text

    def _parallel(self, calls: list[tuple[str, Role, int, str, str, str, str]]) -> list[str]:
        """Run calls that the design runs side by side; the critical path grows by the slowest."""
        before = len(self.steps)
        texts = [self._call(*c) for c in calls]
        self.critical_s += max((s["latency_s"] for s in self.steps[before:]), default=0.0)
        return texts

    def _sequential(self, *call: Any) -> str:
        text = self._call(*call)
        self.critical_s += self.steps[-1]["latency_s"]
        return text

    # ------------------------------------------------------------ pipeline
    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        d = self.design
        cap = self.settings.max_agents_per_role
        active = d.active_roles
        by_stage = {s: [r for r in active if STAGE_OF[r.archetype] == s] for s in STAGES}
        for r in active:
            if r.count > cap:
                self.notes.append(f"role {r.name}: count {r.count}, at most {cap} agents run per task (llm cap)")
        producers = by_stage["produce"] or [active[0]]
        if not by_stage["produce"]:
            self.notes.append(f"no producer role; {active[0].name} acts as producer")
        single = d.topology.kind == "single"
        plan = "" if single else self._plan(by_stage["plan"])
        candidates = self._produce(producers, plan, single)
        answer = self._aggregate(candidates, by_stage, single)
        answer = self._review(answer, producers[0], by_stage, single)
        verdict = check_answer(self.item, answer)
        return self._record(answer, verdict, time.perf_counter() - started)

    def _plan(self, planners: list[Role]) -> str:
        if not planners:
            return ""
        if self.design.topology.kind == "independent":
            self.notes.append("independent topology: plan roles are not consulted")
            return ""
        plan = ""
        for role in planners:
            user = templates.render("user_plan", task=self.item.input)
            if plan:
                user += f"\nEarlier plan:\n{plan}"
            plan = self._sequential("plan", role, 0, "plan", user, "plan")
        return plan

    def _produce(self, producers: list[Role], plan: str, single: bool) -> list[Candidate]:
        d = self.design
        cap = self.settings.max_agents_per_role
        attempts = 1 if single else min(d.coordination.redundancy, cap)
        if d.coordination.redundancy > cap and not single:
            self.notes.append(f"redundancy {d.coordination.redundancy} capped at {cap} attempts per role")
        hints = templates.approaches()
        chained = d.topology.kind == "chain" or any(
            (a.name, b.name) in set(d.edges) for a in producers for b in producers if a is not b
        )
        candidates: list[Candidate] = []
        previous = ""
        for role in producers:
            agents = max(1, min(role.count, attempts))
            n_varied = round(d.coordination.heterogeneity * (agents - 1))
            context = f"Plan:\n{plan}" if plan else ""
            if chained and previous:
                context += f"\nPrevious team member's answer: {final_answer(previous)}"
            calls = []
            for k in range(attempts):
                agent = k % agents
                approach = hints[(agent - 1) % len(hints)] if 0 < agent <= n_varied else ""
                user = templates.render("user_produce", task=self.item.input, context=context.strip())
                calls.append(("produce", role, agent, "produce", user, f"attempt{k}", approach))
            texts = self._parallel(calls) if not chained else [self._sequential(*c) for c in calls]
            role_candidates = [Candidate(role.name, c[2], t) for c, t in zip(calls, texts, strict=True)]
            candidates.extend(role_candidates)
            previous = role_candidates[0].text if role_candidates else previous
        if chained and candidates:
            candidates = [c for c in candidates if c.role == producers[-1].name]
        if d.topology.kind in ("mesh", "ring") and len(candidates) > 1:
            candidates = self._debate(candidates, producers)
        return candidates

    def _debate(self, candidates: list[Candidate], producers: list[Role]) -> list[Candidate]:
        ring = self.design.topology.kind == "ring"
        roles = {r.name: r for r in producers}
        calls = []
        for i, c in enumerate(candidates):
            peers = [candidates[i - 1]] if ring else [p for j, p in enumerate(candidates) if j != i]
            peer_text = "\n".join(f"- {p.final}" for p in peers)
            user = templates.render("user_debate", task=self.item.input, answer=c.final, peers=peer_text)
            calls.append(("debate", roles[c.role], c.agent, "produce", user, f"debate{i}", ""))
        texts = self._parallel(calls)
        return [Candidate(c.role, c.agent, t) for c, t in zip(candidates, texts, strict=True)]

    def _vote(self, candidates: list[Candidate]) -> Candidate:
        keys = [vote_key(c.text, self.item.check) for c in candidates]
        counted = Counter(k for k in keys if k)
        if not counted:
            return candidates[0]
        best = max(counted.values())
        for c, k in zip(candidates, keys, strict=True):
            if k and counted[k] == best:
                return c
        return candidates[0]  # unreachable: some key has the best count

    def _valid(self, c: Candidate) -> bool:
        if self.item.check == "numeric":
            return answer_number(c.text) is not None
        return bool(c.final.strip())

    def _aggregate(self, candidates: list[Candidate], by_stage: dict[str, list[Role]], single: bool) -> str:
        if not candidates:
            return ""
        how = self.design.coordination.aggregation
        mergers = [] if single else by_stage["merge"]
        judges = [r for r in by_stage["check"] if r.archetype == "judge"]
        chosen = candidates[0]
        if len(candidates) > 1:
            if how == "first_valid":
                chosen = next((c for c in candidates if self._valid(c)), candidates[0])
            elif how == "judge" and (judges or mergers):
                role = judges[0] if judges else mergers[0]
                listing = "\n".join(f"Candidate {i + 1}: ANSWER: {c.final}" for i, c in enumerate(candidates))
                user = templates.render("user_judge", task=self.item.input, candidates=listing)
                reply = self._sequential("aggregate", role, 0, "judge", user, "judge")
                m = CHOICE.search(reply)
                index = int(m.group(1)) - 1 if m else -1
                if 0 <= index < len(candidates):
                    chosen = candidates[index]
                else:
                    self.notes.append("judge gave no valid CHOICE; fell back to the vote")
                    chosen = self._vote(candidates)
            else:
                if how == "judge":
                    self.notes.append("aggregation 'judge' without a judge or merge role; majority vote used")
                chosen = self._vote(candidates)
        if mergers:
            listing = "\n".join(f"- {c.final}" for c in candidates)
            user = templates.render("user_merge", task=self.item.input, candidates=listing)
            if len(candidates) > 1 and how == "majority_vote":
                user += f"\nMost agents answered: {chosen.final}"
            return self._sequential("merge", mergers[0], 0, "merge", user, "merge")
        return chosen.text

    def _review(self, answer: str, producer: Role, by_stage: dict[str, list[Role]], single: bool) -> str:
        d = self.design
        if single:
            return answer
        aggregation_judge = d.coordination.aggregation == "judge"
        checkers = [r for r in by_stage["check"] if not (aggregation_judge and r.archetype == "judge")]
        rounds = max(d.coordination.review_rounds, 1 if checkers else 0)
        self_check = not checkers
        if self_check and rounds:
            self.notes.append(f"review_rounds {rounds} without a check role: {producer.name} checks itself")
            checkers = [producer]
        for rnd in range(rounds):
            feedback, reviewer = "", ""
            for role in checkers:
                user = templates.render("user_review", task=self.item.input, answer=final_answer(answer))
                reply = self._sequential("review", role, 0, "check", user, f"review{rnd}")
                m = _REVISE.search(reply)
                if m:
                    feedback, reviewer = (m.group(1).strip() or "the answer is wrong"), role.name
                    break
            if not feedback:
                break
            user = templates.render(
                "user_revise", task=self.item.input, answer=final_answer(answer), reviewer=reviewer, feedback=feedback
            )
            answer = self._sequential("revise", producer, 0, "produce", user, f"revise{rnd}")
        return answer

    # -------------------------------------------------------------- record
    def _record(self, answer: str, verdict: bool, wall_s: float) -> dict[str, Any]:
        steps = self.steps
        return {
            "task_id": self.item.id,
            "input": self.item.input,
            "expected": self.item.answer,
            "check": self.item.check,
            "meta": self.item.meta,
            "output": answer,
            "final_answer": final_answer(answer),
            "verdict": bool(verdict),
            "calls": len(steps),
            "failed_calls": sum(1 for s in steps if s.get("error")),
            "cached_calls": sum(1 for s in steps if s.get("cached")),
            "prompt_tokens": sum(s["prompt_tokens"] for s in steps),
            "completion_tokens": sum(s["completion_tokens"] for s in steps),
            "cost_usd": sum(s["cost_usd"] for s in steps),
            "spent_usd": sum(s["spent_usd"] for s in steps),
            "latency_s": self.critical_s,
            "wall_s": wall_s,
            "notes": self.notes,
            "steps": steps,
        }
