"""What the static and the interactive plots share: inputs, colours, importances.

Both back ends draw the same pictures from the same numbers, so the numbers
(convergence curves, the 2-D front, importances, a role layout) are
computed here once and the back ends only draw.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from swarmdesign.archetypes import HUB_KINDS, STAGE_OF, STAGES, TOPOLOGY_KINDS
from swarmdesign.results import (
    DEFAULT_MEASURE,
    RunResults,
    compare_runs,
    load_run,
    loss_breakdown,
    metric_direction,
    pareto_mask,
)

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from swarmdesign.design import Design

RunsLike = RunResults | str | Path | pd.DataFrame | Sequence[RunResults | str | Path]

#: One colour per topology kind (matplotlib's tab10, then grey), the same in every plot.
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
TOPOLOGY_COLOURS: dict[str, str] = {kind: _PALETTE[i % len(_PALETTE)] for i, kind in enumerate(TOPOLOGY_KINDS)}
STAGE_COLOURS: dict[str, str] = {"plan": "#c6dbef", "produce": "#c7e9c0", "check": "#fdd0a2", "merge": "#dadaeb"}
OTHER_COLOUR = "#7f7f7f"
#: Mechanisms drawn with a non-zero value below this share of the panel's largest one are "no effect".
NEGLIGIBLE_SHARE = 1e-4


def topology_colour(kind: object) -> str:
    return TOPOLOGY_COLOURS.get(str(kind), OTHER_COLOUR)


# ----------------------------------------------------------- convergence
def convergence_frame(runs: RunsLike, measure: str = DEFAULT_MEASURE) -> pd.DataFrame:
    """``compare_runs`` output for one or several runs (a stacked frame is used as is)."""
    if isinstance(runs, pd.DataFrame):
        if "best_so_far" not in runs.columns:
            raise ValueError("expected a frame from swarmdesign.results.compare_runs (no 'best_so_far' column)")
        return runs
    items = [runs] if isinstance(runs, RunResults | str | Path) else list(runs)
    return compare_runs(items, measure=measure)


@dataclass
class ConvergenceGroup:
    """The best-so-far curves of the runs of one optimizer, aligned on the evaluation count."""

    optimizer: str
    evaluations: np.ndarray  # shape (n_evaluations,), 1-based
    curves: np.ndarray  # shape (n_runs, n_evaluations); NaN past a run's end or before its first success
    runs: list[str]

    @property
    def median(self) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            return np.nanmedian(self.curves, axis=0)

    def band(self) -> tuple[np.ndarray, np.ndarray, str]:
        """Interquartile range with three runs or more, else min-max; and what it is called."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.curves.shape[0] >= 3:
                low, high = np.nanpercentile(self.curves, [25, 75], axis=0)
                return low, high, "interquartile range"
            return np.nanmin(self.curves, axis=0), np.nanmax(self.curves, axis=0), "min-max"


def convergence_groups(frame: pd.DataFrame) -> list[ConvergenceGroup]:
    """Group a stacked frame by optimizer, one best-so-far curve per run."""
    counted = frame[frame["evaluation"].notna()]
    groups = []
    for optimizer, sub in counted.groupby("optimizer", sort=True):
        n = int(sub["evaluation"].max())
        names = list(dict.fromkeys(sub["run"]))
        curves = np.full((len(names), n), np.nan)
        for i, name in enumerate(names):
            one = sub[sub["run"] == name]
            idx = one["evaluation"].astype(int).to_numpy() - 1
            curves[i, idx] = one["best_so_far"].to_numpy(dtype=float)
        groups.append(ConvergenceGroup(str(optimizer), np.arange(1, n + 1), curves, names))
    return groups


def readable_limits(values: np.ndarray, curves: np.ndarray, maximize: bool) -> tuple[float, float] | None:
    """Y limits that show every curve and most trials, cutting off the worst 20 % of trials.

    A few designs score far worse than the rest (a score of -5 next to 0.7);
    drawing them all would flatten the curves into a line.
    """
    values = values[np.isfinite(values)]
    curves = curves[np.isfinite(curves)]
    if curves.size == 0:
        return None
    everything = np.concatenate([values, curves])
    if maximize:
        low = min(float(curves.min()), float(np.percentile(values, 20)) if values.size else math.inf)
        high = float(everything.max())
    else:
        low = float(everything.min())
        high = max(float(curves.max()), float(np.percentile(values, 80)) if values.size else -math.inf)
    pad = 0.05 * ((high - low) or abs(high) or 1.0)
    return low - pad, high + pad


# ------------------------------------------------------------------ front
def front_frame(res: RunResults, x: str, y: str) -> pd.DataFrame:
    """Complete search trials with ``x`` and ``y``, and ``on_front``: non-dominated among the feasible ones.

    Feasible designs first, as :func:`swarmdesign.records.pareto_trials` and the best rule have it. Stage
    trials (re-scores, baselines, trims) are left out: they are multi-seed averages of designs already shown,
    or baselines outside the search. The plots mark the recommendation with :func:`best_row`.
    """
    done = res.trials[(res.trials["state"] == "COMPLETE") & search_mask(res.trials)].copy()
    for col in (x, y):
        if col not in done.columns:
            raise ValueError(f"no metric '{col}' in run {res.name}")
    feasible = done["feasible"].astype(bool) if "feasible" in done.columns else pd.Series(True, index=done.index)
    if not feasible.any():
        feasible = pd.Series(True, index=done.index)
    done["feasible_"] = feasible
    mask = pareto_mask(done[feasible], {x: metric_direction(x, res.objectives), y: metric_direction(y, res.objectives)})
    done["on_front"] = False
    done.loc[mask[mask].index, "on_front"] = True
    return done


def search_mask(frame: pd.DataFrame) -> pd.Series:
    """Rows of search trials (the archive fill counts as search), as :func:`swarmdesign.recommend.best.is_search`."""
    from swarmdesign.recommend.best import SEARCH_STAGES

    if "stage" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return frame["stage"].isna() | frame["stage"].isin(SEARCH_STAGES)


def best_row(res: RunResults, x: str, y: str) -> tuple[pd.DataFrame, str]:
    """The run's best trial (the recommendation once there is one) as a one-row frame, and what to call it."""
    number = res.best_trial
    if number is None:
        return res.trials.iloc[0:0], "best"
    row = res.trials[res.trials["trial"] == number]
    row = row[row[x].notna() & row[y].notna()] if x in row.columns and y in row.columns else row.iloc[0:0]
    return row, "recommended" if res.recommendation is not None else "best"


def log_scale_wanted(values: pd.Series) -> bool:
    """Log axis when every value is positive and they span more than two decades."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    return bool(v.size and (v > 0).all() and v.max() / v.min() > 100)


# ------------------------------------------------------------ importances
#: Per-run results computed once for all the plots of a report (the plot study, importances), keyed by
#: ``id(run)`` and dropped when the run object is collected.
_PER_RUN: dict[int, dict[Any, Any]] = {}


def _per_run(res: RunResults, key: Any, build: Callable[[], Any]) -> Any:  # noqa: ANN401 - whatever build returns
    cache = _PER_RUN.get(id(res))
    if cache is None:
        cache = _PER_RUN[id(res)] = {}
        weakref.finalize(res, _PER_RUN.pop, id(res), None)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def plot_study(res: RunResults) -> optuna.Study:
    """The search's complete trials as a small in-memory study, for Optuna's importances and plots.

    Rebuilt from the trials table (params, objective values and numeric
    metrics) rather than copied from the run's study: that needs neither a
    replay of the journal nor a copy of every trial's recorded design and
    bookkeeping, which were most of a report's time. Stage trials
    (re-scores, baselines, trims, robustness) are left out: they are scored
    on other seeds, some outside the space, and would read as search
    results. A run whose table holds no parameter columns falls back to
    :attr:`RunResults.search_study`.
    """
    return _per_run(res, "plot_study", lambda: _build_plot_study(res))


def _build_plot_study(res: RunResults) -> optuna.Study:
    import optuna

    frame = res.trials
    dists = res.space.distributions()
    columns = {name: f"param.{name}" for name in dists if f"param.{name}" in frame.columns}
    if not columns:
        return res.search_study
    rows = frame[(frame["state"] == "COMPLETE") & search_mask(frame)]
    names = [o.name for o in res.objectives]
    metrics = [m for m in res.metrics if m in rows.columns]
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created in memory" line in a report
    try:
        study = optuna.create_study(directions=[o.direction for o in res.objectives], study_name=f"{res.name} (plots)")
    finally:
        optuna.logging.set_verbosity(level)
    records = rows.to_dict("records")
    trials = []
    for row in records:
        values = [row.get(n) for n in names]
        if any(v is None or _missing(v) for v in values):
            continue
        params: dict[str, Any] = {}
        used: dict[str, Any] = {}
        for name, column in columns.items():
            value = _param_value(dists[name], row[column])
            if value is not None:
                params[name], used[name] = value, dists[name]
        attrs = {m: float(row[m]) for m in metrics if not _missing(row[m])}
        try:
            trial = optuna.trial.create_trial(
                params=params, distributions=used, values=[float(v) for v in values], user_attrs=attrs
            )
        except ValueError:  # a table value its distribution refuses (e.g. rounded past a bound): use the study
            return res.search_study
        trials.append(trial)
    study.add_trials(trials)
    return study


def _missing(value: Any) -> bool:  # noqa: ANN401 - a table cell
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _param_value(dist: Any, value: Any) -> Any:  # noqa: ANN401 - an Optuna distribution and a table cell
    """A table cell back as the value the distribution holds (``None`` for a parameter the trial lacked)."""
    import optuna

    if _missing(value):
        return None
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return next((c for c in dist.choices if c == value or str(c) == str(value)), None)
    if isinstance(dist, optuna.distributions.IntDistribution):
        return round(float(value))
    return float(value)


def param_importances(res: RunResults, target: str = DEFAULT_MEASURE) -> dict[str, float]:
    """Importance of each searched parameter for ``target`` (Optuna's default evaluator, PED-ANOVA).

    PED-ANOVA assumes smaller is better, so a metric to maximise is negated.
    Empty when fewer than two trials are complete. Computed once per run and
    target: the static and the interactive importances and the parallel
    coordinates all use it.
    """
    return dict(_per_run(res, ("importances", target), lambda: _importances(res, target)))


def _importances(res: RunResults, target: str) -> dict[str, float]:
    import optuna

    study = plot_study(res)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    sign = -1.0 if metric_direction(target, res.objectives) == "maximize" else 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.importance.get_param_importances(study, target=importance_target(res, target, sign))


def importance_target(res: RunResults, target: str, sign: float = 1.0) -> Callable[[FrozenTrial], float]:
    """The callable Optuna's importance and plotting functions take: a metric, from user attrs or values."""
    names = [o.name for o in res.objectives]
    index = names.index(target) if target in names else None

    def value(trial: FrozenTrial) -> float:
        raw = trial.user_attrs.get(target)
        if raw is None and index is not None and trial.values is not None:
            raw = trial.values[index]
        return sign * float(raw) if raw is not None else float("nan")

    return value


# ------------------------------------------------------------- role graph
@dataclass
class RoleNode:
    name: str
    archetype: str
    count: int
    model: str
    stage: str
    hub: bool
    x: float
    y: float


@dataclass
class RoleLayout:
    """Active roles placed stage by stage (plan -> produce -> check -> merge), with their hand-offs."""

    nodes: list[RoleNode]
    forward: list[tuple[str, str]]
    loops: list[tuple[str, str]]
    rounds: int
    inactive: list[str]

    def node(self, name: str) -> RoleNode:
        return next(n for n in self.nodes if n.name == name)


def role_layout(design: Design) -> RoleLayout:
    """Columns by pipeline stage, rows spread evenly; wiring as the exporters see it."""
    from swarmdesign.export.plan import wiring

    forward, loops, rounds = wiring(design)
    active = design.active_roles
    stages = [s for s in STAGES if any(STAGE_OF[r.archetype] == s for r in active)]
    nodes = []
    for col, stage in enumerate(stages):
        members = [r for r in active if STAGE_OF[r.archetype] == stage]
        for row, role in enumerate(members):
            y = (len(members) - 1) / 2.0 - row
            hub = design.topology.kind in HUB_KINDS and role.archetype in ("planner", "orchestrator")
            nodes.append(RoleNode(role.name, role.archetype, role.count, role.model, stage, hub, float(col), y))
    inactive = [r.name for r in design.roles if r.count == 0]
    return RoleLayout(nodes, list(forward), list(loops), rounds, inactive)


def node_size(count: int) -> float:
    """Marker area (points^2) growing with log10(count): 1 agent and 10^6 agents both fit a page."""
    return 700.0 + 800.0 * math.log10(max(count, 1))


def design_title(design: Design) -> str:
    params = ", ".join(f"{k}={v}" for k, v in design.topology.params().items())
    kind = design.topology.kind + (f" ({params})" if params else "")
    return f"{design.name} · {kind} · {design.total_agents:,} agents"


def coordination_note(design: Design) -> str:
    c = design.coordination
    parts = [f"redundancy {c.redundancy} ({c.aggregation})", f"review rounds {c.review_rounds}"]
    parts.append(f"heterogeneity {c.heterogeneity:.2f}")
    parts.append(f"routing {c.routing}")
    return " · ".join(parts)


# ----------------------------------------------------------------- losses
LOSS_TITLES: dict[str, str] = {
    "quality": "quality lost (share of work; negative = gained)",
    "latency": "time added (seconds)",
    "cost": "money added (USD)",
}


LossSource = RunResults | str | Path | pd.Series | Mapping[str, Any]


def loss_panels(source: LossSource, trial: int | None) -> tuple[str, dict[str, pd.DataFrame], pd.Series | None]:
    """Per kind, the mechanisms with an effect (largest first); a label; and the metrics row.

    ``source`` is a run (its trial ``trial``, the best by default) or one row
    of metrics (a ``pandas.Series`` or dict, e.g. from ``evaluate_designs``).
    """
    if isinstance(source, pd.Series | Mapping):
        row: pd.Series | None = pd.Series(source)
        label = str(row.get("design", "the design"))
        table = loss_breakdown(row)
    else:
        res = load(source)
        number = res.best_trial if trial is None else trial
        table = res.losses(number)
        row = None if number is None else res.trials.loc[res.trials["trial"] == number].iloc[0]
        label = f"trial {number} ({'the best design' if trial is None else 'chosen'})"
    panels: dict[str, pd.DataFrame] = {}
    for kind, sub in table.groupby("kind", sort=False):
        scale = sub["value"].abs().max()
        keep = sub["value"].abs() > max(scale * NEGLIGIBLE_SHARE, 1e-12)
        sub = sub.assign(effect=keep)
        panels[str(kind)] = sub.sort_values("value", key=lambda s: s.abs(), ascending=False).reset_index(drop=True)
    return label, panels, row


def loss_headline(kind: str, row: pd.Series | None, total: float) -> str:
    """One line above a loss panel: the metric, and what it would be without the losses."""
    if row is None or kind not in row.index or pd.isna(row[kind]):
        return f"{kind}: total {total:+.4g}"
    value = float(row[kind])
    if kind == "quality":
        return f"quality {value:.3f} (without these losses {value + total:.3f})"
    if kind == "latency":
        return f"latency {value:,.0f} s (without these {value - total:,.0f} s)"
    if kind == "cost":
        return f"cost ${value:,.2f} (without these ${value - total:,.2f})"
    return f"{kind} {value:.4g}"


def load(res: RunResults | str | Path) -> RunResults:
    return load_run(res)
