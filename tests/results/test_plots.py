"""Plots: every static figure renders to PNG with Agg; every interactive one is a plotly figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from swarmdesign import Design, plots
from swarmdesign.plots import interactive
from swarmdesign.results import compare_runs, load_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(fig) -> bytes:
    data = plots.save_png(fig)
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    return data


def test_every_static_plot_renders(default_run: Path, tmp_path: Path) -> None:
    figs = plots.every_plot(default_run)
    assert set(figs) == {"convergence", "pareto_front", "param_importances", "role_graph", "loss_breakdown"}
    for name, fig in figs.items():
        out = tmp_path / f"{name}.png"
        plots.save_png(fig, out)
        assert out.read_bytes().startswith(PNG_MAGIC), name


def test_plots_use_agg_without_pyplot_and_never_write_home(default_run: Path, tmp_path: Path) -> None:
    """In a fresh interpreter: no pyplot, no GUI backend, nothing created under $HOME."""
    home = tmp_path / "home"
    run, png = str(default_run), str(tmp_path / "c.png")
    code = (
        "import sys; from swarmdesign import plots; "
        f"plots.save_png(plots.convergence({run!r}), {png!r}); "
        "pyplot = 'matplotlib.pyplot' in sys.modules; "
        f"print(type(plots.convergence({run!r}).canvas).__name__, pyplot)"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(HOME=str(home), MPLCONFIGDIR=str(tmp_path / "mpl"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["FigureCanvasBase", "False"]  # no GUI canvas; Agg attached on save
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    assert not home.exists()


def test_convergence_of_several_runs_has_a_median_and_band_per_optimizer(seed_runs: list[Path]) -> None:
    fig = plots.convergence(seed_runs)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("random: median of 2 runs") for label in labels)
    assert any(label.startswith("tpe: median of 2 runs") for label in labels)
    assert len(ax.collections) == 2  # one band per optimizer
    _png(fig)
    # a stacked frame works as well, and so does the interactive version
    frame = compare_runs(seed_runs)
    _png(plots.convergence(frame))
    names = [t.name for t in interactive.convergence(frame).data]
    assert "tpe (median of 2)" in names and "random (median of 2)" in names


def test_pareto_front_colours_by_topology(default_run: Path) -> None:
    res = load_run(default_run)
    fig = plots.pareto_front(res)
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    kinds = set(res.trials["topology"])
    assert kinds <= labels and {"Pareto front", "best"} <= labels
    _png(fig)
    _png(plots.pareto_front(res, x="latency", y="score"))


def test_single_objective_run_plots(score_run: Path) -> None:
    """What differs with one objective: the front is drawn on quality/cost anyway, history has a best line."""
    res = load_run(score_run)
    _png(plots.pareto_front(res))
    _png(plots.convergence(res))
    assert "best so far" in [t.name for t in interactive.optimization_history(res).data] + ["Best Value"]
    assert interactive.pareto_front(res).data


def test_role_graph_of_a_million_agent_design_with_unused_roles() -> None:
    design = Design.from_dict(
        {
            "swarmdesign": 1,
            "name": "big",
            "roles": [
                {"name": "lead", "archetype": "orchestrator", "count": 1000, "model": "m"},
                {"name": "worker", "archetype": "worker", "count": 1_000_000, "model": "m"},
                {"name": "checker", "archetype": "reviewer", "count": 0, "model": "m"},
                {"name": "merge $1", "archetype": "aggregator", "count": 3, "model": "m"},
            ],
            "topology": {"kind": "hierarchical", "branching": 32},
            "coordination": {"review_rounds": 1},
        }
    )
    fig = plots.role_graph(design)
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "unused roles (count 0): checker" in texts
    ax_texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "×1,000,000" in ax_texts
    _png(fig)


def test_loss_breakdown_from_a_run_and_from_a_metrics_row(default_run: Path) -> None:
    fig = plots.loss_breakdown(default_run)
    assert len(fig.axes) == 3
    assert "quality" in fig.axes[0].get_title()
    _png(fig)
    row = pd.Series({"design": "hand-made", "latency": 100.0, "loss_latency_hub_queue": 80.0, "loss_latency_x": 0.0})
    fig = plots.loss_breakdown(row)
    assert len(fig.axes) == 1 and "no effect: x" in fig.axes[0].get_xlabel()
    _png(fig)
    empty = plots.loss_breakdown(pd.Series({"quality": 0.5}))
    _png(empty)


def test_interactive_plots_and_offline_html(default_run: Path, tmp_path: Path) -> None:
    figs = interactive.every_plot(default_run)
    assert set(figs) == {
        "optimization_history",
        "pareto_front",
        "param_importances",
        "parallel_coordinate",
        "loss_breakdown",
    }
    for fig in figs.values():
        assert fig.data and fig.layout.title.text
    history = [t.name for t in figs["optimization_history"].data]
    assert "best so far" in history or "Best Value" in history
    offline = interactive.write_html(figs["pareto_front"], tmp_path / "front.html")
    online = interactive.write_html(figs["pareto_front"], tmp_path / "front-cdn.html", offline=False)
    assert offline.stat().st_size > 1_000_000 > online.stat().st_size
    assert "cdn.plot.ly" not in offline.read_text(encoding="utf-8")[:2000]


def test_plots_show_search_trials_and_mark_the_recommendation(recommended_run: Path) -> None:
    """Stage trials (re-scores, baselines, trims) are not drawn as search points; the recommendation is a star."""
    res = load_run(recommended_run)
    search = res.trials[res.trials["stage"].isna() | (res.trials["stage"] == "archive")]
    stage = set(res.trials.loc[~res.trials.index.isin(search.index), "trial"])
    assert stage and res.best_trial in stage
    history = interactive.optimization_history(res)
    drawn = {int(x) for t in history.data if t.mode == "markers" for x in t.x}
    assert drawn and not drawn & stage and drawn <= set(search["trial"])
    front = interactive.pareto_front(res)
    points = {int(c[0]) for t in front.data if t.customdata is not None for c in t.customdata}
    assert points and not points & stage
    star = [t for t in front.data if str(t.name).startswith("recommended")]
    assert star and star[0].name == f"recommended (trial {res.best_trial})" and len(star[0].x) == 1
    labels = {t.get_text() for t in plots.pareto_front(res).axes[0].get_legend().get_texts()}
    assert "recommended" in labels
