"""What the report computes, and what it leaves alone: the same importances as Optuna, without its plot module.

The report's interactive figures and importances are built from the trials
table (a small in-memory study for PED-ANOVA) instead of a copy of the run's
study and ``optuna.visualization`` (which imports matplotlib's pyplot); these
tests hold the numbers to Optuna's and check that path is the one taken.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import optuna

from swarmdesign.plots import _data, interactive
from swarmdesign.results import load_run
from tests.conftest import REPO


def test_importances_from_the_table_equal_optunas_on_the_study(default_run: Path) -> None:
    res = load_run(default_run)
    ours = _data.param_importances(res)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = optuna.importance.get_param_importances(
            res.search_study, target=_data.importance_target(res, "score", -1.0)
        )
    assert ours.keys() == theirs.keys() and len(ours) >= 5
    for name, value in theirs.items():
        assert abs(ours[name] - value) < 1e-9, name
    assert len(_data.plot_study(res).trials) == int(
        ((res.trials["state"] == "COMPLETE") & _data.search_mask(res.trials)).sum()
    )


def test_history_and_parallel_coordinates_use_the_trials_own_numbers(default_run: Path) -> None:
    res = load_run(default_run)
    search = res.trials[(res.trials["state"] == "COMPLETE") & _data.search_mask(res.trials)]
    history = interactive.optimization_history(res)
    assert sorted(int(x) for x in history.data[0].x) == sorted(search["trial"])
    par = interactive.parallel_coordinate(res)
    dims = par.data[0].dimensions
    assert dims[0].label == "score" and len(dims[0].values) == len(search)
    kinds = [d for d in dims if d.label == "topology.kind"]
    if kinds:  # a categorical axis is labelled with its categories
        assert set(kinds[0].ticktext) <= set(search["param.topology.kind"].astype(str))


def test_report_needs_neither_optuna_visualization_nor_pyplot(default_run: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from swarmdesign.report import write_report\n"
        f"write_report({str(default_run)!r}, {str(tmp_path / 'r.html')!r})\n"
        "bad = [m for m in ('optuna.visualization', 'matplotlib.pyplot') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "A new study created" not in proc.stderr
    assert (tmp_path / "r.html").stat().st_size > 500_000


def test_a_table_value_the_space_refuses_falls_back_to_the_study(default_run: Path) -> None:
    res = load_run(default_run)
    column = next(c for c in res.trials.columns if c.startswith("param.count."))
    res.trials.loc[res.trials.index[0], column] = 10**12  # far outside any count range
    study = _data.plot_study(res)
    assert study.study_name.endswith("(search)")  # res.search_study, not the table's copy
    assert _data.param_importances(res)
