"""SwarmAgentic's language-level update: failed tasks -> typed flaws -> adjustments.

The steps of one particle update (Liu et al. 2025, "SwarmAgentic"), each LLM
step's prompt and answer recorded by the caller:

1. **Flaws.** Failed-task feedback (the evaluator's ``failures`` digest) is
   summarised by an LLM into typed flaws (:data:`FLAW_TYPES`). Rule-based flaws
   read straight from the traces are added, so a weak or silent model still
   yields feedback: a producer without an ``ANSWER:`` line (inappropriate
   output), a reviewer that passed a wrong answer (deficient policy), wrong
   answers with no check step (missing workflow step).
2. **Candidate adjustments** follow from the flaws: rewrite a role's policy,
   switch an optional role of the search space on or off, add or drop a
   review round. Adjustments that were tried before and did not raise the
   particle's score are dropped (failure-aware velocity).
3. **Velocity.** An LLM picks which candidates to apply now (``ADJUST: 1, 3``);
   without a usable answer the first :data:`MAX_ADJUSTMENTS` are taken.
4. **Apply.** Policy rewrites ask an LLM for a new policy (``POLICY: ...``); an
   unusable answer falls back to a fixed amendment per flaw type
   (``prompts/sa_amendments.txt``). Structural adjustments are returned for the
   optimizer to apply to the particle's numeric position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from swarmdesign.archetypes import ARCHETYPES, STAGE_OF
from swarmdesign.llm import templates

if TYPE_CHECKING:
    from swarmdesign.design import Design

FLAW_TYPES: tuple[str, ...] = (
    "missing_role",
    "redundant_role",
    "deficient_role_policy",
    "missing_workflow_step",
    "redundant_workflow_step",
    "insufficient_input",
    "inappropriate_output",
)
_ROLE_TARGETED = frozenset({"redundant_role", "deficient_role_policy", "insufficient_input", "inappropriate_output"})
MAX_ADJUSTMENTS = 3
MAX_POLICY_CHARS = 600
_FLAW_LINE = re.compile(r"FLAW\s*:\s*([a-z_ ]+?)\s*\|\s*([^|\n]*?)\s*\|\s*([^\n]*)", re.IGNORECASE)
_ADJUST = re.compile(r"ADJUST\s*:\s*([\d,\s]+)", re.IGNORECASE)
_POLICY = re.compile(r"POLICY\s*:\s*(.+)", re.IGNORECASE | re.S)

#: ``ask(system, user, tag) -> answer``: an LLM call whose prompt and answer the caller records.
Ask = Callable[[str, str, str], str]


@dataclass(frozen=True)
class Flaw:
    type: str
    role: str  # a role name, an archetype (missing_role) or "-"
    reason: str
    source: str = "llm"  # llm | rule


@dataclass(frozen=True)
class Adjustment:
    """One change to a particle. ``key`` identifies it for the failure memory."""

    action: str  # rewrite_policy | enable_role | disable_role | add_review | drop_review
    target: str
    reason: str
    flaw: str

    @property
    def key(self) -> str:
        return f"{self.action}:{self.target}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def team_description(design: Design) -> str:
    lines = []
    for r in design.active_roles:
        policy = (r.prompt or "(none)").replace("\n", " ")[:200]
        lines.append(f"- role {r.name} ({r.archetype}, {r.count} agents): policy: {policy}")
    c = design.coordination
    lines.append(
        f"- topology {design.topology.kind}; redundancy {c.redundancy}; aggregation {c.aggregation}; "
        f"review rounds {c.review_rounds}"
    )
    return "\n".join(lines)


def failures_text(failures: list[dict[str, Any]]) -> str:
    out = []
    for i, f in enumerate(failures, start=1):
        out.append(f"{i}. Task: {f.get('task', '')}\n   Expected: {f.get('expected')}; team answered: {f.get('given')}")
        for s in f.get("steps", [])[:4]:
            said = str(s.get("said", "")).replace("\n", " ")[-100:]
            out.append(f"   {s.get('role')} ({s.get('kind')}): {said}")
    return "\n".join(out)


def parse_flaws(text: str, design: Design) -> list[Flaw]:
    """Typed flaws from an LLM answer; lines with unknown types or roles are dropped."""
    names = {r.name for r in design.roles}
    out = []
    for m in _FLAW_LINE.finditer(text):
        kind = m.group(1).strip().lower().replace(" ", "_")
        role = m.group(2).strip().strip("'\"` ") or "-"
        if kind not in FLAW_TYPES:
            continue
        role_targeted = kind in _ROLE_TARGETED
        if kind == "missing_role" and role not in ARCHETYPES and role not in names:
            continue
        if role_targeted and role not in names:
            continue
        out.append(Flaw(kind, role, m.group(3).strip()[:200], "llm"))
    return out


def rule_flaws(design: Design, failures: list[dict[str, Any]]) -> list[Flaw]:
    """Flaws read directly from the failure digest, so feedback never depends on the LLM alone."""
    out: list[Flaw] = []
    names = {r.name for r in design.active_roles}
    for f in failures:
        for s in f.get("steps", []):
            role = s.get("role")
            if role not in names:
                continue
            said = str(s.get("said", ""))
            if s.get("kind") == "produce" and "answer" not in said.lower():
                out.append(Flaw("inappropriate_output", role, "no ANSWER line in the output", "rule"))
            elif s.get("kind") == "produce" and s.get("correct") is False:
                out.append(Flaw("deficient_role_policy", role, "gave a wrong answer", "rule"))
            elif s.get("kind") == "check" and "ok" in said.lower() and "revise" not in said.lower():
                out.append(Flaw("deficient_role_policy", role, "passed a wrong answer", "rule"))
    has_check = any(STAGE_OF[r.archetype] == "check" for r in design.active_roles)
    if failures and not has_check and design.coordination.review_rounds == 0:
        out.append(Flaw("missing_workflow_step", "-", "wrong answers went out unchecked", "rule"))
    return out


def merge_flaws(*groups: list[Flaw]) -> list[Flaw]:
    """Union in order, one flaw per (type, role)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for group in groups:
        for f in group:
            if (f.type, f.role) not in seen:
                seen.add((f.type, f.role))
                out.append(f)
    return out


def candidate_adjustments(
    flaws: list[Flaw], design: Design, space_roles: dict[str, dict[str, Any]]
) -> list[Adjustment]:
    """Adjustments that would address ``flaws``, restricted to what the search space allows.

    ``space_roles`` maps each space role name to ``{"archetype", "optional"}``;
    review rounds may change only if the space varies them (key ``"__review__"``).
    """
    active = {r.name for r in design.active_roles}
    reviewable = "__review__" in space_roles
    out: list[Adjustment] = []
    for f in flaws:
        if f.type in ("deficient_role_policy", "insufficient_input", "inappropriate_output") and f.role in active:
            out.append(Adjustment("rewrite_policy", f.role, f.reason, f.type))
        elif f.type == "missing_role":
            for name, spec in space_roles.items():
                if name in active or not spec.get("optional"):
                    continue
                if f.role in (name, spec.get("archetype")):
                    out.append(Adjustment("enable_role", name, f.reason, f.type))
                    break
        elif f.type == "redundant_role" and space_roles.get(f.role, {}).get("optional") and f.role in active:
            out.append(Adjustment("disable_role", f.role, f.reason, f.type))
        elif f.type == "missing_workflow_step":
            checkers = [n for n, s in space_roles.items() if s.get("archetype") in ("reviewer", "tester", "judge")]
            off = [n for n in checkers if n not in active and space_roles[n].get("optional")]
            if off:
                out.append(Adjustment("enable_role", off[0], f.reason, f.type))
            if reviewable:
                out.append(Adjustment("add_review", "review_rounds", f.reason, f.type))
        elif f.type == "redundant_workflow_step" and reviewable and design.coordination.review_rounds > 0:
            out.append(Adjustment("drop_review", "review_rounds", f.reason, f.type))
    seen: set[str] = set()
    unique = []
    for a in out:
        if a.key not in seen:
            seen.add(a.key)
            unique.append(a)
    return unique


def choose(answer: str, candidates: list[Adjustment]) -> list[Adjustment]:
    """The adjustments an ``ADJUST: 1, 3`` answer picks; all (capped) when it picks none."""
    m = _ADJUST.search(answer)
    picked: list[Adjustment] = []
    if m:
        for token in re.findall(r"\d+", m.group(1)):
            i = int(token) - 1
            if 0 <= i < len(candidates) and candidates[i] not in picked:
                picked.append(candidates[i])
    return (picked or candidates)[:MAX_ADJUSTMENTS]


def amendment(flaw_type: str) -> str:
    for line in templates.prompt_text("sa_amendments").splitlines():
        key, _, text = line.partition(":")
        if key.strip() == flaw_type:
            return text.strip()
    return templates.prompt_text("sa_amendments").splitlines()[0].partition(":")[2].strip()


def parse_policy(answer: str) -> str | None:
    """A usable policy from a ``POLICY: ...`` answer, or None."""
    m = _POLICY.search(answer)
    if not m:
        return None
    text = " ".join(m.group(1).split())[:MAX_POLICY_CHARS]
    return text if len(text) >= 12 and sum(ch.isalpha() for ch in text) >= 8 else None


def rewritten_policy(current: str | None, adj: Adjustment, archetype: str, ask: Ask) -> tuple[str, str]:
    """(new policy, how it was made: llm | amendment)."""
    user = templates.render(
        "sa_policy_user", role=adj.target, archetype=archetype, policy=current or "(none)", reason=adj.reason
    )
    proposal = parse_policy(ask(templates.render("sa_policy"), user, f"policy:{adj.target}"))
    fix = amendment(adj.flaw)
    if proposal and proposal != (current or "").strip():
        if fix not in proposal and adj.flaw == "inappropriate_output":
            proposal = f"{proposal} {fix}"
        return proposal, "llm"
    base = (current or "").strip()
    return (f"{base} {fix}".strip() if fix not in base else base), "amendment"


def summarise_flaws(design: Design, failures: list[dict[str, Any]], ask: Ask) -> list[Flaw]:
    """Step 1: LLM-typed flaws, then rule-based ones."""
    if not failures:
        return []
    user = templates.render("sa_flaws_user", team=team_description(design), failures=failures_text(failures))
    answer = ask(templates.render("sa_flaws"), user, "flaws")
    return merge_flaws(parse_flaws(answer, design), rule_flaws(design, failures))


def velocity(
    flaws: list[Flaw],
    candidates: list[Adjustment],
    failed: set[str],
    pbest_score: float | None,
    gbest_score: float | None,
    ask: Ask,
) -> list[Adjustment]:
    """Steps 2-3: drop adjustments that failed before, let the LLM pick among the rest."""
    fresh = [a for a in candidates if a.key not in failed]
    if not fresh:
        return []
    listing = "\n".join(f"{i}. {a.action} {a.target}: {a.reason}" for i, a in enumerate(fresh, start=1))
    user = templates.render(
        "sa_velocity_user",
        flaws="\n".join(f"- {f.type} ({f.role}): {f.reason}" for f in flaws) or "- none",
        failed="\n".join(f"- {k}" for k in sorted(failed)) or "- none",
        pbest_score=_fmt(pbest_score),
        gbest_score=_fmt(gbest_score),
        candidates=listing,
    )
    return choose(ask(templates.render("sa_velocity"), user, "velocity"), fresh)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def load_failures(value: Any) -> list[dict[str, Any]]:
    """The evaluator's ``failures`` attribute (a JSON string) as a list; anything else is none."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            return []
        return data if isinstance(data, list) else []
    return []
