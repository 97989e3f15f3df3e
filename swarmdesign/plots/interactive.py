"""Interactive plots (plotly): Optuna's own visualisations of the study, plus the swarmdesign pictures.

Hover shows the trial number, its design's topology and agent count; zoom
and the legend work as in any plotly figure. Optuna's functions
(``optuna.visualization``) are used where they fit, with a metric from the
trial's user attributes as the target, since a multi-objective study has no
single value to plot.

Save a figure for a browser with :func:`write_html`: ``offline=True``
embeds plotly.js (about 4.8 MB, opens without network), ``offline=False``
loads it from a CDN (a 15 KB file).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from swarmdesign.plots import _data
from swarmdesign.plots._data import RunsLike
from swarmdesign.results import DEFAULT_MEASURE, RunResults, best_so_far, metric_direction

if TYPE_CHECKING:
    import plotly.graph_objects as go

HEIGHT = 460


def optimization_history(results: RunResults | str | Path, measure: str = DEFAULT_MEASURE) -> go.Figure:
    """Optuna's optimization history of ``measure`` (every trial and the best so far)."""
    import optuna

    res = _data.load(results)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental" notices say nothing to a reader
        fig = optuna.visualization.plot_optimization_history(
            res.search_study, target=_data.importance_target(res, measure), target_name=measure
        )
    if not any(getattr(t, "name", "") == "Best Value" for t in fig.data):
        _best_so_far_trace(fig, res, measure)
    fig.update_layout(height=HEIGHT, title=f"Optimization history: {measure}")
    return fig


def _best_so_far_trace(fig: go.Figure, res: RunResults, measure: str) -> None:
    """Optuna draws no best line for a custom target: add it."""
    import plotly.graph_objects as go

    counted = res.trials[res.trials["evaluation"].notna() & _data.search_mask(res.trials)]
    best = best_so_far(counted, measure, metric_direction(measure, res.objectives))
    fig.add_trace(go.Scatter(x=counted["trial"], y=best, mode="lines", name="best so far", line={"shape": "hv"}))


def convergence(runs: RunsLike, measure: str = DEFAULT_MEASURE) -> go.Figure:
    """Best-so-far ``measure`` per optimizer: median across runs with a band (as the static plot)."""
    import plotly.graph_objects as go

    frame = _data.convergence_frame(runs, measure)
    fig = go.Figure()
    colours = _plotly_colours()
    for i, g in enumerate(_data.convergence_groups(frame)):
        colour = colours[i % len(colours)]
        low, high, band_name = g.band()
        x = g.evaluations
        if g.curves.shape[0] > 1:
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=high,
                    mode="lines",
                    line={"width": 0, "shape": "hv"},
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=g.optimizer,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=low,
                    mode="lines",
                    line={"width": 0, "shape": "hv"},
                    fill="tonexty",
                    fillcolor=_alpha(colour, 0.2),
                    name=f"{g.optimizer} {band_name}",
                    legendgroup=g.optimizer,
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=g.median,
                mode="lines",
                line={"color": colour, "width": 3, "shape": "hv"},
                name=f"{g.optimizer} (median of {len(g.runs)})" if len(g.runs) > 1 else f"{g.optimizer}: best so far",
                legendgroup=g.optimizer,
            )
        )
    fig.update_layout(
        height=HEIGHT,
        title=f"Convergence: best {measure} so far",
        xaxis_title="evaluations",
        yaxis_title=measure,
        template="plotly_white",
    )
    values = pd.to_numeric(frame.get(measure), errors="coerce").to_numpy(dtype=float)
    curves = np.concatenate([g.curves.ravel() for g in _data.convergence_groups(frame)] or [np.array([])])
    limits = _data.readable_limits(values, curves, metric_direction(measure) == "maximize")
    if limits is not None:
        fig.update_yaxes(range=list(limits))
    return fig


def pareto_front(results: RunResults | str | Path, x: str = "cost", y: str = "quality") -> go.Figure:
    """``y`` vs ``x`` for every complete design, coloured by topology kind; the front outlined."""
    import plotly.graph_objects as go

    res = _data.load(results)
    done = _data.front_frame(res, x, y)
    fig = go.Figure()
    for kind, sub in done.groupby("topology", sort=True):
        colour = _data.topology_colour(kind)
        # Feasible and infeasible designs in separate traces of one legend group, so the
        # legend shows a filled marker whatever the first design of a kind was.
        for feasible in (True, False):
            part = sub[sub["feasible_"] == feasible]
            if part.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=part[x],
                    y=part[y],
                    mode="markers",
                    name=str(kind),
                    legendgroup=str(kind),
                    showlegend=bool(feasible or not sub["feasible_"].any()),
                    marker={
                        "color": colour,
                        "size": 8,
                        "opacity": 0.65,
                        "symbol": "circle" if feasible else "circle-open",
                    },
                    customdata=np.stack([part["trial"], part["agents"], part.get("score", part[y])], axis=-1),
                    hovertemplate=(
                        f"trial %{{customdata[0]}}<br>{kind}, %{{customdata[1]:,.0f}} agents"
                        f"{'' if feasible else ' (infeasible)'}<br>"
                        f"{x} %{{x:.4g}}<br>{y} %{{y:.4g}}<br>score %{{customdata[2]:.4f}}<extra></extra>"
                    ),
                )
            )
    front = done[done["on_front"]].sort_values(x)
    fig.add_trace(
        go.Scatter(
            x=front[x],
            y=front[y],
            mode="lines+markers",
            name="Pareto front",
            line={"color": "black", "shape": "hv"},
            marker={"size": 11, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}},
            hoverinfo="skip",
        )
    )
    best, label = _data.best_row(res, x, y)
    if not best.empty:
        fig.add_trace(
            go.Scatter(
                x=best[x],
                y=best[y],
                mode="markers",
                name=f"{label} (trial {res.best_trial})",
                marker={"symbol": "star", "size": 18, "color": "gold", "line": {"color": "black", "width": 1}},
            )
        )
    fig.update_layout(
        height=HEIGHT + 60,
        title=f"Pareto front: {y} vs {x} ({len(front)} designs on the front)",
        xaxis_title=x,
        yaxis_title=y,
        legend_title="topology",
        template="plotly_white",
    )
    if _data.log_scale_wanted(done[x]):
        fig.update_xaxes(type="log")
    return fig


def param_importances(results: RunResults | str | Path, target: str = DEFAULT_MEASURE, top: int = 20) -> go.Figure:
    """Importance of each searched parameter for ``target``, from ``optuna.importance`` (PED-ANOVA).

    The bars are drawn here rather than by ``optuna.visualization.plot_param_importances``,
    which deep-copies every trial once per parameter for its hover text (seconds
    on a few hundred trials); the numbers are the same.
    """
    import plotly.graph_objects as go

    res = _data.load(results)
    ranked = sorted(_data.param_importances(res, target).items(), key=lambda kv: kv[1], reverse=True)[:top]
    ranked = ranked[::-1]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in ranked],
            y=[k for k, _ in ranked],
            orientation="h",
            marker_color="#4c72b0",
            text=[f"{v:.2f}" for _, v in ranked],
            textposition="outside",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(HEIGHT, 24 * len(ranked) + 140),
        title=f"Parameter importances for {target} (PED-ANOVA, top {len(ranked)})",
        xaxis_title=f"importance for {target}",
        template="plotly_white",
        margin={"l": 200},
    )
    return fig


def parallel_coordinate(results: RunResults | str | Path, target: str = DEFAULT_MEASURE, top: int = 8) -> go.Figure:
    """Optuna's parallel-coordinate plot over the ``top`` most important parameters for ``target``."""
    import optuna

    res = _data.load(results)
    ranked = sorted(_data.param_importances(res, target).items(), key=lambda kv: kv[1], reverse=True)
    params = [name for name, _ in ranked[:top]] or None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "experimental" notices say nothing to a reader
        fig = optuna.visualization.plot_parallel_coordinate(
            res.search_study, params=params, target=_data.importance_target(res, target), target_name=target
        )
    fig.update_layout(height=HEIGHT, title=f"Parallel coordinates: the {len(params or [])} most important parameters")
    return fig


def loss_breakdown(source: _data.LossSource, trial: int | None = None) -> go.Figure:
    """Per-mechanism losses of a design, one panel per kind (see the static ``loss_breakdown``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    label, panels, row = _data.loss_panels(source, trial)
    kinds = list(panels) or ["none"]
    titles = [
        f"{_data.LOSS_TITLES.get(k, k)}<br><sub>{_data.loss_headline(k, row, float(panels[k]['value'].sum()))}</sub>"
        if k in panels
        else "no loss_* metrics"
        for k in kinds
    ]
    fig = make_subplots(rows=1, cols=len(kinds), subplot_titles=titles, horizontal_spacing=0.12)
    for i, kind in enumerate(panels, start=1):
        shown = panels[kind][panels[kind]["effect"]].iloc[::-1]
        fig.add_trace(
            go.Bar(
                x=shown["value"],
                y=shown["mechanism"],
                orientation="h",
                showlegend=False,
                name=kind,
                marker_color=["#2ca02c" if v < 0 else "#d62728" for v in shown["value"]],
                hovertemplate="%{y}: %{x:.4g} " + shown["unit"].iloc[0] + "<extra></extra>"
                if not shown.empty
                else None,
            ),
            row=1,
            col=i,
        )
    fig.update_layout(
        height=HEIGHT, title=f"Per-mechanism breakdown of {label}", template="plotly_white", margin={"t": 120}
    )
    return fig


def write_html(fig: go.Figure, path: str | Path, *, offline: bool = True) -> Path:
    """Save ``fig`` as a standalone page; ``offline`` embeds plotly.js so it opens without network."""
    out = Path(path)
    fig.write_html(out, include_plotlyjs=True if offline else "cdn", full_html=True)
    return out


def every_plot(results: RunResults | str | Path) -> dict[str, go.Figure]:
    """The interactive plots of one run, by name (what the HTML report embeds)."""
    res = _data.load(results)
    return {
        "optimization_history": optimization_history(res),
        "pareto_front": pareto_front(res),
        "param_importances": param_importances(res),
        "parallel_coordinate": parallel_coordinate(res),
        "loss_breakdown": loss_breakdown(res),
    }


def _plotly_colours() -> list[str]:
    import plotly.colors

    return list(plotly.colors.qualitative.Plotly)


def _alpha(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


__all__ = [
    "convergence",
    "every_plot",
    "loss_breakdown",
    "optimization_history",
    "parallel_coordinate",
    "param_importances",
    "pareto_front",
    "write_html",
]
