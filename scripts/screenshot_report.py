#!/usr/bin/env python
"""Render a run's HTML report in headless Chromium: check every plot drew, and take a screenshot.

Usage:
    python scripts/screenshot_report.py [RUN_DIR] [--out shot.png] [--report report.html] [--static]

Without RUN_DIR a fresh run is made with the defaults (``swarmdesign run
--budget 60``) in a temporary folder. The report is written with
``swarmdesign report``, opened from a ``file://`` URL with networking off,
and the page's own load check is read back (``data-images`` /
``data-plotly`` on ``<body>``: pictures that rendered / pictures on the
page). Prints one JSON line; exits 0 when every picture rendered, 1 when
some did not, 3 when Chromium is missing.

Chromium on Debian/Ubuntu: ``apt-get update && apt-get install -y chromium``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH = 1400
MIN_HEIGHT = 4000
MAX_HEIGHT = 16000
EXIT_NO_CHROMIUM = 3


def find_chromium() -> str | None:
    """The Chromium executable (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium_args(chromium: str, profile: Path) -> list[str]:
    # Everything that could reach the network is off: the report must render without it.
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
    ]  # fmt: skip


def render_state(chromium: str, page: Path, profile: Path, timeout: float = 120) -> dict[str, str]:
    """The ``data-*`` marks the report's load script puts on ``<body>`` after rendering."""
    proc = subprocess.run(
        [*_chromium_args(chromium, profile), "--virtual-time-budget=15000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    match = re.search(r"<body\s([^>]*data-images[^>]*)>", proc.stdout)
    if not match:
        return {}
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1)))


def screenshot(chromium: str, page: Path, png: Path, profile: Path, height: int, timeout: float = 120) -> None:
    subprocess.run(
        [
            *_chromium_args(chromium, profile),
            "--virtual-time-budget=15000",
            f"--screenshot={png.resolve()}",
            f"--window-size={WIDTH},{height}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=timeout,
        check=True,
    )


def all_rendered(state: dict[str, str]) -> bool:
    """True when every image and every plotly figure on the page drew (``n/n`` with n > 0 images)."""
    images = state.get("images", "0/0").split("/")
    plotly = state.get("plotly", "0/0").split("/")
    return images[0] == images[1] != "0" and plotly[0] == plotly[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run folder (default: make one with the defaults)")
    parser.add_argument("--out", type=Path, default=Path("report-screenshot.png"), help="the PNG to write")
    parser.add_argument("--report", type=Path, help="where to write the HTML (default: next to the PNG)")
    parser.add_argument("--static", action="store_true", help="report without the interactive section")
    args = parser.parse_args(argv)

    chromium = find_chromium()
    if chromium is None:
        print(json.dumps({"error": "chromium not found; apt-get update && apt-get install -y chromium"}))
        return EXIT_NO_CHROMIUM
    cli = [sys.executable, "-m", "swarmdesign.cli"]
    with tempfile.TemporaryDirectory(prefix="sd-shot-") as tmp:
        work = Path(tmp)
        run_dir = args.run_dir
        if run_dir is None:
            subprocess.run([*cli, "run", "--budget", "60", "--out", str(work), "--name", "r1", "--quiet"], check=True)
            run_dir = work / "r1"
        report = args.report or args.out.with_suffix(".html")
        command = [*cli, "report", str(run_dir), "--out", str(report)]
        if args.static:
            command.append("--static")
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        state = render_state(chromium, report, work / "profile")
        height = min(max(int(state.get("height", MIN_HEIGHT)) + 40, MIN_HEIGHT), MAX_HEIGHT)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(chromium, report, args.out, work / "profile", height)
    ok = all_rendered(state)
    print(json.dumps({**state, "report": str(report), "screenshot": str(args.out), "height": height, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
