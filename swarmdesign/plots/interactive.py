"""Interactive plots (plotly): the run's history, front, importances, parallel coordinates and losses.

Hover shows the trial number, its design's topology and agent count; zoom
and the legend work as in any plotly figure. Every figure is drawn here from
the trials table, as Optuna's visualisations would draw it (importances are
Optuna's PED-ANOVA): ``optuna.visualization`` needs a deep copy of the study
and imports matplotlib's pyplot, most of a report's time for the same
pictures. Search trials only; the recommendation stages' trials are shown in
their own sections.

Save a figure for a browser with :func:`write_html`: ``offline=True``
embeds plotly.js (about 4.8 MB, opens without network), ``offline=False``
loads it from a CDN (a 15 KB file).
"""

from __future__ import annotations

import math
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
_TEMPLATES: dict[str, object] = {}


def _template(name: str = "plotly_white") -> object:
    """The layout template, looked up once per process.

    Why: plotly deep-copies a named template from its registry on every
    ``template="plotly_white"`` (about 0.1 s each, half a second per report);
    a Template object is only validated.
    """
    if name not in _TEMPLATES:
        import plotly.io as pio

        _TEMPLATES[name] = pio.templates[name]
    return _TEMPLATES[name]


def optimization_history(results: RunResults | str | Path, measure: str = DEFAULT_MEASURE) -> go.Figure:
    """Every search trial's ``measure`` against its trial number, and the best so far (Optuna's history plot).

    Drawn from the trials table, with the trials' own numbers: Optuna's
    ``plot_optimization_history`` would need the study copied and imports
    ``optuna.visualization``, which imports matplotlib's pyplot (together,
    seconds of a report's time), for the same two traces.
    """
    import plotly.graph_objects as go

    res = _data.load(results)
    frame = res.trials
    done = frame[(frame["state"] == "COMPLETE") & _data.search_mask(frame)]
    values = pd.to_numeric(done[measure], errors="coerce") if measure in done.columns else pd.Series(dtype=float)
    fig = go.Figure(
        go.Scatter(
            x=done["trial"],
            y=values,
            mode="markers",
            name="each trial",
            marker={"color": "#4c72b0", "size": 6, "opacity": 0.6},
            hovertemplate=f"trial %{{x}}<br>{measure} %{{y:.4g}}<extra></extra>",
        )
    )
    _best_so_far_trace(fig, res, measure)
    fig.update_layout(
        height=HEIGHT,
        title=f"Optimization history: {measure}",
        xaxis_title="trial",
        yaxis_title=measure,
        template=_template(),
    )
    return fig


def _best_so_far_trace(fig: go.Figure, res: RunResults, measure: str) -> None:
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
        template=_template(),
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
        template=_template(),
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
        template=_template(),
        margin={"l": 200},
    )
    return fig


def parallel_coordinate(results: RunResults | str | Path, target: str = DEFAULT_MEASURE, top: int = 8) -> go.Figure:
    """Parallel coordinates of ``target`` and the ``top`` most important parameters, one line per search trial.

    As Optuna's ``plot_parallel_coordinate`` draws it (categories as labelled
    ticks, log-scaled parameters on a log axis, lines coloured by the
    target), from the trials table: no copy of the study, no import of
    ``optuna.visualization``.
    """
    import plotly.graph_objects as go

    res = _data.load(results)
    ranked = sorted(_data.param_importances(res, target).items(), key=lambda kv: kv[1], reverse=True)
    frame = res.trials
    done = frame[(frame["state"] == "COMPLETE") & _data.search_mask(frame)]
    if target in done.columns:
        done = done[pd.to_numeric(done[target], errors="coerce").notna()]
    dists = res.space.distributions()
    params = [name for name, _ in ranked if f"param.{name}" in done.columns][:top]
    colour = pd.to_numeric(done[target], errors="coerce") if target in done.columns else pd.Series(dtype=float)
    dimensions = [{"label": target, "values": colour.to_numpy(dtype=float)}]
    dimensions += [_axis(name, done[f"param.{name}"], dists.get(name)) for name in params]
    reverse = metric_direction(target, res.objectives) == "minimize"
    fig = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": colour.to_numpy(dtype=float),
                "colorscale": "Blues",
                "reversescale": reverse,
                "showscale": True,
                "colorbar": {"title": {"text": target}},
            },
            labelangle=30,
            labelside="bottom",
        )
    )
    fig.update_layout(
        height=HEIGHT,
        title=f"Parallel coordinates: the {len(params)} most important parameters",
        margin={"b": 120},
        template=_template(),
    )
    return fig


def _axis(name: str, column: pd.Series, dist: object) -> dict[str, object]:
    """One parcoords axis: categories as labelled ticks, a log-scaled parameter on a log10 axis."""
    import optuna

    if isinstance(dist, optuna.distributions.CategoricalDistribution) or not pd.api.types.is_numeric_dtype(column):
        labels = sorted({str(v) for v in column.dropna()})
        codes = {label: i for i, label in enumerate(labels)}
        values = np.array([codes.get(str(v), np.nan) if pd.notna(v) else np.nan for v in column], dtype=float)
        return {"label": name, "values": values, "tickvals": list(range(len(labels))), "ticktext": labels}
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    if getattr(dist, "log", False) and np.nanmin(values, initial=np.inf) > 0:
        low, high = np.log10(np.nanmin(values)), np.log10(np.nanmax(values))
        ticks = np.arange(math.floor(low), math.ceil(high) + 1)
        labels = [f"{10**t:,.0f}" if t >= 0 else f"{10**t:g}" for t in ticks]
        return {"label": name, "values": np.log10(values), "tickvals": ticks.tolist(), "ticktext": labels}
    return {"label": name, "values": values}


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
        height=HEIGHT, title=f"Per-mechanism breakdown of {label}", template=_template(), margin={"t": 120}
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
