"""Filling the archive: real search effort for every topology kind, not leftovers.

An optimizer converges on one kind of design; the other kinds in the archive
(:mod:`swarmdesign.recommend.archive`) then hold whatever it visited on the
way, and "the best star" is really "the first star it tried". With
``--fill-archive N`` the run spends ``N`` extra evaluations on every topology
kind the space allows, after the search and before the recommendation: half
are mutations of that kind's current elite (each unit coordinate moved by a
Gaussian step of 0.15, the kind held fixed), half fresh random designs of
that kind, so a kind the search never tried still gets explored. Rounds of
``batch`` designs keep the mutations following the improving elite.

These trials are marked ``stage: archive``. They count as search designs for
the archive and for the choice of candidates to re-score (a better design
found here can be recommended), but not toward the search budget. Each is
recorded before the next round is drawn; the draws are seeded, so a resumed
run redraws the same designs and finds them already recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.recommend.best import STAGE_ATTR, trial_key
from swarmdesign.recommend.scoring import StageTrials, fresh_seeds, score_designs

if TYPE_CHECKING:
    from swarmdesign.runner import Run

STAGE = "archive"
STEP = 0.15
BATCH = 16


def fill_archive(run: Run, per_kind: int, *, log: Callable[[str], None] = print) -> int:
    """Spend ``per_kind`` evaluations on each topology kind; return how many were evaluated now (not reused)."""
    space = run.space
    kinds = list(space.spec.topology.kinds)
    if per_kind < 1 or "topology.kind" not in space.distributions():
        return 0
    stage = StageTrials(run)
    seed = int(run.config["seed"])
    rng = np.random.default_rng(fresh_seeds(seed, "fill-archive", 1)[0])
    evaluated = 0
    log(f"filling the archive: {per_kind} evaluations for each of {len(kinds)} topology kinds")
    for kind in kinds:
        done = 0
        while done < per_kind:
            n = min(BATCH, per_kind - done)
            elite = _elite_vector(run, kind)
            xs = rng.random((n, space.dim))
            if elite is not None:
                half = n // 2
                xs[:half] = np.clip(elite + rng.normal(0.0, STEP, (half, space.dim)), 0.0, 1.0)
            keys = [f"{STAGE}:{kind}:{done + i}" for i in range(n)]
            designs = []
            for x in xs:
                params = space.vector_to_params(x)
                params["topology.kind"] = kind
                designs.append(space.decode_params(params))
            todo = [i for i, k in enumerate(keys) if stage.get(k) is None]
            if todo:
                scored = score_designs(run.evaluator, [designs[i] for i in todo], run.scenario, [seed])
                stage.record(STAGE, [(keys[i], s) for i, s in zip(todo, scored, strict=True)])
                evaluated += len(todo)
            done += n
    return evaluated


def _elite_vector(run: Run, kind: str) -> np.ndarray | None:
    """The unit-box point of the best design of ``kind`` so far (search or archive trials)."""
    best, best_key = None, None
    for t in run.trials.trials():
        stage = t.user_attrs.get(STAGE_ATTR)
        if stage not in (None, STAGE):
            continue
        key = trial_key(t)  # before the design: a trial rebuilt from trials.csv reads it from the journal
        if key is None or (best_key is not None and key <= best_key) or "design" not in t.user_attrs:
            continue
        t_kind = t.params.get("topology.kind") or json.loads(t.user_attrs["design"])["topology"]["kind"]
        if t_kind != kind:
            continue
        best, best_key = t, key
    if best is None:
        return None
    try:
        return run.space.params_to_vector(run.space.design_to_params(_design(best)))
    except Exception:  # noqa: BLE001 - a design the space cannot encode has no elite point
        return None


def _design(trial):  # noqa: ANN001, ANN202
    from swarmdesign.design import Design

    return Design.from_dict(json.loads(trial.user_attrs["design"]))


__all__ = ["STAGE", "fill_archive"]
