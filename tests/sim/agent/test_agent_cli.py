"""The agent mode runs through the real CLI as a slow, exact evaluator: every trial completes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.mark.slow
def test_run_with_the_agent_mode_completes_every_trial(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "swarmdesign.cli", "run", "-E", "mode=agent", "-E", "replicas=4", "-n", "6"]
    cmd += ["--out", str(tmp_path), "--name", "agent", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    trials = pd.read_csv(tmp_path / "agent" / "trials.csv")
    assert len(trials) >= 6 and (trials["state"] == "COMPLETE").all()
    metric_cols = [c for c in trials.columns if c.startswith(("quality", "cost", "latency", "speedup", "hub_wait"))]
    assert metric_cols
    assert all(math.isfinite(v) for v in trials[metric_cols].to_numpy().ravel())
    assert (tmp_path / "agent" / "best.yaml").exists()
