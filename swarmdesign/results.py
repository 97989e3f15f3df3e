"""Load runs into pandas for analysis: trials, best design, Pareto front, comparisons.

This is the notebook-facing side of a run folder. It reads the Optuna study
(the single source of truth) through :mod:`swarmdesign.records`, so the
table a notebook sees is the one ``trials.csv`` holds, plus a few columns
that analysis always needs (the run, the topology kind, the evaluation
order).

Reading never writes: a run folder can be inspected while its search is
still going on. (Opening it with :meth:`swarmdesign.runner.Run.open`, by
contrast, marks in-flight trials as abandoned, which is right for resuming
and wrong for looking.)

Example:
    >>> from swarmdesign.results import load_run            # doctest: +SKIP
    >>> res = load_run("runs/r1")                            # doctest: +SKIP
    >>> res.trials[["trial", "score", "quality", "cost", "topology"]].head()  # doctest: +SKIP
    >>> res.best.to_yaml()                                   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from swarmdesign import records, yamlio
from swarmdesign.errors import SwarmdesignError
from swarmdesign.journal_index import JournalIndex
from swarmdesign.storage import CONFIG_NAME, JOURNAL_NAME, load_study, open_storage
from swarmdesign.table_cache import fresh_table, topology_and_size

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario
    from swarmdesign.space import SearchSpace

#: Prefix of the per-mechanism breakdown columns: ``loss_<kind>_<mechanism>``.
LOSS_PREFIX = "loss_"
#: Units of the loss kinds the simulator reports; other kinds are shown without a unit.
LOSS_UNITS: dict[str, str] = {"quality": "share of work", "latency": "seconds", "cost": "USD"}
#: The measure convergence is judged on by default: the scenario's declared scalarisation,
#: present in every run whatever its objectives, so runs of different optimizers compare.
DEFAULT_MEASURE = "score"
_BOOK_COLUMNS = ("trial", "state", "duration_s", "optimizer", "generation", "particle", "fail_reason")


@dataclass(frozen=True)
class Objective:
    """One objective of the study: a metric name and whether larger is better."""

    name: str
    direction: str  # "maximize" or "minimize"

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"


@dataclass
class ParetoFront:
    """The Pareto-optimal trials of a run: one table row and one Design per trial, in trial order."""

    frame: pd.DataFrame
    designs: list[Design] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.designs)

    def __iter__(self) -> Iterator[tuple[pd.Series, Design]]:
        return iter(zip((row for _, row in self.frame.iterrows()), self.designs, strict=True))


class RunResults:
    """A run folder loaded for analysis. Build it with :func:`load_run`.

    Attributes:
        path: the run folder.
        name: the run (and study) name.
        config: the run's ``config.yaml`` as a dict.
        study: the Optuna study (read it with Optuna's own tools too).
        storage: the Optuna storage the study was loaded from (for optuna-dashboard and friends).
        trials: one row per trial (see :func:`trials_table`).
        objectives: the study's objectives in order.
    """

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        study: optuna.Study | None,
        storage: BaseStorage | None,
        *,
        opener: Callable[[], tuple[optuna.Study, BaseStorage]] | None = None,
        table: pd.DataFrame | None = None,
        stamp: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.config = config
        self._study, self._storage, self._opener = study, storage, opener
        #: Facts computed from the study when trials.csv was stamped (None: ask the study).
        self._stamp = stamp
        self.name = str(config.get("name", path.name))
        self.objectives = [Objective(o["name"], o["direction"]) for o in config.get("objectives", [])]
        if table is not None and stamp is not None:
            self.trials = _table_from_csv(table, stamp, run=self.name, optimizer=self.optimizer)
        else:
            self.trials = trials_table(self.study, run=self.name, optimizer=self.optimizer)
        self._fill_score_se()

    @property
    def study(self) -> optuna.Study:
        """The Optuna study; opened on first use when the table came from a stamped ``trials.csv``."""
        if self._study is None:
            assert self._opener is not None
            self._study, self._storage = self._opener()
        return self._study

    @property
    def storage(self) -> BaseStorage:
        if self._storage is None:
            self.study  # noqa: B018 - opens both
        assert self._storage is not None
        return self._storage

    def __repr__(self) -> str:
        return (
            f"RunResults({self.name!r}, optimizer={self.optimizer!r}, trials={len(self.trials)}, "
            f"objectives={[o.name for o in self.objectives]})"
        )

    # ------------------------------------------------------------ settings
    @property
    def optimizer(self) -> str:
        return str(self.config.get("optimizer", {}).get("name", "unknown"))

    @property
    def evaluator(self) -> str:
        return str(self.config.get("evaluator", {}).get("name", "unknown"))

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def budget(self) -> int:
        return int(self.config.get("budget", 0))

    @cached_property
    def search_study(self) -> optuna.Study:
        """An in-memory copy of the study with its search trials only, for Optuna's own plots and importances.

        The recommendation stages' trials (re-scores, baselines, trims, robustness) are scored on other seeds,
        some outside the space: drawn among the search's points they would read as search results.
        """
        from swarmdesign.recommend.best import is_search

        copy = optuna.create_study(directions=self.study.directions, study_name=f"{self.name} (search)")
        copy.add_trials([t for t in self.study.get_trials(deepcopy=False) if is_search(t)])
        return copy

    @cached_property
    def space(self) -> SearchSpace:
        """The search space as the run resolved it (copied into ``config.yaml``)."""
        from swarmdesign.space import SearchSpace

        return SearchSpace.from_dict(self.config["space"]["spec"], file=str(self.path / CONFIG_NAME))

    @cached_property
    def scenario(self) -> Scenario:
        """The scenario as the run resolved it (copied into ``config.yaml``)."""
        from swarmdesign.fitness import Scenario

        return Scenario.from_dict(self.config["scenario"]["spec"], file=str(self.path / CONFIG_NAME))

    # ------------------------------------------------------------- columns
    @property
    def params(self) -> list[str]:
        """Columns holding the searched parameters (``param.<name>``)."""
        return [c for c in self.trials.columns if c.startswith("param.")]

    @property
    def metrics(self) -> list[str]:
        """Numeric metric columns, as the evaluator named them (discovered, not assumed)."""
        skip = {*_BOOK_COLUMNS, "run", "evaluation", "topology", "feasible"}
        return [
            c
            for c in self.trials.columns
            if c not in skip and not c.startswith("param.") and pd.api.types.is_numeric_dtype(self.trials[c])
        ]

    @property
    def loss_columns(self) -> list[str]:
        """The per-mechanism breakdown columns (``loss_<kind>_<mechanism>``) this run's evaluator wrote."""
        return [c for c in self.trials.columns if c.startswith(LOSS_PREFIX)]

    # ------------------------------------------------------------- designs
    @cached_property
    def best_trial(self) -> int | None:
        """Number of the best trial (see :func:`swarmdesign.records.best_trial`), or None before any finished."""
        if self._stamp is not None:
            return self._stamp["best_trial"]
        t = records.best_trial(self.study)
        return None if t is None else t.number

    @property
    def best(self) -> Design | None:
        """The best design with its metrics and provenance, as ``best.yaml`` holds it."""
        return None if self.best_trial is None else self.design(self.best_trial)

    @property
    def front_objectives(self) -> list[Objective]:
        """What :attr:`pareto` is over: the study's objectives, or the scenario's if the run searched its score."""
        named = records.front_objectives(self.config)
        return [Objective(n, d) for n, d in named] if named else self.objectives

    @cached_property
    def pareto(self) -> ParetoFront:
        """Pareto-optimal trials of the study's objectives, or of the scenario's when the run searched its score.

        A run of the score under a scenario of several objectives (the default,
        :mod:`swarmdesign.search_target`) has the front of those objectives'
        recorded metrics; a scenario of one objective, the best trial alone.
        """
        if self._stamp is not None:  # the stamp's front, its designs from their journal lines: no replay
            numbers = sorted(self._stamp["pareto"])
            designs = [self._recorded_design(n) for n in numbers]
            if all(d is not None for d in designs):
                frame = self.trials[self.trials["trial"].isin(numbers)].reset_index(drop=True)
                return ParetoFront(frame, designs)  # type: ignore[arg-type]
        front = records.pareto_trials(self.study, records.front_objectives(self.config))
        numbers = [t.number for t in front]
        frame = self.trials[self.trials["trial"].isin(numbers)].reset_index(drop=True)
        return ParetoFront(frame, [records.design_of(t, provenance=self._provenance()) for t in front])

    def design(self, trial: int) -> Design:
        """The design evaluated in trial number ``trial``."""
        if self._stamp is not None and 0 <= trial < len(self.trials):
            design = self._recorded_design(trial)
            if design is not None:
                return design
        trials = self.study.get_trials(deepcopy=False)
        if not 0 <= trial < len(trials) or "design" not in trials[trial].user_attrs:
            raise SwarmdesignError(f"no trial {trial} with a design in this run", file=str(self.path))
        return records.design_of(trials[trial], provenance=self._provenance())

    def top(self, k: int = 10, by: str = DEFAULT_MEASURE) -> pd.DataFrame:
        """The ``k`` best complete *search* trials by ``by`` (a metric), best first.

        For ``score`` the order is the one rule of "best" (feasible first, then
        the score, then the earlier trial), so the first row is the search's
        best; re-scores, baselines and trims are in :attr:`recommendation`.
        """
        direction = metric_direction(by, self.objectives)
        done = self.trials[self.trials["state"] == "COMPLETE"]
        if "stage" in done.columns:
            from swarmdesign.recommend.best import SEARCH_STAGES

            done = done[done["stage"].isna() | done["stage"].isin(SEARCH_STAGES)]
        if by not in done.columns:
            raise SwarmdesignError(f"no metric '{by}' in this run; expected one of {self.metrics}", field="by")
        if by == DEFAULT_MEASURE and "feasible" in done.columns:
            feasible = done["feasible"].astype("boolean").fillna(True).astype(bool)
            order = done.assign(_f=feasible).sort_values(["_f", by, "trial"], ascending=[False, False, True])
            return order.drop(columns="_f").head(k).reset_index(drop=True)
        return done.sort_values(by, ascending=direction != "maximize", kind="stable").head(k).reset_index(drop=True)

    # ------------------------------------------------------- recommendation
    @cached_property
    def recommendation(self) -> dict[str, Any] | None:
        """What the recommendation stages chose and why (see :mod:`swarmdesign.recommend.pipeline`), or None."""
        from swarmdesign.recommend.best import recommendation

        if self._stamp is not None:
            return self._stamp["recommendation"]
        return recommendation(self.study)

    @property
    def baselines(self) -> pd.DataFrame:
        """The baselines the recommendation was measured against, with its advantage over each and the SE."""
        cols = ["name", "trial", "score", "score_se", "cost", "agents", "advantage", "advantage_se", "beats"]
        rows = (self.recommendation or {}).get("baselines") or []
        return pd.DataFrame(rows, columns=cols).astype({"score": float, "advantage": float, "advantage_se": float})

    @property
    def robustness(self) -> pd.DataFrame:
        """Per contender under perturbed scenarios: mean score, share of wins, mean and worst regret."""
        cols = ["design", "mean_score", "win_share", "near_best_share", "mean_regret", "worst_regret"]
        table = ((self.recommendation or {}).get("robustness") or {}).get("table") or []
        return pd.DataFrame(table, columns=cols)

    def archive(self, by: str = "topology") -> pd.DataFrame:
        """Best design of each kind: per topology kind (``by="topology"``) or agent-count band (``"size"``)."""
        from swarmdesign.recommend.archive import elites

        return elites(self.trials, by)

    def losses(self, trial: int | None = None) -> pd.DataFrame:
        """Where trial ``trial`` (the best by default) loses quality, time and money, mechanism by mechanism."""
        number = self.best_trial if trial is None else trial
        if number is None:
            return loss_breakdown(pd.Series(dtype=float))
        row = self.trials.loc[self.trials["trial"] == number]
        if row.empty:
            raise SwarmdesignError(f"no trial {number} in this run", file=str(self.path))
        return loss_breakdown(row.iloc[0])

    def summary(self) -> dict[str, Any]:
        """Counts and settings a report or a notebook prints first."""
        states = self.trials["state"].value_counts().to_dict() if not self.trials.empty else {}
        return {
            "run": self.name,
            "space": self.config.get("space", {}).get("spec", {}).get("name"),
            "scenario": self.config.get("scenario", {}).get("spec", {}).get("name"),
            "optimizer": self.optimizer,
            "evaluator": self.evaluator,
            "seed": self.seed,
            "budget": self.budget,
            "finished": self._finished(),
            "complete": int(states.get("COMPLETE", 0)),
            "failed": int(states.get("FAIL", 0)),
            "objectives": ", ".join(f"{o.name} ({o.direction})" for o in self.objectives),
            "pareto_size": len(self._stamp["pareto"]) if self._stamp is not None else len(self.pareto),
            "best_trial": self.best_trial,
            "created": self.config.get("created"),
            "version": self.config.get("versions", {}).get("swarmdesign"),
        }

    def _finished(self) -> int:
        if self._stamp is not None:
            return len(self.trials) - len(self._stamp["uncounted"])
        return len(records.finished_trials(self.study))

    def _fill_score_se(self) -> None:
        """Every score gets an SE: stage trials carry their own; a search score (one seed) gets the
        spread of one evaluation measured when the top designs were re-scored."""
        if self.trials.empty or "score" not in self.trials.columns:
            return
        sd = (self.recommendation or {}).get("search_score_sd")
        se = (
            self.trials["score_se"]
            if "score_se" in self.trials.columns
            else pd.Series(math.nan, index=self.trials.index)
        )
        se = pd.to_numeric(se, errors="coerce")
        if sd is not None:
            se = se.where(se.notna() | self.trials["score"].isna(), float(sd))
        self.trials["score_se"] = se.astype(float)

    def _recorded_design(self, trial: int) -> Design | None:
        """Trial ``trial``'s design from its own journal line, or None when that line is not the whole trial.

        Why: a stamped run's table is read without Optuna's replay (1.5 s for
        10^5 trials, against 35 s and 2.3 GB to open the study), and one
        design needs only its line (:mod:`swarmdesign.journal_index`).
        """
        if self._journal_index is None:
            return None
        log = self._journal_index.record(trial)
        if log is None or not isinstance(log["user_attrs"].get("design"), str):
            return None
        return records.design_from_attrs(trial, log["user_attrs"], provenance=self._provenance())

    @cached_property
    def _journal_index(self) -> JournalIndex | None:
        if self._stamp is None:
            return None
        return JournalIndex.scan(self.path / JOURNAL_NAME)

    def _provenance(self) -> dict[str, Any]:
        c = self.config
        return {
            "space": c.get("space", {}).get("spec", {}).get("name"),
            "scenario": c.get("scenario", {}).get("spec", {}).get("name"),
            "optimizer": self.optimizer,
            "evaluator": self.evaluator,
            "seed": self.seed,
            "run": self.name,
            "version": c.get("versions", {}).get("swarmdesign"),
        }


# ---------------------------------------------------------------- loading
def load_run(path: str | Path | RunResults, *, storage: str | None = None) -> RunResults:
    """Load a run folder for analysis (read-only).

    Args:
        path: the run folder (``runs/<name>``); a :class:`RunResults` is returned as is.
        storage: the storage URL when the study lives elsewhere and its
            password was not stored in ``config.yaml``.

    Raises:
        SwarmdesignError: not a run folder, or its study cannot be opened.
    """
    if isinstance(path, RunResults):
        return path
    run_dir = Path(path)
    config_path = run_dir / CONFIG_NAME
    if not config_path.exists():
        raise SwarmdesignError(f"not a run folder (no {CONFIG_NAME})", file=str(run_dir))
    config = yamlio.load_file(config_path)
    if not isinstance(config, dict) or "study_name" not in config:
        raise SwarmdesignError("expected a run config with 'study_name'", file=str(config_path))
    url = storage or config.get("storage")
    if url and "***" in url:
        raise SwarmdesignError(
            "the run's storage URL has a password that is not stored; pass storage= with the full URL",
            file=str(config_path),
            field="storage",
        )
    if url is None:
        cached = fresh_table(run_dir)
        if cached is not None:
            return RunResults(
                run_dir, config, None, None, opener=lambda: _open_study(run_dir, config, url), table=cached[0],
                stamp=cached[1],
            )  # fmt: skip
    study, store = _open_study(run_dir, config, url)
    return RunResults(run_dir, config, study, store)


def _open_study(run_dir: Path, config: dict[str, Any], url: str | None) -> tuple[optuna.Study, BaseStorage]:
    # Unbuffered: this process only reads, and must see what a live run has flushed.
    store = open_storage(run_dir, url, buffered=False)
    return load_study(store, config["study_name"]), store.storage


def trials_table(study: optuna.Study, *, run: str | None = None, optimizer: str | None = None) -> pd.DataFrame:
    """:func:`swarmdesign.records.trials_frame` plus the columns analysis needs.

    Added: ``run``; ``optimizer`` filled with the run's optimizer where the
    trial did not record one (Optuna samplers leave it unset); ``topology``
    (the design's topology kind, whatever the space calls its parameter);
    ``agents`` for failed trials too; ``evaluation``, the 1-based position of
    the trial among those that count toward the budget (missing for abandoned
    trials), which is the x axis of every convergence plot.
    """
    frame = records.trials_frame(study)
    if frame.empty:
        return pd.DataFrame(columns=[*_BOOK_COLUMNS, "run", "evaluation", "topology"])
    trials = study.get_trials(deepcopy=False)
    kinds, agents = zip(*(topology_and_size(t) for t in trials), strict=True)
    counted = [records.is_finished(t) for t in trials]
    return _add_columns(frame, run, optimizer, list(kinds), list(agents), counted)


def _table_from_csv(
    frame: pd.DataFrame, stamp: dict[str, Any], *, run: str | None, optimizer: str | None
) -> pd.DataFrame:
    """:func:`trials_table` from ``trials.csv`` and its stamp (:mod:`swarmdesign.table_cache`), same columns."""
    if frame.empty:
        return pd.DataFrame(columns=[*_BOOK_COLUMNS, "run", "evaluation", "topology"])
    n = len(frame)
    kinds = frame["param.topology.kind"].tolist() if "param.topology.kind" in frame.columns else [None] * n
    kinds = [None if isinstance(k, float) else k for k in kinds]
    agents = frame["agents"].astype(float).tolist() if "agents" in frame.columns else [math.nan] * n
    for number, (kind, size) in stamp["fill"].items():
        kinds[int(number)] = kind
        agents[int(number)] = math.nan if size is None else float(size)
    counted = [True] * n
    for number in stamp["uncounted"]:
        counted[number] = False
    return _add_columns(frame, run, optimizer, kinds, agents, counted)


def _add_columns(
    frame: pd.DataFrame,
    run: str | None,
    optimizer: str | None,
    kinds: list[str | None],
    agents: list[float],
    counted: list[bool],
) -> pd.DataFrame:
    frame.insert(1, "run", run)
    frame["optimizer"] = frame["optimizer"].where(frame["optimizer"].notna(), optimizer)
    frame["topology"] = kinds
    if "agents" not in frame.columns:
        frame["agents"] = agents
    else:
        frame["agents"] = frame["agents"].where(frame["agents"].notna(), pd.Series(agents, index=frame.index))
    position = np.cumsum(counted)
    evaluation = [int(p) if c else None for c, p in zip(counted, position, strict=True)]
    frame.insert(3, "evaluation", pd.array(evaluation, dtype="Int64"))
    return frame


# ----------------------------------------------------------- comparisons
def compare_runs(runs: Iterable[str | Path | RunResults], *, measure: str = DEFAULT_MEASURE) -> pd.DataFrame:
    """Stack the trials of several runs for optimizer comparisons.

    One row per trial of every run, with ``run``, ``optimizer``, ``seed``,
    ``space``, ``scenario`` and ``evaluation`` first, and ``best_so_far``:
    the best ``measure`` (``score`` by default, the scenario's
    scalarisation) among the run's evaluations up to this one. Runs of
    different spaces can be stacked; their ``param.*`` columns simply do not
    line up.
    """
    frames = []
    for item in runs:
        res = load_run(item)
        frame = res.trials.copy()
        frame.insert(2, "seed", res.seed)
        frame.insert(3, "space", res.config.get("space", {}).get("spec", {}).get("name"))
        frame.insert(4, "scenario", res.config.get("scenario", {}).get("spec", {}).get("name"))
        frame["best_so_far"] = best_so_far(frame, measure, metric_direction(measure, res.objectives))
        frames.append(frame)
    if not frames:
        raise SwarmdesignError("expected at least one run folder to compare")
    return pd.concat(frames, ignore_index=True)


def best_so_far(frame: pd.DataFrame, measure: str = DEFAULT_MEASURE, direction: str = "maximize") -> pd.Series:
    """Best ``measure`` among the trials counted so far (in evaluation order); NaN before the first."""
    if measure not in frame.columns:
        return pd.Series(math.nan, index=frame.index, dtype=float)
    values = pd.to_numeric(frame[measure], errors="coerce").astype(float)
    values = values.where(frame["evaluation"].notna() & (frame["state"] == "COMPLETE"))
    order = frame["evaluation"].astype("Float64").fillna(np.inf).to_numpy(dtype=float).argsort(kind="stable")
    ordered = values.iloc[order]
    running = ordered.cummax() if direction == "maximize" else ordered.cummin()
    running = running.ffill()
    out = running.reindex(frame.index)
    return out.where(frame["evaluation"].notna())


def metric_direction(name: str, objectives: Sequence[Objective] = ()) -> str:
    """Whether larger ``name`` is better: the study's objective if it is one, else the core metric's rule."""
    from swarmdesign.fitness import CORE_METRICS

    for o in objectives:
        if o.name == name:
            return o.direction
    if name in CORE_METRICS:
        return CORE_METRICS[name]
    return "minimize" if name.startswith(LOSS_PREFIX) else "maximize"


def pareto_mask(frame: pd.DataFrame, objectives: Mapping[str, str]) -> pd.Series:
    """True for the rows no other row dominates on ``objectives`` (name -> direction).

    Rows with a missing objective are never on the front. Used for the 2-D
    quality/cost front, which is worth drawing even when the study itself
    optimised one scalar score.
    """
    names = list(objectives)
    values = frame[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    signs = np.array([1.0 if objectives[n] == "maximize" else -1.0 for n in names])
    oriented = values * signs  # larger is better in every column
    valid = np.isfinite(oriented).all(axis=1)
    mask = np.zeros(len(frame), dtype=bool)
    idx = np.flatnonzero(valid)
    pts = oriented[idx]
    for k, i in enumerate(idx):
        dominated = np.any(np.all(pts >= pts[k], axis=1) & np.any(pts > pts[k], axis=1))
        mask[i] = not dominated
    return pd.Series(mask, index=frame.index)


def loss_breakdown(row: pd.Series | Mapping[str, Any]) -> pd.DataFrame:
    """The ``loss_<kind>_<mechanism>`` values of one trial as a long table.

    Columns: ``kind`` (quality, latency, cost, ...), ``mechanism``, ``value``
    (what the mechanism cost; negative = it helped), ``unit``. The kinds and
    mechanisms come from the columns present, so a new mechanism in the
    simulator shows up without a change here.
    """
    rows = []
    for key, value in dict(row).items():
        if not isinstance(key, str) or not key.startswith(LOSS_PREFIX):
            continue
        kind, _, mechanism = key[len(LOSS_PREFIX) :].partition("_")
        number = pd.to_numeric(value, errors="coerce")
        if not mechanism or pd.isna(number):
            continue
        rows.append({"kind": kind, "mechanism": mechanism, "value": float(number), "unit": LOSS_UNITS.get(kind, "")})
    return pd.DataFrame(rows, columns=["kind", "mechanism", "value", "unit"])


__all__ = [
    "DEFAULT_MEASURE",
    "Objective",
    "ParetoFront",
    "RunResults",
    "best_so_far",
    "compare_runs",
    "load_run",
    "loss_breakdown",
    "metric_direction",
    "pareto_mask",
    "trials_table",
]
