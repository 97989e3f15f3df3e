"""The HTML report and the report/dashboard commands' user errors."""

from __future__ import annotations

import base64
import gzip
import html
import re
from pathlib import Path

import pytest

from swarmdesign.report import build_report, write_report
from swarmdesign.results import load_run


@pytest.fixture(scope="module")
def report_html(default_run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(default_run, out).read_text(encoding="utf-8")


def test_report_has_summary_plots_design_and_top_trials(report_html: str, default_run: Path) -> None:
    res = load_run(default_run)
    for section in ("summary", "best", "plots", "top", "pareto", "interactive"):
        assert f'<section id="{section}">' in report_html, section
    # five PNGs (role graph + four plots) inlined, five plotly figures
    body = report_html.split("<main>", 1)[1]  # after the embedded plotly.js, which has data URIs of its own
    assert body.count('<img class="plot"') == 5
    assert body.count('src="data:image/png;base64,') == 5
    assert len(re.findall(r'<div id="plotly-[a-z_]+" class="plotly-graph-div"', report_html)) == 5
    # best design as YAML and as Mermaid source
    assert f"name: {res.best.name}" in report_html
    assert "flowchart LR" in report_html
    # the top-trials table lists the best trials first
    first_row = report_html.split('<section id="top">', 1)[1].split("<tr>")[2]
    assert f'<td class="num">{int(res.top(1)["trial"].iloc[0])}</td>' in first_row


def test_a_score_run_reports_the_front_of_its_scenarios_objectives(runs_root: Path, tmp_path: Path) -> None:
    """A run of the score (no --pareto) under quality and cost lists their front, not the best design alone."""
    from tests.results.conftest import make_run

    run_dir = make_run(runs_root, "report-score-front", optimizer="psoga", budget=32)
    res = load_run(run_dir)
    assert [o.name for o in res.objectives] == ["score"] and len(res.pareto) > 1
    text = build_report(run_dir, top=3)
    assert f"Pareto-optimal designs ({len(res.pareto)})" in text
    section = text.split('<section id="pareto">', 1)[1].split("</section>", 1)[0]
    assert "The front on the objectives quality, cost" in section
    assert section.count("<tr>") == len(res.pareto) + 1  # a header and one row per design of the front


def test_report_needs_no_network(report_html: str) -> None:
    """Nothing is fetched: no external script, stylesheet, image or font."""
    assert not re.search(r"<script[^>]+src=", report_html)
    assert not re.search(r"<link[^>]+href=", report_html)
    assert not re.search(r'<img[^>]+src="(?!data:)', report_html)
    assert "@import" not in report_html and "url(http" not in report_html
    # plotly.js embedded once, gzipped and base64-encoded, inflated by the browser
    blobs = re.findall(r'<script type="application/octet-stream" id="plotlyjs-gz">([^<]+)</script>', report_html)
    assert len(blobs) == 1
    assert b"plotly.js v" in gzip.decompress(base64.b64decode(blobs[0]))[:2000]
    assert report_html.count('<script type="text/javascript">/**') <= 1


def test_static_report_is_small_and_lists_failures(run_copy: Path) -> None:
    import optuna
    from optuna.trial import TrialState

    res = load_run(run_copy)
    t0 = res.study.trials[0]
    res.study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.FAIL,
            params=t0.params,
            distributions=t0.distributions,
            user_attrs={"fail_reason": "RuntimeError: <b>boom</b>", "design": t0.user_attrs["design"]},
        )
    )
    html = build_report(run_copy, interactive=False, top=3)
    assert 'class="plotly-graph-div"' not in html and "plotly.js v" not in html
    assert '<section id="interactive">' not in html
    assert len(html) < 1_500_000
    assert html.count('<img class="plot"') == 5
    assert "Top 3 trials" in html
    assert '<section id="failures">' in html
    assert "RuntimeError: &lt;b&gt;boom&lt;/b&gt;" in html  # escaped


def test_cli_report_writes_the_file(cli, default_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.html"
    result = cli("report", str(default_run), "--out", str(out), "--static")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "{missing}"], "no such run folder"),
        (["report", "{tmp}"], "not a run folder"),
        (["report", "{run}", "--top", "0"], "expected --top >= 1"),
        (["dashboard", "{run}", "--port", "0"], "expected a port in 1..65535"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(cli, default_run: Path, tmp_path: Path, args, message) -> None:
    values = {"missing": str(tmp_path / "nope"), "tmp": str(tmp_path), "run": str(default_run)}
    result = cli(*[a.format(**values) for a in args])
    assert result.code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_report_shows_the_recommendation_baselines_trim_robustness_and_kinds(recommended_run: Path) -> None:
    from swarmdesign.report import build_report
    from swarmdesign.results import load_run

    res = load_run(recommended_run)
    rec = res.recommendation
    page = build_report(res, interactive=False)
    for section in ('id="recommendation"', 'id="holds-up"', 'id="kinds"', "Against the baselines"):
        assert section in page
    assert f"Trimmed from {rec['agents_before']:,} to {rec['agents_after']:,} agents" in page
    assert f"Best design: trial {rec['trial']}." in page
    for b in rec["baselines"]:
        assert html.escape(b["name"]) in page
    assert page.count("<img") >= 7  # the five plots + advantage + holds-up
    assert "&amp;gt;" not in page  # escaped once, not twice
