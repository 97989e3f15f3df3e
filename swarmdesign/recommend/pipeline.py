"""The recommendation stages after a search, in order, resumable.

1. **Re-score** the top ``top`` distinct search designs on ``seeds`` fresh
   seeds (and, for an evaluator with Monte-Carlo ``replicas``, ``replicas_factor``
   times more of them) and pick the winner on those scores: the search's own
   top score is biased upward (winner's curse: it is the maximum of many noisy
   estimates).
2. **Confirm** the winner on a second set of fresh seeds. Its estimate is
   then unbiased (the seeds played no part in choosing it); the baselines
   and trim steps are scored on the same seeds, so every comparison is paired.
3. **Baselines**: one agent per model; each model's self-consistency at the winner's cost.
4. **Trim** the winner (:mod:`swarmdesign.recommend.trim`).
5. **Verdict**: the trimmed design's advantage over the best baseline, with
   its standard error from the per-seed differences. If it is not above zero
   by two standard errors, the baseline is recommended and the run says so.

The recommendation is stored in the study (user attribute
``recommendation``), and from then on it *is* the run's best design
(:mod:`swarmdesign.recommend.best`); ``best.yaml`` is rewritten from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError
from swarmdesign.recommend import baselines as _baselines
from swarmdesign.recommend.best import RECOMMENDATION_ATTR, best_search_trial, is_search, trial_key
from swarmdesign.recommend.effort import FLOOR_S
from swarmdesign.recommend.scoring import (
    Scored,
    StageTrials,
    fingerprint,
    fresh_seeds,
    paired_difference,
    rescoring_evaluator,
    score_designs,
)
from swarmdesign.recommend.trim import agents, default_tolerance, trim

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.runner import Run

#: Key of the options in the run's ``config.yaml``.
CONFIG_KEY = "recommend"
#: Options the sizing by cost may reduce when the user did not set them.
AUTO_FIELDS = ("top", "seeds", "replicas_factor", "trim")
#: A design beats a baseline "beyond noise" when its advantage exceeds this many standard errors.
Z_BEYOND_NOISE = 2.0


@dataclass
class RecommendOptions:
    """How much effort the recommendation stages spend (stored in ``config.yaml``)."""

    enabled: bool = True
    top: int = 5
    seeds: int = 8
    replicas_factor: int = 4
    trim_tolerance: float | None = None
    robustness: int = 0
    fill_archive: int = 0
    #: Options the user left to the sizing by cost (:mod:`swarmdesign.recommend.effort`): any of
    #: ``top``, ``seeds``, ``replicas_factor``, ``trim``. Empty: the values above are used as given.
    auto: list[str] = field(default_factory=list)
    #: The stages' cost cap as a share of the search's evaluation time (when ``auto`` is not empty).
    effort_share: float = 1.0
    #: ... but never below this many seconds (below it nobody waits; see ``effort.FLOOR_S``).
    effort_floor_s: float = FLOOR_S

    def check(self) -> RecommendOptions:
        """Refuse bad values with the option that holds them (before a run folder exists)."""
        if self.top < 1:
            raise SwarmdesignError(f"expected K >= 1, got {self.top}", field="--rescore-top")
        if not 2 <= self.seeds <= 1000:
            raise SwarmdesignError(f"expected 2..1000 seeds, got {self.seeds}", field="--rescore-seeds")
        if self.trim_tolerance is not None and not (math.isfinite(self.trim_tolerance) and self.trim_tolerance >= 0):
            raise SwarmdesignError(
                f"expected a score difference >= 0, got {self.trim_tolerance}", field="--trim-tolerance"
            )
        if not 0 <= self.robustness <= 10_000:
            raise SwarmdesignError(f"expected 0..10000 scenarios, got {self.robustness}", field="--robustness")
        if not 0 <= self.fill_archive <= 100_000:
            raise SwarmdesignError(f"expected 0..100000 evaluations per kind, got {self.fill_archive}",
                                   field="--fill-archive")  # fmt: skip
        unknown = set(self.auto) - set(AUTO_FIELDS)
        if unknown:
            raise SwarmdesignError(f"expected some of {', '.join(AUTO_FIELDS)}, got {sorted(unknown)}",
                                   field="recommend.auto")  # fmt: skip
        if not (math.isfinite(self.effort_share) and self.effort_share > 0):
            raise SwarmdesignError(f"expected a share > 0, got {self.effort_share}", field="recommend.effort_share")
        if not (math.isfinite(self.effort_floor_s) and self.effort_floor_s >= 0):
            raise SwarmdesignError(
                f"expected seconds >= 0, got {self.effort_floor_s}", field="recommend.effort_floor_s"
            )
        if self.replicas_factor < 1:
            raise SwarmdesignError(f"expected >= 1, got {self.replicas_factor}", field="recommend.replicas_factor")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RecommendOptions:
        raw = config.get(CONFIG_KEY)
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise SwarmdesignError("expected a mapping", field=CONFIG_KEY)
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known).check()
        except TypeError as exc:
            raise SwarmdesignError(f"bad recommendation options: {exc}", field=CONFIG_KEY) from None


def store_options(run: Run, options: RecommendOptions) -> None:
    """Keep the options in ``config.yaml`` so ``resume`` runs the same stages."""
    from swarmdesign import yamlio
    from swarmdesign.storage import CONFIG_NAME, write_atomic

    run.config[CONFIG_KEY] = options.to_dict()
    write_atomic(run.run_dir / CONFIG_NAME, yamlio.dumps(run.config))


def recommend(run: Run, options: RecommendOptions | None = None, *, log: Callable[[str], None] = print) -> dict:
    """Run the stages (reusing every stage trial already in the study) and store the recommendation."""
    opts = options or RecommendOptions.from_config(run.config)
    trials = run.trials.trials()
    if best_search_trial(trials) is None:
        raise SwarmdesignError("no complete search trial to recommend from", file=str(run.run_dir))
    opts, trim_budget, effort_note = _sized(run, opts, trials)
    evaluator = rescoring_evaluator(run, opts.replicas_factor)
    stage = StageTrials(run)
    seed = int(run.config["seed"])
    select_seeds = fresh_seeds(seed, "select", opts.seeds)
    report_seeds = fresh_seeds(seed, "report", opts.seeds)
    scenario = run.scenario

    def scored(stage_name: str, keyed: Sequence[tuple[str, Design]], seeds: list[int], **attrs: Any) -> list[Scored]:
        """Scores of ``keyed`` designs: recorded ones read back, the rest evaluated in one batch and recorded."""
        out: list[Scored | None] = [stage.get(k) for k, _ in keyed]
        todo = [i for i, s in enumerate(out) if s is None]
        if todo:
            fresh = score_designs(evaluator, [keyed[i][1] for i in todo], scenario, seeds)
            for i, s in zip(todo, fresh, strict=True):
                s.attrs.update({f"rec_{k}": v for k, v in attrs.items()})
                out[i] = s
            stage.record(stage_name, [(keyed[i][0], out[i]) for i in todo])  # type: ignore[misc]
        return [s for s in out if s is not None]

    # 1. re-score the top distinct search designs on fresh seeds; choose on those
    candidates = _top_distinct(trials, opts.top)
    log(f"re-scoring the top {len(candidates)} designs on {opts.seeds} fresh seeds")
    rescored = scored(
        "rescore",
        [(f"rescore:{t.number}", _design(t)) for t in candidates],
        select_seeds,
    )
    usable = [(t, s) for t, s in zip(candidates, rescored, strict=True) if s.ok]
    if not usable:
        raise SwarmdesignError("every re-scored design failed; see fail_reason in trials.csv", file=str(run.run_dir))
    win_trial, _ = max(usable, key=lambda ts: (ts[1].feasible, ts[1].mean, -ts[0].number))

    # 2. confirm the winner on independent seeds: an unbiased estimate, and the seeds of every comparison
    (winner,) = scored("rescore", [(f"confirm:{win_trial.number}", _design(win_trial))], report_seeds, confirm=True)

    # 3. baselines on the same seeds
    models = _baselines.space_models(run.space)
    singles = scored(
        "baseline",
        [(f"baseline:single:{m}", _baselines.single_agent(run.space, m)) for m in models],
        report_seeds,
        baseline="single agent",
    )
    named_baselines = [(f"single agent ({m})", s) for m, s in zip(models, singles, strict=True)]
    # self-consistency of every model at no more than the winner's cost (k votes cost k single calls); the
    # count each model gets is its best-scoring affordable one, kept from an earlier pass on a resume
    win_cost = float(winner.metrics.get("cost", math.inf))
    counts = {
        m: _baselines.affordable_votes(float(s.metrics.get("cost", math.nan)), win_cost)
        for m, s in zip(models, singles, strict=True)
        if s.ok
    }
    votes = {m: k for m in counts if (k := _recorded_votes(stage, m)) is not None and k in counts[m]}
    probed, probe_designs = _baselines.best_votes(
        evaluator, run.space, scenario, report_seeds[0], {m: ks for m, ks in counts.items() if m not in votes}
    )
    votes.update(probed)
    voting = [(m, votes[m]) for m in models if m in votes]
    if voting:
        samples = scored(
            "baseline",
            [(f"baseline:vote:{m}:k{k}", _baselines.single_agent(run.space, m, k)) for m, k in voting],
            report_seeds,
            baseline="self-consistency",
        )
        named_baselines += [(f"self-consistency ({m}, k={k})", s) for (m, k), s in zip(voting, samples, strict=True)]
    else:
        log(f"self-consistency: no model affords 3 votes within the winner's cost ({win_cost:.4g})")

    # 4. trim the winner on the same seeds
    tol = opts.trim_tolerance if opts.trim_tolerance is not None else default_tolerance(winner.se)
    log(f"trimming the winner ({agents(winner.design):,} agents) within {tol:.4g} of its score")
    trimmed = trim(
        winner,
        run.space,
        lambda ds: scored("trim", [(f"trim:{fingerprint(d)}", d) for d in ds], report_seeds),
        tolerance=tol,
        budget=trim_budget,
    )
    final = trimmed.final

    # 5. verdict against the baselines
    rows = []
    for name, b in named_baselines:
        adv, adv_se = paired_difference(final, b) if b.ok else (math.nan, math.nan)
        rows.append(
            {
                "name": name,
                "trial": b.trial,
                "score": b.mean,
                "score_se": b.se,
                "cost": b.metrics.get("cost"),
                "agents": b.agents,
                "advantage": adv,
                "advantage_se": adv_se,
                "beats": bool(math.isfinite(adv) and adv - Z_BEYOND_NOISE * adv_se > 0),
            }
        )
    valid = [r for r in rows if math.isfinite(r["score"])]
    best_base = max(valid, key=lambda r: r["score"]) if valid else None
    beats = best_base is None or best_base["beats"]
    if beats:
        chosen_trial, kind = final.trial, "design"
        verdict = (
            f"The searched design beats the best baseline, {best_base['name']}, by "
            f"{best_base['advantage']:+.4f} ± {best_base['advantage_se']:.2g} (SE)."
            if best_base
            else "No baseline could be scored."
        )
    else:
        assert best_base is not None
        chosen_trial, kind = best_base["trial"], "baseline"
        verdict = (
            f"The searched design does not beat the best baseline beyond noise: its advantage over "
            f"{best_base['name']} is {best_base['advantage']:+.4f} ± {best_base['advantage_se']:.2g} (SE). "
            f"Recommended: the baseline."
        )
    rec: dict[str, Any] = {
        "trial": chosen_trial,
        "kind": kind,
        "verdict": verdict,
        "rule": (
            f"top {len(candidates)} search designs re-scored on {opts.seeds} fresh seeds; the winner confirmed on "
            f"{opts.seeds} other seeds, trimmed within {tol:.4g}, and compared with the baselines on those seeds; "
            f"a design beats a baseline when its advantage exceeds {Z_BEYOND_NOISE:g} standard errors"
        ),
        "seeds": opts.seeds,
        "effort": effort_note,
        "search_trial": win_trial.number,
        "search_score": float(win_trial.user_attrs.get("score", math.nan)),
        "search_score_sd": _single_eval_sd(rescored),
        "winner_trial": winner.trial,
        "winner_score": winner.mean,
        "winner_score_se": winner.se,
        "trimmed_trial": final.trial,
        "trimmed_score": final.mean,
        "trimmed_score_se": final.se,
        "agents_before": agents(winner.design),
        "agents_after": agents(final.design),
        "trim_delta": trimmed.delta,
        "trim_tolerance": tol,
        "trim_steps": [label for label, _ in trimmed.steps],
        "candidates": [
            {
                "search_trial": t.number,
                "search_score": float(t.user_attrs.get("score", math.nan)),
                "trial": s.trial,
                "score": s.mean,
                "score_se": s.se,
            }
            for t, s in zip(candidates, rescored, strict=True)
        ],
        "baselines": rows,
        "vote_probe_designs": probe_designs,
        "best_baseline": None if best_base is None else best_base["name"],
        "advantage": None if best_base is None else best_base["advantage"],
        "advantage_se": None if best_base is None else best_base["advantage_se"],
        "beats_baseline": bool(beats),
    }
    rec = _json_safe(rec)
    run.trials.set_study_attr(RECOMMENDATION_ATTR, rec)
    run.store.flush()
    run.write_outputs()
    return rec


def _sized(run: Run, opts: RecommendOptions, trials: Sequence[Any]) -> tuple[RecommendOptions, int | None, str | None]:
    """``opts`` with the effort the search's cost allows (:mod:`swarmdesign.recommend.effort`), the trim bound,
    and the line saying what was reduced (kept in the recommendation, so ``run -q`` and ``show`` print it)."""
    if not opts.auto:
        return opts, None, None
    from swarmdesign.recommend import effort

    search_s, n_search = effort.search_seconds(trials)
    factor = (
        opts.replicas_factor if isinstance((run.config["evaluator"].get("params") or {}).get("replicas"), int) else 1
    )
    sized = effort.plan(
        top=opts.top, seeds=opts.seeds, replicas_factor=factor, auto=opts.auto,
        n_models=len(_baselines.space_models(run.space)), search_s=search_s, n_search=n_search,
        robustness=opts.robustness, share=opts.effort_share, floor_s=opts.effort_floor_s,
    )  # fmt: skip
    rf = sized.replicas_factor if factor > 1 else opts.replicas_factor
    return replace(opts, top=sized.top, seeds=sized.seeds, replicas_factor=rf), sized.trim_designs, sized.message()


def _top_distinct(trials: Sequence[Any], k: int) -> list[Any]:
    """The ``k`` best search trials by the one rule, one per distinct design."""
    ranked = sorted((t for t in trials if is_search(t) and trial_key(t) is not None), key=trial_key, reverse=True)
    out, seen = [], set()
    for t in ranked:
        fp = fingerprint(_design(t))
        if fp in seen:
            continue
        seen.add(fp)
        out.append(t)
        if len(out) == k:
            break
    return out


def _design(trial: Any) -> Design:
    import json

    from swarmdesign.design import Design

    return Design.from_dict(json.loads(trial.user_attrs["design"]))


def _recorded_votes(stage: StageTrials, model: str) -> int | None:
    """The vote count an earlier pass chose for ``model`` (its key ``baseline:vote:<model>:k<k>``), else None."""
    prefix = f"baseline:vote:{model}:k"
    found = [key[len(prefix) :] for key in stage.recorded_keys() if key.startswith(prefix)]
    return int(found[0]) if len(found) == 1 and found[0].isdigit() else None


def _single_eval_sd(rescored: Sequence[Scored]) -> float:
    """Spread of one evaluation's score (median over the re-scored designs): the SE of a search score."""
    import numpy as np

    sds = [float(np.nanstd(s.scores, ddof=1)) for s in rescored if np.isfinite(s.scores).sum() >= 2]
    return float(np.median(sds)) if sds else math.nan


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value


__all__ = ["AUTO_FIELDS", "CONFIG_KEY", "RecommendOptions", "recommend", "rescoring_evaluator", "store_options"]
