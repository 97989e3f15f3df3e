"""Robustness ranges written in the scenario file, and the command-line options that override them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from swarmdesign.errors import SwarmdesignError
from swarmdesign.fitness import Scenario
from swarmdesign.results import load_run
from tests.conftest import run_cli

MATH_QA = Path(__file__).resolve().parents[2] / "fitness" / "math_qa.yaml"


def _scenario(tmp_path: Path, section: object) -> Path:
    data = yaml.safe_load(MATH_QA.read_text())
    data["robustness"] = section
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_scenarios_ranges_are_used_and_the_cli_overrides_them(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, {"scenarios": 3, "skill": 0.05, "fault": 1.2, "price": 1.1, "difficulty": 0.02})
    r = run_cli("run", "qa_ensemble", "-f", str(scenario), "-n", "16", "-o", "random", "--rescore-top", "2",
                "--rescore-seeds", "2", "--robustness", "2", "--out", str(tmp_path), "--name", "r", "-q")  # fmt: skip
    assert r.code == 0, r.stderr
    rob = load_run(tmp_path / "r").recommendation["robustness"]
    assert rob["ranges"] == {"skill": 0.05, "fault": 1.2, "price": 1.1, "difficulty": 0.02}
    assert rob["scenarios"] == 2  # --robustness N on run sets the count

    r = run_cli("robustness", str(tmp_path / "r"), "--skill", "0.4")
    assert r.code == 0, r.stderr
    rob = load_run(tmp_path / "r").recommendation["robustness"]
    assert rob["ranges"] == {"skill": 0.4, "fault": 1.2, "price": 1.1, "difficulty": 0.02}  # the option wins
    assert rob["scenarios"] == 3  # the file's count when -n is not given


def test_a_bad_range_in_the_scenario_names_its_field(tmp_path: Path) -> None:
    bad = (({"fault": 0.5}, "robustness.fault"), ({"skill": -1}, "robustness.skill"),
           ({"scenarios": 0}, "robustness.scenarios"), ({"spread": 1}, "robustness.spread"))  # fmt: skip
    for section, field in bad:
        with pytest.raises(SwarmdesignError, match=field.replace(".", r"\.")):
            Scenario.load(_scenario(tmp_path, section))
    r = run_cli("run", "qa_ensemble", "-f", str(_scenario(tmp_path, {"skill": -1})), "-n", "4",
                "--out", str(tmp_path / "o"), "-q")  # fmt: skip
    assert r.code == 2, r.stderr
    assert "robustness.skill" in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
