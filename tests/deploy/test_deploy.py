"""The deploy files work as written, checked without a Docker engine or a cluster.

* Dockerfile: its build context is made of exactly what it COPYs, and the
  package builds and installs from that context (what ``docker build`` runs),
  with the bundled search spaces, scenarios, designs and task sets inside.
* docker-compose.yml: the driver's and the worker's commands are run as
  written (storage from ``SWARMDESIGN_STORAGE``) against a real PostgreSQL,
  with only the budget shrunk; the workers finish the driver's study.
* k8s-workers-job.yaml: validated (strictly: unknown fields are errors)
  against the Kubernetes JSON schemas that the ``kubernetes-validate``
  package ships, so nothing is fetched at test time.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


# ------------------------------------------------------------------ Dockerfile
def _copies(dockerfile: Path) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY instruction, in order."""
    out = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and parts[0].upper() == "COPY":
            args = [p for p in parts[1:] if not p.startswith("--")]
            out.append((args[:-1], args[-1]))
    return out


def build_context(dockerfile: Path, root: Path, dest: Path) -> Path:
    """The files the image's WORKDIR holds after the COPY lines, laid out in ``dest``."""
    for sources, target in _copies(dockerfile):
        for source in sources:
            src = root / source
            assert src.exists(), f"{dockerfile.name} copies {source}, which the repository does not have"
            into = dest / target.removeprefix("./")
            if target.endswith("/") or len(sources) > 1:
                into = into / src.name
            if src.is_dir():
                shutil.copytree(src, into, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, into)
    return dest


def test_dockerfile_context_builds_and_installs(tmp_path: Path) -> None:
    """``pip install .`` from exactly the copied files, as the image's RUN line does (no Docker needed)."""
    pytest.importorskip("hatchling", reason="needs the build backend hatchling (pip install hatchling)")
    context = build_context(DEPLOY / "Dockerfile", REPO, tmp_path / "context")
    wheels = tmp_path / "wheels"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = wheels.glob("swarmdesign-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("search_spaces", "fitness", "designs", "tasks"):
        bundled = [n for n in names if n.startswith(f"swarmdesign/_bundled/{folder}/")]
        assert bundled, f"the image's package lacks its bundled {folder}"
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (target / "swarmdesign" / "_bundled" / "designs" / "code_review_chain.yaml").is_file()


# ------------------------------------------------------------------ compose
def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _driver_args(compose: dict[str, Any]) -> list[str]:
    """The driver's ``swarmdesign`` arguments, from its ``sh -c 'exec swarmdesign ...'`` entrypoint."""
    entry = compose["services"]["driver"]["entrypoint"]
    assert entry[:2] == ["sh", "-c"]
    words = shlex.split(entry[2].replace("$$", "$"))
    assert words[:2] == ["exec", "swarmdesign"]
    return words[2:]


def _shrunk(args: list[str], budget: str) -> list[str]:
    out = list(args)
    for flag in ("-n", "--budget"):
        if flag in out:
            out[out.index(flag) + 1] = budget
    return out


def test_compose_services_are_wired_to_one_study() -> None:
    compose = _compose()
    driver = _driver_args(compose)
    worker = compose["services"]["worker"]["command"]
    assert worker[0] == "worker"
    assert driver[driver.index("--name") + 1] == worker[worker.index("--study") + 1]
    assert "--driver" in driver
    for name in ("driver", "worker"):
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert "SWARMDESIGN_STORAGE" in service["environment"]


@pytest.mark.slow
def test_compose_commands_run_a_study_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """The driver and a worker, started with the compose file's own arguments, finish a small study."""
    compose = _compose()
    driver = _shrunk(_driver_args(compose), "4")
    study = f"compose-check-{os.getpid()}-{int(time.time())}"
    driver[driver.index("--name") + 1] = study
    driver = [os.path.expandvars(a) for a in driver]  # "$SWARMDESIGN_STORAGE", as sh would expand it
    worker = list(compose["services"]["worker"]["command"])
    worker[worker.index("--study") + 1] = study
    env = dict(os.environ, SWARMDESIGN_STORAGE=postgres_url)
    driver = [a.replace("$SWARMDESIGN_STORAGE", postgres_url) for a in driver]
    cli = [sys.executable, "-m", "swarmdesign.cli"]
    logs = tmp_path / "logs"
    logs.mkdir()
    worker_codes: list[int] = []
    with (logs / "driver.log").open("wb") as dlog, (logs / "worker.log").open("wb") as wlog:
        drv = subprocess.Popen([*cli, *driver, "--out", str(tmp_path / "runs"), "-q"], cwd=tmp_path, env=env,
                               stdout=dlog, stderr=subprocess.STDOUT)  # fmt: skip
        wrk = None
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                if wrk is None or wrk.poll() is not None:
                    if wrk is not None:
                        worker_codes.append(wrk.returncode)
                        if wrk.returncode == 0:
                            break
                        time.sleep(1)  # compose's `restart: on-failure`
                    wrk = subprocess.Popen(
                        [*cli, *worker], cwd=tmp_path, env=env, stdout=wlog, stderr=subprocess.STDOUT
                    )
                time.sleep(0.5)
            driver_code = drv.wait(timeout=300)  # after the search it re-scores its best designs (recommendation)
        finally:
            for proc in (drv, wrk):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
    text = (logs / "driver.log").read_text(errors="replace") + (logs / "worker.log").read_text(errors="replace")
    assert driver_code == 0, text[-3000:]
    assert worker_codes and worker_codes[-1] == 0, (worker_codes, text[-3000:])
    import optuna

    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the postgres extra installs psycopg2.
    storage = postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    assert sum(t.state.is_finished() for t in trials) >= 4


# ------------------------------------------------------------------ Kubernetes
def test_k8s_job_passes_the_kubernetes_schema() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (the dev extra)")
    manifest = yaml.safe_load((DEPLOY / "k8s-workers-job.yaml").read_text(encoding="utf-8"))
    kv.validate(manifest, kv.latest_version(), strict=True)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "worker"


def test_the_schema_check_catches_a_broken_job() -> None:
    """The check can fail: a misspelt field is refused."""
    kv = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (the dev extra)")
    manifest = yaml.safe_load((DEPLOY / "k8s-workers-job.yaml").read_text(encoding="utf-8"))
    manifest["spec"]["parallelizm"] = manifest["spec"].pop("parallelism")
    with pytest.raises(kv.ValidationError):
        kv.validate(manifest, kv.latest_version(), strict=True)
