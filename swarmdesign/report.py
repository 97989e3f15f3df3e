"""One self-contained HTML page per run: summary, plots, best design, top trials.

The page must open anywhere, offline, years later, so nothing is fetched:
the static plots are PNGs inlined as ``data:`` URIs, and the interactive
section (optional) carries plotly.js inline, once, for all its figures.

The Mermaid diagram of the best design is shown as *source* (copy it into
any Mermaid viewer); what the page draws is the role graph rendered here by
matplotlib, the same roles and hand-offs. Rendering Mermaid itself would need
mermaid.js, which is either fetched from the network (not allowed) or
vendored (a few MB of someone else's code in this package); neither is worth
it for a picture the role graph already gives.

Example:
    >>> from swarmdesign.report import write_report   # doctest: +SKIP
    >>> write_report("runs/r1")                        # doctest: +SKIP
    PosixPath('runs/r1/report.html')
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import html
import math
import numbers
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from swarmdesign.results import DEFAULT_MEASURE, RunResults, load_run

REPORT_NAME = "report.html"
TEMPLATE = "report_template.html"
#: Columns of the top-trials table, when the run has them.
TOP_COLUMNS = (
    "trial", "evaluation", "score", "quality", "cost", "latency", "robustness", "agents", "topology",
    "feasible", "optimizer", "generation", "particle",
)  # fmt: skip
HEADLINE_METRICS = ("score", "quality", "cost", "latency", "robustness", "agents")

_STATIC_PLOTS: tuple[tuple[str, str, str], ...] = (
    (
        "convergence",
        "Convergence",
        "Best score so far against evaluations (score = the scenario's declared scalarisation, higher is better). "
        "Grey dots are single evaluations; the worst fifth may lie below the axis.",
    ),
    (
        "pareto_front",
        "Pareto front",
        "Quality against cost of every complete design, coloured by topology kind. Outlined: the designs no other "
        "feasible design beats on both; hollow: infeasible (a constraint is violated); star: the best design.",
    ),
    (
        "param_importances",
        "Parameter importances",
        "How much each searched parameter decides the score (Optuna's PED-ANOVA over the complete trials).",
    ),
    (
        "loss_breakdown",
        "Where the best design loses quality, time and money",
        "Each mechanism of the evaluator with what it costs the best design: quality lost (green bars gained "
        "quality), seconds and dollars added. Mechanisms without effect are listed under each panel.",
    ),
)


def write_report(
    run: str | Path | RunResults,
    out: str | Path | None = None,
    *,
    interactive: bool = True,
    top: int = 20,
) -> Path:
    """Write the report of ``run`` to ``out`` (default ``<run>/report.html``) and return the path.

    Args:
        run: a run folder or a loaded run.
        out: the HTML file to write; its folder is created.
        interactive: add the plotly section (plotly.js inline, gzipped: ~2 MB); off gives a ~0.5 MB page.
        top: rows of the top-trials table.
    """
    res = load_run(run)
    path = Path(out) if out is not None else res.path / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    text = build_report(res, interactive=interactive, top=top)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def build_report(run: str | Path | RunResults, *, interactive: bool = True, top: int = 20) -> str:
    """The report of ``run`` as one HTML string (see :func:`write_report`)."""
    from swarmdesign import __version__

    res = load_run(run)
    summary = res.summary()
    keys: list[str] = []
    if res.best is not None:
        keys += [key for key, _, _ in _STATIC_PLOTS] + ["role_graph"]
    if res.recommendation is not None:
        keys += ["advantage"] + (["robustness"] if res.recommendation.get("robustness") else [])
    want_interactive = interactive and res.best is not None
    pngs, interactive_part = _render(res, keys, (lambda: _interactive(res)) if want_interactive else None)
    plotlyjs = ""
    sections: list[tuple[str, str, str]] = [("summary", "Summary", _summary(res, summary))]
    if res.recommendation is not None:
        sections.append(("recommendation", "Recommendation", _recommendation(res, pngs)))
        if res.recommendation.get("robustness"):
            sections.append(("holds-up", "Holds up", _holds_up(res, pngs)))
    if res.best is not None:
        sections.append(("best", "Best design", _best_design(res, pngs)))
        sections.append(("kinds", "Best of each kind", _kinds(res)))
        sections.append(("plots", "Plots", _static_plots(res, pngs)))
        sections.append(("top", f"Top {top} trials by {DEFAULT_MEASURE}", _table(_top_frame(res, top))))
        if len(res.front_objectives) > 1:
            sections.append(("pareto", f"Pareto-optimal designs ({len(res.pareto)})", _pareto_table(res)))
    else:
        sections.append(("plots", "Plots", "<p>No complete trial yet: nothing to plot.</p>"))
    failures = _failures(res)
    if failures:
        sections.append(("failures", "Failed trials", failures))
    if interactive_part is not None:
        plotlyjs, body = interactive_part
        sections.append(("interactive", "Interactive plots", body))
    template = Template(resources.files("swarmdesign").joinpath(TEMPLATE).read_text(encoding="utf-8"))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return template.substitute(
        version=html.escape(__version__),
        title=html.escape(f"swarmdesign report · {res.name}"),
        subtitle=html.escape(
            f"{summary['space']} under {summary['scenario']} · optimizer {summary['optimizer']} · "
            f"evaluator {summary['evaluator']} · seed {summary['seed']} · "
            f"{summary['finished']}/{summary['budget']} trials"
        ),
        nav="".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title, _ in sections),
        body="\n".join(f'<section id="{key}"><h2>{html.escape(t)}</h2>\n{b}</section>' for key, t, b in sections),
        footer=html.escape(
            f"swarmdesign {__version__} · generated {now} from {res.path} · "
            f"browse the study live with: swarmdesign dashboard {res.path}"
        ),
        plotlyjs=plotlyjs,
    )


# ------------------------------------------------------------- sections
def _summary(res: RunResults, summary: dict[str, Any]) -> str:
    cards = ""
    if res.best_trial is not None:
        row = res.trials.loc[res.trials["trial"] == res.best_trial].iloc[0]
        for name in HEADLINE_METRICS:
            if name in row.index and pd.notna(row[name]):
                value = _num(name, row[name])
                if name == "score" and pd.notna(row.get("score_se")):
                    value += f' <span class="note">± {row["score_se"]:.2g}</span>'
                cards += f'<div class="card"><div class="k">{name}</div><div class="v">{value}</div></div>'

        rule = html.escape(_best_rule(res))
        cards = f'<p>Best design: trial {res.best_trial}. {rule}</p><div class="cards">{cards}</div>'
    optimizer = res.config.get("optimizer", {})
    params = ", ".join(f"{k}={v}" for k, v in (optimizer.get("params") or {}).items())
    rows = {
        "run folder": str(res.path),
        "search space": summary["space"],
        "scenario": summary["scenario"],
        "objectives": summary["objectives"],
        "optimizer": summary["optimizer"] + (f" ({params})" if params else ""),
        "evaluator": summary["evaluator"],
        "seed": summary["seed"],
        "trials": f"{summary['finished']} of a budget of {summary['budget']} "
        f"({summary['complete']} complete, {summary['failed']} failed)",
        "Pareto-optimal designs": summary["pareto_size"],
        "created": summary["created"],
        "versions": ", ".join(f"{k} {v}" for k, v in (res.config.get("versions") or {}).items()),
    }
    kv = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items())
    return f'{cards}<table class="kv">{kv}</table>'


def _best_rule(res: RunResults) -> str:
    if res.recommendation is not None:
        return (
            "It is the recommendation below (re-scored on fresh seeds, trimmed, compared with the baselines). "
            "The Pareto front, where listed, is a separate view: the best design is not picked from it."
        )
    return (
        "Rule: the highest score among feasible search trials (all trials if none is feasible), ties to the earlier "
        "trial. No recommendation stage has run, so the score is one evaluation on the run's seed. The Pareto front, "
        "where listed, is a separate view."
    )


def _recommendation(res: RunResults, pngs: dict[str, bytes]) -> str:

    rec = res.recommendation or {}
    verdict = html.escape(str(rec.get("verdict", "")))
    tol = rec.get("trim_tolerance")
    steps = ", ".join(rec.get("trim_steps") or []) or "none"
    trim = (
        f"Trimmed from {rec.get('agents_before', 0):,} to {rec.get('agents_after', 0):,} agents at Δ score "
        f"{_signed(rec.get('trim_delta'))} (tolerance {_num('t', tol)}; steps: {steps})."
    )
    winner = (
        f"The search's top score, {_num('score', rec.get('search_score'))} (trial {rec.get('search_trial')}, one "
        f"evaluation, spread ± {_se(rec.get('search_score_sd'))}), re-scored on fresh seeds: "
        f"{_num('score', rec.get('winner_score'))} ± {_se(rec.get('winner_score_se'))} (SE)."
    )
    base = pd.DataFrame(rec.get("baselines") or [])
    if not base.empty:
        base = base[[c for c in ("name", "trial", "score", "score_se", "advantage", "advantage_se", "beats",
                                 "cost", "agents") if c in base.columns]]  # fmt: skip
    cands = pd.DataFrame(rec.get("candidates") or [])
    img = _img(pngs["advantage"], "recommendation against the baselines")
    return (
        f"<p><strong>{verdict}</strong></p><p>{html.escape(trim)}</p><p>{html.escape(winner)}</p>"
        f"<figure>{img}<figcaption>Scores on the same scenario and seeds; whiskers are ±2 standard errors. "
        "The advantages in the table use the per-seed differences (paired), so their SE is smaller than "
        "either score's.</figcaption></figure>"
        f"<h3>Against the baselines</h3>{_table(base)}"
        f"<h3>Re-scored candidates</h3>{_table(cands)}"
        f'<p class="note">How it was chosen: {html.escape(str(rec.get("rule", "")))}.</p>'
        + (f'<p class="note">Effort: {html.escape(str(rec["effort"]))}.</p>' if rec.get("effort") else "")
    )


def _holds_up(res: RunResults, pngs: dict[str, bytes]) -> str:

    rob = (res.recommendation or {}).get("robustness") or {}
    ranges = ", ".join(f"{k} {v:g}" for k, v in (rob.get("ranges") or {}).items())
    img = _img(pngs["robustness"], "robustness under perturbed scenarios")
    return (
        f"<p>Under {rob.get('scenarios')} perturbed scenarios ({html.escape(ranges)}: skill ± shift per model, "
        "fault-rate and price factors, difficulty ± shift), the recommendation is the best of these designs in "
        f"{_pct(rob.get('win_share'))} of them and within {_num('r', rob.get('near'))} (the trim tolerance) of the "
        f"best in {_pct(rob.get('near_best_share'))}; its worst-case regret is {_num('r', rob.get('worst_regret'))}."
        "</p>"
        f"<figure>{img}</figure>{_table(res.robustness)}"
    )


def _kinds(res: RunResults) -> str:
    parts = []
    for by, title in (("topology", "Per topology kind"), ("size", "Per agent-count band")):
        frame = res.archive(by)
        parts.append(f"<h3>{title}</h3>{_table(frame)}")
    note = (
        '<p class="note">The best search trial in each bin, by the same rule as the best design. '
        "Also: <code>swarmdesign show RUN --by topology|size</code>.</p>"
    )
    return "".join(parts) + note


def _signed(value: Any) -> str:
    return "" if value is None else f"{float(value):+.4f}"


def _se(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.2g}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.0%}"


def _best_design(res: RunResults, pngs: dict[str, bytes]) -> str:
    from swarmdesign.export.mermaid import to_mermaid

    design = res.best
    assert design is not None
    graph = _img(pngs["role_graph"], f"role graph of {design.name}")
    yaml_text = design.to_yaml()
    mermaid = to_mermaid(design)
    return (
        f"<figure>{graph}<figcaption>Roles of the best design by pipeline stage; circle area grows with the "
        "log of the agent count; hexagons are hubs (coordinators of a star, hierarchy or federation).</figcaption>"
        "</figure>"
        '<div class="two">'
        f"<div><h3>Design YAML</h3><pre>{html.escape(yaml_text)}</pre>"
        f'<p class="note">Also in {html.escape(str(res.path / "best.yaml"))}.</p></div>'
        f"<div><h3>Mermaid diagram (source)</h3><pre>{html.escape(mermaid)}</pre>"
        '<p class="note">Rendered offline as the role graph above. Paste this source into any Mermaid viewer '
        "(GitHub Markdown, mermaid.live) for Mermaid's own drawing, or export it with "
        "<code>--to mermaid</code>.</p></div>"
        "</div>"
    )


def _static_plots(res: RunResults, pngs: dict[str, bytes]) -> str:

    parts = []
    for key, title, caption in _STATIC_PLOTS:
        img = _img(pngs[key], title)
        parts.append(
            f'<figure id="plot-{key}"><h3>{html.escape(title)}</h3>{img}<figcaption>{caption}</figcaption></figure>'
        )
    return "\n".join(parts)


def _top_frame(res: RunResults, top: int) -> pd.DataFrame:
    frame = res.top(top)
    cols = [c for c in TOP_COLUMNS if c in frame.columns and frame[c].notna().any()]
    return frame[cols]


def _pareto_table(res: RunResults) -> str:
    frame = res.pareto.frame
    objectives = res.front_objectives
    names = [o.name for o in objectives]
    cols = [c for c in ("trial", *names, "score", "latency", "agents", "topology", "feasible") if c in frame.columns]
    cols = list(dict.fromkeys(cols))
    ordered = frame[cols].sort_values(names[0], ascending=objectives[0].direction != "maximize", kind="stable")
    if "feasible" in ordered.columns:  # feasible designs first: those are the ones to pick from
        ordered = ordered.sort_values("feasible", ascending=False, kind="stable")
    note = (
        f'<p class="note">The front on the objectives {html.escape(", ".join(names))}. Every design in it is also '
        f"a YAML file in {html.escape(str(res.path / 'pareto'))}/. The Pareto plot above draws the front among "
        "feasible designs only, so an infeasible design listed here is missing there.</p>"
    )
    return _table(ordered) + note


def _failures(res: RunResults) -> str:
    failed = res.trials[res.trials["state"] == "FAIL"]
    if failed.empty:
        return ""
    counts = failed["fail_reason"].fillna("(no reason recorded)").value_counts()
    rows = "".join(f'<tr><td class="num">{n}</td><td>{html.escape(str(r))}</td></tr>' for r, n in counts.items())
    return f"<table><tr><th>trials</th><th>reason</th></tr>{rows}</table>"


def _interactive(res: RunResults) -> tuple[str, str]:
    """plotly.js once in <head>, compressed; each figure as a div and its JSON, drawn once plotly.js is ready.

    plotly.js is 4.8 MB of minified text; gzip makes it 1.4 MB (1.9 MB in
    base64), which the browser inflates with its own ``DecompressionStream``
    (Chromium 80, Firefox 113, Safari 16.4). The page stays self-contained and
    is a third of the size. Figures are plotted when plotly.js has loaded,
    from JSON held in ``<script type="application/json">`` blocks.
    """
    import plotly.io

    from swarmdesign.plots import interactive

    figs = interactive.every_plot(res)
    divs = []
    for name, fig in figs.items():
        spec = plotly.io.to_json(fig, validate=False, pretty=False).replace("</", "<\\/")
        divs.append(
            f'<div class="plotly-figure"><div id="plotly-{name}" class="plotly-graph-div" '
            f'style="width:100%;height:{int(fig.layout.height or 450)}px"></div>'
            f'<script type="application/json" class="plotly-spec" data-div="plotly-{name}">{spec}</script></div>'
        )
    note = (
        '<p class="note">Zoom, pan and hover for trial details. Search trials only; importances are Optuna\'s '
        "PED-ANOVA over them. plotly.js is embedded (compressed), so this works offline.</p>"
    )
    return _plotly_head(), note + "\n".join(divs) + _PLOT_ALL


def _plotly_head() -> str:
    return f'<script type="application/octet-stream" id="plotlyjs-gz">{_plotlyjs_gzip_base64()}</script>{_LOAD_PLOTLY}'


@functools.lru_cache(maxsize=1)
def _plotlyjs_gzip_base64() -> str:
    """plotly.js, gzipped and base64-encoded: computed once per plotly version (~0.2 s of CPU), then read back.

    The result is kept in the user's cache folder (``$XDG_CACHE_HOME`` or
    ``~/.cache``, ``swarmdesign/``) under the plotly version; a folder that
    cannot be written only means computing it each time.
    """
    import gzip

    import plotly
    import plotly.offline

    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "swarmdesign"
    cached = folder / f"plotly-{plotly.__version__}.min.js.gz.b64"
    try:
        text = cached.read_text(encoding="ascii")
        if text and text.startswith("H4sI"):  # base64 of gzip's magic bytes: a whole file, not a torn one
            return text
    except (OSError, UnicodeDecodeError):
        pass
    raw = plotly.offline.get_plotlyjs().encode("utf-8")
    text = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="ascii")
        tmp.replace(cached)
    except OSError:
        pass
    return text


_LOAD_PLOTLY = """<script>
window.swarmdesignPlotly = (async function () {
  var b64 = document.getElementById("plotlyjs-gz").textContent;
  var bin = atob(b64), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  var code = await new Response(stream).text();
  var s = document.createElement("script");
  s.text = code;
  document.head.appendChild(s);
  return window.Plotly;
})();
</script>"""

_PLOT_ALL = """<script>
window.swarmdesignPlotly.then(function (Plotly) {
  var specs = Array.prototype.slice.call(document.querySelectorAll("script.plotly-spec"));
  return Promise.all(specs.map(function (el) {
    var fig = JSON.parse(el.textContent);
    return Plotly.newPlot(el.getAttribute("data-div"), fig.data, fig.layout, {responsive: true});
  }));
}).then(function () { if (window.swarmdesignCountPlotly) window.swarmdesignCountPlotly(); });
</script>"""


# ------------------------------------------------------------ rendering
#: Plots drawn in a forked child while this process computes the importances, draws them and the role
#: graph, and builds the interactive part: about the same CPU time on each side.
_CHILD_PLOTS = ("convergence", "pareto_front", "loss_breakdown", "robustness", "advantage")


def _render(
    res: RunResults, keys: list[str], alongside: Callable[[], tuple[str, str]] | None
) -> tuple[dict[str, bytes], tuple[str, str] | None]:
    """PNG bytes of each plot in ``keys``, and the result of ``alongside()`` (the interactive part).

    Drawing the PNGs is most of a report's time and uses one core. With two
    or more cores (on Linux, where ``fork`` is safe and cheap) a forked child
    draws about half of them while this process draws the rest and builds the
    interactive part: the page takes roughly the time of the longer half. A
    child that fails is simply redone here.
    """
    if keys:
        import matplotlib.backends.backend_agg  # noqa: F401 - imported once, before the fork, for both sides
        import matplotlib.figure  # noqa: F401
    child_keys = [k for k in keys if k in _CHILD_PLOTS] if _cores() >= 2 and sys.platform == "linux" else []
    receive, proc = None, None
    if child_keys:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)

        def child() -> None:
            try:
                send.send({k: _png(res, k) for k in child_keys})
            except BaseException as exc:  # noqa: BLE001 - the parent redraws what the child could not
                send.send(f"{type(exc).__name__}: {exc}")

        proc = ctx.Process(target=child, daemon=True)
        proc.start()
        send.close()
    pngs = {k: _png(res, k) for k in keys if k not in child_keys}
    extra = alongside() if alongside is not None else None
    if proc is not None and receive is not None:
        try:
            got = receive.recv() if receive.poll(300) else None
        except EOFError:
            got = None
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            receive.close()
        if isinstance(got, dict):
            pngs.update(got)
    for k in keys:  # whatever the child did not deliver
        if k not in pngs:
            pngs[k] = _png(res, k)
    return pngs, extra


def _png(res: RunResults, key: str) -> bytes:
    from swarmdesign import plots

    if key == "role_graph":
        assert res.best is not None
        return plots.save_png(plots.role_graph(res.best))
    return plots.save_png(getattr(plots, key)(res))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ------------------------------------------------------------- helpers
def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for col, value in row.items():
            text = _num(str(col), value)
            numeric = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'


def _num(name: str, value: Any) -> str:
    """A cell as a reader wants it: dollars with cents, seconds whole, shares with 3 decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return html.escape(str(value))
    if name.endswith("_se"):
        return f"{value:.2g}"
    if name in ("trial", "evaluation", "generation", "particle", "designs", "search_trial"):
        return str(int(value))
    if name == "cost":
        return f"${value:,.2f}"
    if name == "latency":
        return f"{value:,.0f} s"
    if name == "agents":
        return f"{int(value):,}"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"


__all__ = ["REPORT_NAME", "build_report", "write_report"]
