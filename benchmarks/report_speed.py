"""How long ``load_run``, ``show`` and ``report`` take, and how big the page is.

Makes a run of ``--trials`` simulated trials (default 200, the size the speed
target is set for) with the recommendation stages, then times, each in a
fresh interpreter (imports included, as a user waits for them):
``load_run``, ``swarmdesign show``, ``swarmdesign report`` (interactive and
``--static``), and prints wall and CPU seconds and the page size. Wall time on
a shared machine swings with its load; CPU seconds are the steadier figure.
``--big N`` also times ``load_run`` and ``show`` of an N-trial study.

Usage: ``python benchmarks/report_speed.py [--trials 200] [--big 100000] [--label after]``
Writes ``benchmarks/results/report_speed.md`` (appends a section per label).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child and its own children) of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def make_run(out: Path, name: str, trials: int, recommend: bool) -> Path:
    cmd = [sys.executable, "-m", "swarmdesign.cli", "run", "software_team", "-n", str(trials), "--out", str(out),
           "--name", name, "-q", "--recommend" if recommend else "--no-recommend"]  # fmt: skip
    wall, cpu = timed(cmd)
    print(f"made {name}: {trials} trials in {wall:.1f} s ({cpu:.1f} s CPU)")
    return out / name


def measure(run_dir: Path) -> dict[str, tuple[float, float]]:
    py = sys.executable
    load = f"from swarmdesign.results import load_run; r = load_run({str(run_dir)!r}); r.best; r.trials.shape"
    out: dict[str, tuple[float, float]] = {}
    out["load_run"] = timed([py, "-c", load])
    out["show"] = timed([py, "-m", "swarmdesign.cli", "show", str(run_dir)])
    out["report"] = timed([py, "-m", "swarmdesign.cli", "report", str(run_dir), "--out", str(run_dir / "r.html")])
    out["report --static"] = timed(
        [py, "-m", "swarmdesign.cli", "report", str(run_dir), "--static", "--out", str(run_dir / "s.html")]
    )
    return out


def compare(run_dir: Path, other: Path, repeats: int) -> list[str]:
    """``report`` of this checkout and of ``other`` on one run, alternated so both see the same machine load."""
    py = sys.executable
    cmd = [py, "-m", "swarmdesign.cli", "report", str(run_dir), "--out", str(run_dir / "c.html")]
    head = subprocess.run(["git", "-C", str(other), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    name = f"commit {head.stdout.strip()}" if head.returncode == 0 else str(other)
    rows: dict[str, list[tuple[float, float]]] = {"this checkout": [], name: []}
    for _ in range(repeats):
        for label, root in (("this checkout", HERE.parent), (name, other.resolve())):
            env = dict(os.environ, PYTHONPATH=str(root))
            rows[label].append(timed(cmd, env=env))
    out = [
        f"report, alternated {repeats} times on the same run (median):",
        "",
        "| code | wall s | CPU s |",
        "|---|---|---|",
    ]
    for label, times in rows.items():
        walls, cpus = sorted(w for w, _ in times), sorted(c for _, c in times)
        out.append(f"| {label} | {walls[len(walls) // 2]:.2f} | {cpus[len(cpus) // 2]:.2f} |")
    return [*out, ""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--big", type=int, default=0)
    ap.add_argument("--label", default="now")
    ap.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="a checkout of another commit: its report is timed on the same run, alternating with this one's",
    )
    ap.add_argument("--repeats", type=int, default=3, help="alternations for --compare-with")
    args = ap.parse_args()
    lines = [f"## {args.label}", "", f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", ""]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = make_run(Path(tmp), "r", args.trials, recommend=True)
        figures = measure(run_dir)
        size = (run_dir / "r.html").stat().st_size / 1e6
        ssize = (run_dir / "s.html").stat().st_size / 1e6
        lines += [f"{args.trials}-trial run:", "", "| step | wall s | CPU s |", "|---|---|---|"]
        lines += [f"| {k} | {w:.2f} | {c:.2f} |" for k, (w, c) in figures.items()]
        lines += ["", f"page: {size:.2f} MB interactive, {ssize:.2f} MB static", ""]
        if args.compare_with is not None:
            lines += compare(run_dir, args.compare_with, args.repeats)
        if args.big:
            big = make_run(Path(tmp), "big", args.big, recommend=False)
            py = sys.executable
            load = f"from swarmdesign.results import load_run; r = load_run({str(big)!r}); r.best; r.trials.shape"
            for k, cmd in (("load_run", [py, "-c", load]), ("show", [py, "-m", "swarmdesign.cli", "show", str(big)])):
                w, c = timed(cmd)
                lines.append(f"{args.big}-trial study, {k}: {w:.2f} s wall, {c:.2f} s CPU")
            lines.append("")
    text = "\n".join(lines)
    print(text)
    results = HERE / "results" / "report_speed.md"
    header = "# Report and load_run speed\n\nMade by `python benchmarks/report_speed.py`.\n\n"
    old = results.read_text() if results.exists() else header
    results.write_text(old + text + "\n")


if __name__ == "__main__":
    main()
