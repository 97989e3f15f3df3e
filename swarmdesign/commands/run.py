"""``swarmdesign run``: start a search and write a run folder."""

from __future__ import annotations

from pathlib import Path

import typer

from swarmdesign.commands._common import DEFAULT_FITNESS, DEFAULT_SPACE


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        space: str = typer.Argument(DEFAULT_SPACE, help="Search space: a bundled name or a YAML path."),
        fitness: str = typer.Option(DEFAULT_FITNESS, "--fitness", "-f", help="Scenario: a bundled name or a path."),
        optimizer: str = typer.Option(None, "--optimizer", "-o", help="Optimizer name (see --list-optimizers)."),
        optimizer_param: list[str] = typer.Option(None, "--optimizer-param", "-p", help="Optimizer KEY=VALUE."),
        budget: int = typer.Option(200, "--budget", "-n", help="Evaluations (trials) in total."),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed for the optimizer and the evaluator."),
        out: Path = typer.Option(Path("runs"), "--out", help="Folder that holds run folders."),
        name: str = typer.Option(None, "--name", help="Run folder name (default: <space>-<timestamp>)."),
        storage: str = typer.Option(None, "--storage", help="Optuna storage URL or journal path (default: own journal)."),
        seed_design: list[Path] = typer.Option(None, "--seed-design", help="A known design to evaluate first."),
        evaluator: str = typer.Option("simulated", "--evaluator", "-e", help="Evaluator name."),
        batch_size: int = typer.Option(None, "--batch-size", help="Proposals evaluated per batch."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        list_optimizers: bool = typer.Option(False, "--list-optimizers", help="List optimizers and exit."),
    ) -> None:
        """Search SPACE for the best design under a scenario; results go to runs/<name>/."""
        from swarmdesign.commands._common import load_scenario, load_space, parse_key_values
        from swarmdesign.commands._progress import execute_with_progress
        from swarmdesign.design import Design
        from swarmdesign.optimizers import DEFAULT_OPTIMIZER, optimizer_names
        from swarmdesign.runner import DEFAULT_BATCH, Run, RunSettings

        if list_optimizers:
            typer.echo("\n".join(optimizer_names()))
            raise typer.Exit(0)
        space_obj = load_space(space)
        scenario, scenario_path = load_scenario(fitness)
        settings = RunSettings(
            space=space_obj,
            scenario=scenario,
            scenario_source=scenario_path,
            optimizer=optimizer or DEFAULT_OPTIMIZER,
            optimizer_params=parse_key_values(optimizer_param, "--optimizer-param"),
            evaluator=evaluator,
            budget=budget,
            seed=seed,
            batch_size=batch_size or DEFAULT_BATCH,
            name=name,
            out=out,
            storage=storage,
            seed_designs=[_seed_design(p, space_obj) for p in seed_design or []],
        )
        run_obj = Run.create(settings)
        execute_with_progress(run_obj, quiet=quiet)


def _seed_design(path: Path, space):  # noqa: ANN001, ANN202
    from swarmdesign.design import Design

    design = Design.load(path)
    space.design_to_params(design, file=str(path))  # fail early, naming the file
    return design
