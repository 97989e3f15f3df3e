"""Every notebook in notebooks/ is stored clean and runs top to bottom against fresh small runs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
EXPECTED = {"01_inspect_a_run.ipynb", "02_compare_optimizers.ipynb", "03_million_agent_designs.ipynb"}


def test_the_three_notebooks_exist_and_are_stored_without_outputs() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: stored with outputs"


def test_notebooks_use_only_the_public_api() -> None:
    """No private module or attribute of swarmdesign (a leading underscore) in any notebook."""
    for path in NOTEBOOKS:
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert "swarmdesign._" not in source and "._storage" not in source, path.name
        assert not [line for line in source.splitlines() if "import" in line and " _" in line.split("import")[1]]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    Path(os.environ["HOME"]).mkdir(parents=True, exist_ok=True)  # IPython keeps its profile there
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbclient import NotebookClient

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.fail("no 'python3' Jupyter kernel; run: python -m ipykernel install --sys-prefix")
    nb = nbformat.read(path, as_version=4)
    # The notebook makes its runs under ./runs: tmp_path, fresh for every test.
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell, with its traceback
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "runs").is_dir()
