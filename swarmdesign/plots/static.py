"""Static plots (matplotlib, Agg): PNGs for reports, papers and notebooks.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot, so nothing global (no current figure, no GUI backend) is touched and
figures are garbage-collected like any object. Save one with
:func:`save_png`; in Jupyter run ``%matplotlib inline`` once and a figure
displays as the cell's value.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from swarmdesign.plots import _data
from swarmdesign.plots._data import RunsLike
from swarmdesign.results import DEFAULT_MEASURE, RunResults, metric_direction

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from swarmdesign.design import Design

DPI = 110


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def save_png(fig: Figure, path: str | Path | None = None) -> bytes:
    """PNG bytes of ``fig`` (Agg), also written to ``path`` when given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


# ----------------------------------------------------------- convergence
def convergence(runs: RunsLike, measure: str = DEFAULT_MEASURE) -> Figure:
    """Best-so-far ``measure`` against evaluations.

    One run: every trial as a dot and the best-so-far step line. Several runs:
    per optimizer, the median best-so-far across its runs (seeds) with a band
    (interquartile range from three runs, min-max below) and each run faintly.
    """
    frame = _data.convergence_frame(runs, measure)
    groups = _data.convergence_groups(frame)
    fig, (ax,) = _figure(8.5, 4.6)
    if not groups or all(np.isnan(g.curves).all() for g in groups):
        _empty(ax, f"no finished trial with '{measure}' yet")
        return fig
    values = pd.to_numeric(frame.get(measure), errors="coerce").to_numpy(dtype=float)
    single = frame["run"].nunique() == 1
    maximize = metric_direction(measure) == "maximize"
    if single:
        counted = frame[frame["evaluation"].notna()]
        ax.scatter(
            counted["evaluation"].astype(float),
            pd.to_numeric(counted[measure], errors="coerce"),
            s=14,
            color="#9e9e9e",
            alpha=0.6,
            label="each evaluation",
            zorder=2,
        )
    for i, g in enumerate(groups):
        colour = f"C{i % 10}"
        if single:
            ax.step(
                g.evaluations, g.curves[0], where="post", color=colour, lw=2.2, label=f"best so far ({g.optimizer})"
            )
            continue
        low, high, band_name = g.band()
        for curve in g.curves:
            ax.step(g.evaluations, curve, where="post", color=colour, lw=0.7, alpha=0.35)
        ax.fill_between(g.evaluations, low, high, step="post", color=colour, alpha=0.18, lw=0)
        ax.step(
            g.evaluations,
            g.median,
            where="post",
            color=colour,
            lw=2.4,
            label=f"{g.optimizer}: median of {len(g.runs)} run{'s' if len(g.runs) > 1 else ''} ({band_name} shaded)",
        )
    limits = _data.readable_limits(values, np.concatenate([g.curves.ravel() for g in groups]), maximize)
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_xlabel("evaluations")
    ax.set_ylabel(f"{measure} ({'higher' if maximize else 'lower'} is better)")
    ax.set_title(f"Convergence: best {measure} so far")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if maximize else "upper right", fontsize=8)
    return fig


# ------------------------------------------------------------ Pareto front
def pareto_front(results: RunResults | str | Path, x: str = "cost", y: str = "quality") -> Figure:
    """Every complete design as a dot coloured by topology kind; the front of ``y`` vs ``x`` outlined.

    The front is computed among feasible designs on these two metrics, so it
    is drawn even when the study optimised a single scalar score. Infeasible
    designs are hollow; the run's best design is a star.
    """
    res = _data.load(results)
    fig, (ax,) = _figure(9.8, 5.2)
    done = _data.front_frame(res, x, y)
    if done.empty:
        _empty(ax, "no complete trial yet")
        return fig
    for kind, sub in done.groupby("topology", sort=True):
        colour = _data.topology_colour(kind)
        ok = sub[sub["feasible_"]]
        bad = sub[~sub["feasible_"]]
        ax.scatter(ok[x], ok[y], s=28, color=colour, alpha=0.55, label=str(kind), zorder=2)
        if not bad.empty:
            ax.scatter(bad[x], bad[y], s=28, facecolors="none", edgecolors=colour, alpha=0.55, zorder=2)
    front = done[done["on_front"]].sort_values(x)
    ax.scatter(
        front[x],
        front[y],
        s=60,
        c=[_data.topology_colour(k) for k in front["topology"]],
        edgecolors="black",
        linewidths=1.2,
        zorder=4,
    )
    ax.scatter([], [], s=60, facecolors="white", edgecolors="black", linewidths=1.2, label="Pareto front")
    ax.step(front[x], front[y], where="post", color="black", lw=1.0, alpha=0.6, zorder=3)
    best, label = _data.best_row(res, x, y)
    if not best.empty:
        ax.scatter(best[x], best[y], marker="*", s=320, color="gold", edgecolors="black", zorder=5, label=label)
    if _data.log_scale_wanted(done[x]):
        ax.set_xscale("log")
    if _data.log_scale_wanted(done[y]):
        ax.set_yscale("log")
    ax.set_xlabel(f"{x} ({'lower' if metric_direction(x, res.objectives) == 'minimize' else 'higher'} is better)")
    ax.set_ylabel(f"{y} ({'higher' if metric_direction(y, res.objectives) == 'maximize' else 'lower'} is better)")
    n_bad = int((~done["feasible_"]).sum())
    note = f"; {n_bad} infeasible (hollow)" if n_bad else ""
    ax.set_title(f"Pareto front: {y} vs {x} — {len(front)} of {len(done)} designs on the front{note}")
    ax.grid(alpha=0.3, which="both")
    # Outside the axes: the front's corner is where the interesting points are.
    ax.legend(title="topology", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


# ------------------------------------------------------------ importances
def param_importances(results: RunResults | str | Path, target: str = DEFAULT_MEASURE, top: int = 15) -> Figure:
    """Which searched parameters matter most for ``target`` (Optuna's PED-ANOVA), top ``top``."""
    res = _data.load(results)
    importances = _data.param_importances(res, target)
    fig, (ax,) = _figure(8.5, 0.8 + 0.32 * max(min(top, len(importances)), 4))
    if not importances:
        _empty(ax, "needs at least two complete trials")
        return fig
    items = sorted(importances.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    names = [k for k, _ in items]
    vals = [v for _, v in items]
    ax.barh(names, vals, color="#4c72b0")
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    ax.set_xlabel(f"importance for {target} (share, PED-ANOVA)")
    ax.set_xlim(0, max(vals) * 1.15 if max(vals) > 0 else 1)
    ax.set_title(f"Parameter importances for {target} ({len(importances)} parameters; top {len(items)})")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    return fig


# ------------------------------------------------------------- role graph
def role_graph(design: Design | RunResults | str | Path) -> Figure:
    """The design's roles and hand-offs: columns by stage, circles sized by log10(agent count).

    Coordinators acting as a hub (star, hierarchical, federated) are
    hexagons; review loops are dashed arrows back; the topology kind, total
    agents and coordination settings are in the title. Accepts a Design, or a
    run (its best design).
    """
    from matplotlib.patches import FancyArrowPatch

    if not hasattr(design, "roles"):
        res = _data.load(design)  # type: ignore[arg-type]
        if res.best is None:
            fig, (ax,) = _figure(8.5, 3)
            _empty(ax, "no complete trial yet")
            return fig
        design = res.best
    layout = _data.role_layout(design)  # type: ignore[arg-type]
    n_cols = max((int(n.x) for n in layout.nodes), default=0) + 1
    n_rows = max((sum(1 for m in layout.nodes if m.x == n.x) for n in layout.nodes), default=1)
    fig, (ax,) = _figure(max(7.0, 2.6 * n_cols + 1.5), max(3.6, 1.7 * n_rows + 1.4))
    radius_pt = {n.name: math.sqrt(_data.node_size(n.count)) / 2 for n in layout.nodes}
    for src, dst in layout.forward:
        a, b = layout.node(src), layout.node(dst)
        ax.add_patch(
            FancyArrowPatch(
                (a.x, a.y),
                (b.x, b.y),
                arrowstyle="-|>",
                mutation_scale=16,
                color="#444444",
                lw=1.3,
                shrinkA=radius_pt[src] + 2,
                shrinkB=radius_pt[dst] + 3,
                connectionstyle="arc3,rad=0.0",
                zorder=1,
            )
        )
    for src, dst in layout.loops:
        a, b = layout.node(src), layout.node(dst)
        ax.add_patch(
            FancyArrowPatch(
                (a.x, a.y),
                (b.x, b.y),
                arrowstyle="-|>",
                mutation_scale=14,
                color="#b35806",
                lw=1.2,
                ls="--",
                shrinkA=radius_pt[src] + 2,
                shrinkB=radius_pt[dst] + 3,
                connectionstyle="arc3,rad=0.35",
                zorder=1,
            )
        )
    for n in layout.nodes:
        ax.scatter(
            [n.x],
            [n.y],
            s=_data.node_size(n.count),
            marker="h" if n.hub else "o",
            color=_data.STAGE_COLOURS[n.stage],
            edgecolors="#333333",
            linewidths=1.4 if n.hub else 1.0,
            zorder=3,
        )
        # The count inside the marker (it always fits); name and archetype/model underneath.
        ax.annotate(f"×{n.count:,}", (n.x, n.y), ha="center", va="center", fontsize=9, fontweight="bold", zorder=4)
        ax.annotate(
            _plain(n.name),
            (n.x, n.y),
            xytext=(0, -radius_pt[n.name] - 9),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            zorder=4,
        )
        ax.annotate(
            _plain(f"{n.archetype} · {n.model}"),
            (n.x, n.y),
            xytext=(0, -radius_pt[n.name] - 21),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=8,
            color="#333333",
            zorder=4,
        )
    ax.set_xlim(-0.6, n_cols - 0.4)
    ys = [n.y for n in layout.nodes] or [0.0]
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.7)
    ax.set_axis_off()
    stages_shown = list(dict.fromkeys(n.stage for n in sorted(layout.nodes, key=lambda n: n.x)))
    for col, stage in enumerate(stages_shown):
        ax.text(col, max(ys) + 0.55, stage, ha="center", fontsize=9, color="#666666", style="italic")
    ax.set_title(_plain(_data.design_title(design)), fontsize=11)
    footer = _data.coordination_note(design)  # type: ignore[arg-type]
    if layout.loops:
        plural = "s" if layout.rounds != 1 else ""
        footer += f"\ndashed arrows: sent back for revision, up to {layout.rounds} round{plural}"
    if layout.inactive:
        footer += f"\nunused roles (count 0): {', '.join(layout.inactive)}"
    fig.text(0.5, 0.005, _plain(footer), ha="center", va="bottom", fontsize=8, color="#444444")
    return fig


# ----------------------------------------------------------------- losses
def loss_breakdown(source: _data.LossSource, trial: int | None = None) -> Figure:
    """Where a design loses quality, time and money, mechanism by mechanism.

    ``source`` is a run (then trial ``trial``, the best by default) or one
    row of metrics (a Series or dict, e.g. a row of ``evaluate_designs``).
    One panel per kind of loss the evaluator reports (``loss_<kind>_*``
    columns), mechanisms sorted by size; mechanisms that helped are green
    bars to the left. Mechanisms with no effect are listed under the panel.
    """
    label, panels, row = _data.loss_panels(source, trial)
    fig, axes = _figure(14, 4.8, max(len(panels), 1))
    if not panels:
        _empty(axes[0], "this run's evaluator reports no per-mechanism breakdown (loss_* metrics)")
        return fig
    for ax, (kind, sub) in zip(axes, panels.items(), strict=True):
        shown = sub[sub["effect"]].iloc[::-1]
        colours = ["#2ca02c" if v < 0 else "#d62728" for v in shown["value"]]
        ax.barh(shown["mechanism"], shown["value"], color=colours)
        span = float(shown["value"].abs().max()) if not shown.empty else 1.0
        for i, v in enumerate(shown["value"]):
            ax.text(v, i, _plain(f" {_fmt(kind, v)} "), va="center", ha="left" if v >= 0 else "right", fontsize=8)
        ax.axvline(0, color="#333333", lw=0.8)
        left = min(0.0, float(shown["value"].min()) if not shown.empty else 0.0)
        right = max(0.0, float(shown["value"].max()) if not shown.empty else 0.0)
        ax.set_xlim(left - 0.35 * span * (left < 0), right + 0.35 * span)
        headline = _data.loss_headline(kind, row, float(sub["value"].sum()))
        ax.set_title(_plain(f"{_data.LOSS_TITLES.get(kind, kind)}\n{headline}"), fontsize=10)
        ax.tick_params(axis="y", labelsize=9)
        ax.grid(alpha=0.3, axis="x")
        idle = sub.loc[~sub["effect"], "mechanism"].tolist()
        if idle:
            text = textwrap.fill("no effect: " + ", ".join(idle), width=int(95 / max(len(panels), 1)))
            ax.set_xlabel(text, fontsize=8, color="#666666")
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    fig.suptitle(_plain(f"Per-mechanism breakdown of {label}"))
    return fig


def _plain(text: str) -> str:
    """Text shown as written: a dollar sign would otherwise start matplotlib mathtext."""
    return text.replace("$", r"\$")


def _fmt(kind: str, value: float) -> str:
    if kind == "quality":
        return f"{value:+.3f}"
    if kind == "cost":
        return f"${value:,.2f}" if abs(value) >= 0.01 else f"${value:.2g}"
    if kind == "latency":
        return f"{value:,.0f} s" if abs(value) >= 10 else f"{value:.2g} s"
    return f"{value:.3g}"


def every_plot(results: RunResults | str | Path) -> dict[str, Figure]:
    """The five plots of one run, by name (what the HTML report shows)."""
    res = _data.load(results)
    return {
        "convergence": convergence(res),
        "pareto_front": pareto_front(res),
        "param_importances": param_importances(res),
        "role_graph": role_graph(res),
        "loss_breakdown": loss_breakdown(res),
    }


__all__ = [
    "convergence",
    "every_plot",
    "loss_breakdown",
    "param_importances",
    "pareto_front",
    "role_graph",
    "save_png",
]


# ------------------------------------------------------- recommendation
def advantage(results: RunResults | str | Path) -> Figure:
    """The recommendation's score against each baseline's, with ±2 standard errors (from the re-scores)."""
    res = _data.load(results)
    rec = res.recommendation or {}
    rows = [(f"trimmed design (trial {rec.get('trimmed_trial')})", rec.get("trimmed_score"),
             rec.get("trimmed_score_se"))]  # fmt: skip
    rows += [(b["name"], b.get("score"), b.get("score_se")) for b in rec.get("baselines", [])]
    rows = [(n, s, e or 0.0) for n, s, e in rows if s is not None]
    fig, (ax,) = _figure(8.5, 0.9 + 0.4 * max(len(rows), 3))
    if not rows:
        _empty(ax, "no recommendation stage in this run")
        return fig
    names = [textwrap.shorten(n, 48) for n, _, _ in rows][::-1]
    scores = np.array([s for _, s, _ in rows], dtype=float)[::-1]
    errs = 2 * np.array([e for _, _, e in rows], dtype=float)[::-1]
    colours = ["#4c72b0"] * (len(rows) - 1) + ["#dd8452"]
    ax.barh(names, scores - scores.min() + 1e-9 if scores.min() < 0 else scores, color=colours, xerr=errs)
    if scores.min() < 0:
        ax.set_xlabel(f"score − {scores.min():.4g} (higher is better; bars ±2 SE)")
    else:
        ax.set_xlabel("score (higher is better; bars ±2 SE)")
    for i, s in enumerate(scores):
        ax.text(ax.get_xlim()[1], i, f" {s:.4f}", va="center", fontsize=8)
    ax.set_title("Recommendation against the baselines, same scenario and seeds")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(alpha=0.3, axis="x")
    return fig


def robustness(results: RunResults | str | Path) -> Figure:
    """Per contender under perturbed scenarios: share of scenarios where it is best, and its worst regret."""
    res = _data.load(results)
    table = res.robustness
    fig, axes = _figure(9.5, 0.9 + 0.38 * max(len(table), 3), ncols=2)
    if table.empty:
        for ax in axes:
            _empty(ax, "no robustness stage in this run (swarmdesign robustness RUN)")
        return fig
    names = [textwrap.shorten(str(n), 40) for n in table["design"]][::-1]
    colours = ["#4c72b0"] * (len(table) - 1) + ["#dd8452"]
    axes[0].barh(names, table["win_share"].to_numpy()[::-1], color=colours)
    axes[0].set_xlim(0, 1)
    axes[0].set_xlabel("share of perturbed scenarios where it is best")
    axes[1].barh(names, table["worst_regret"].to_numpy()[::-1], color=colours)
    axes[1].set_yticks([])
    axes[1].set_xlabel("worst-case regret (lower is better)")
    for ax in axes:
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3, axis="x")
    n = ((res.recommendation or {}).get("robustness") or {}).get("scenarios")
    fig.suptitle(f"Does it hold up? {n} perturbed scenarios (skill, fault rate, prices, difficulty)", fontsize=11)
    return fig
