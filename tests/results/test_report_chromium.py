"""Done means: headless Chromium renders the report of a default run with every plot visible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot_report.py"
EXIT_NO_CHROMIUM = 3


@pytest.mark.slow
def test_chromium_renders_every_plot(default_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(default_run), "--out", str(shot)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode == EXIT_NO_CHROMIUM:
        message = "chromium is missing: apt-get update && apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = json.loads(proc.stdout.strip().splitlines()[-1])
    assert state["ok"] is True
    assert state["images"] == "5/5" and state["plotly"] == "5/5"

    from PIL import Image

    image = Image.open(shot).convert("L")
    width, height = image.size
    assert width == 1400 and height >= 4000
    # Not a blank page: a good share of the pixels are ink (text, plots), spread down the page.
    for top in range(0, height - 1000, 1000):
        band = image.crop((0, top, width, top + 1000))
        dark = sum(band.histogram()[:200])
        assert dark > 0.01 * width * 1000, f"band at {top}px is nearly blank"


@pytest.mark.slow
def test_chromium_renders_the_recommendation_and_holds_up_pictures(recommended_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(recommended_run), "--out", str(shot)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode == EXIT_NO_CHROMIUM:
        pytest.skip("chromium is missing: apt-get update && apt-get install -y chromium")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    state = json.loads(proc.stdout.strip().splitlines()[-1])
    assert state["ok"] is True
    assert state["images"] == "7/7" and state["plotly"] == "5/5"
