"""``swarmdesign run``: start a search and write a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from swarmdesign.commands._common import DEFAULT_FITNESS, DEFAULT_SPACE


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        space: str = typer.Argument(DEFAULT_SPACE, help="Search space: a bundled name or a YAML path."),
        fitness: str = typer.Option(DEFAULT_FITNESS, "--fitness", "-f", help="Scenario: a bundled name or a path."),
        optimizer: str = typer.Option(None, "--optimizer", "-o", help="Optimizer name (see --list-optimizers)."),
        optimizer_param: list[str] = typer.Option(None, "--optimizer-param", "-p", help="Optimizer KEY=VALUE."),
        budget: int = typer.Option(
            200,
            "--budget",
            "-n",
            help="Evaluations (trials) in total (a large budget enlarges the population of psoga, pso, ga).",
        ),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed for the optimizer and the evaluator."),
        out: Path = typer.Option(Path("runs"), "--out", help="Folder that holds run folders."),
        name: str = typer.Option(None, "--name", help="Run folder name (default: <space>-<timestamp>)."),
        storage: str = typer.Option(
            None, "--storage", help="Optuna storage URL or journal path (default: own journal)."
        ),
        seed_design: list[str] = typer.Option(
            None, "--seed-design", help="A known design to evaluate first: a YAML file or a bundled design's name."
        ),
        evaluator: str = typer.Option("simulated", "--evaluator", "-e", help="Evaluator name or package.module:Class."),
        evaluator_param: list[str] = typer.Option(None, "--evaluator-param", "-E", help="Evaluator KEY=VALUE."),
        eval_timeout: float = typer.Option(None, "--eval-timeout", help="Seconds per design before a trial fails."),
        max_fail_share: float = typer.Option(
            0.5, "--max-fail-share", help="Stop when more than this share of a batch fails."
        ),
        batch_size: int = typer.Option(None, "--batch-size", help="Proposals evaluated per batch."),
        max_cost: float = typer.Option(None, "--max-cost", help="Hard cap in USD on LLM spending (llm evaluator)."),
        confirm_top: int = typer.Option(0, "--confirm-top", help="Re-score the K best designs on real models."),
        confirm_fitness: str = typer.Option(None, "--confirm-fitness", help="LLM scenario for --confirm-top."),
        workers: int = typer.Option(1, "--workers", "-w", help="Evaluate each batch in N local processes."),
        driver: bool = typer.Option(
            False, "--driver", help="Queue each batch in --storage for 'swarmdesign worker' processes (any machine)."
        ),
        heartbeat: int = typer.Option(10, "--heartbeat", help="--driver: seconds between worker heartbeats."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        list_optimizers: bool = typer.Option(False, "--list-optimizers", help="List optimizers and exit."),
        recommend: bool = typer.Option(
            None,
            "--recommend/--no-recommend",
            help="After the search: re-score the top designs on fresh seeds, score baselines, trim the winner "
            "(default: on; off for evaluators that spend money).",
        ),
        rescore_top: int = typer.Option(
            None, "--rescore-top", help="Designs re-scored on fresh seeds before choosing (default 5, less if slow)."
        ),
        rescore_seeds: int = typer.Option(
            None, "--rescore-seeds", help="Fresh seeds per re-score, gives the SE (default 8, less if slow)."
        ),
        trim_tolerance: float = typer.Option(
            None, "--trim-tolerance", help="Score a trimmed design may lose (default: max(0.005, 1 SE))."
        ),
        robustness: int = typer.Option(0, "--robustness", help="Re-score the top designs under N perturbed scenarios."),
        pareto: bool = typer.Option(
            False,
            "--pareto",
            help="Search the scenario's objectives (a Pareto front when several) instead of its score.",
        ),
        fill_archive: int = typer.Option(
            0, "--fill-archive", help="After the search: N more evaluations for each topology kind (best of each kind)."
        ),
    ) -> None:
        """Search SPACE for the best design under a scenario; results go to runs/<name>/."""
        from swarmdesign.commands._common import load_scenario, load_space, parse_key_values, quiet_optuna
        from swarmdesign.commands._progress import execute_with_progress
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.optimizers import DEFAULT_OPTIMIZER, optimizer_names
        from swarmdesign.runner import Run, RunSettings

        if list_optimizers:
            typer.echo("\n".join(optimizer_names()))
            raise typer.Exit(0)
        from swarmdesign.commands._common import check_options_before_start

        check_options_before_start(
            seed=seed, budget=budget, batch_size=batch_size, heartbeat=heartbeat, workers=workers,
            floats={"--eval-timeout": eval_timeout, "--max-fail-share": max_fail_share, "--max-cost": max_cost,
                    "--trim-tolerance": trim_tolerance},
            out=out, name=name, storage=storage,
        )  # fmt: skip
        space_obj = load_space(space)
        scenario, scenario_path = load_scenario(fitness)
        optimizer_params = parse_key_values(optimizer_param, "--optimizer-param")
        evaluator_params = parse_key_values(evaluator_param, "--evaluator-param")
        population_note = _budget_population(optimizer or DEFAULT_OPTIMIZER, optimizer_params, budget)
        settings = RunSettings(
            space=space_obj,
            scenario=scenario,
            scenario_source=scenario_path,
            optimizer=optimizer or DEFAULT_OPTIMIZER,
            optimizer_params=optimizer_params,
            evaluator=evaluator,
            evaluator_params=evaluator_params,
            eval_timeout_s=eval_timeout,
            max_fail_share=max_fail_share,
            budget=budget,
            seed=seed,
            batch_size=batch_size
            or _default_batch(optimizer or DEFAULT_OPTIMIZER, optimizer_params, evaluator, evaluator_params),
            name=name,
            out=out,
            storage=storage,
            seed_designs=[_seed_design(p, space_obj) for p in seed_design or []],
            pareto=pareto,
        )
        if max_cost is not None:
            if max_cost <= 0:
                raise SwarmdesignError(f"expected a positive amount of USD, got {max_cost}", field="--max-cost")
            if settings.evaluator == "llm":
                settings.evaluator_params["max_cost_usd"] = max_cost
        if confirm_top < 0:
            raise SwarmdesignError(f"expected K >= 0, got {confirm_top}", field="--confirm-top")
        confirm_scenario = None
        if confirm_top:
            if not confirm_fitness:
                raise SwarmdesignError("--confirm-top needs --confirm-fitness LLM_SCENARIO", field="--confirm-fitness")
            confirm_scenario, _ = load_scenario(confirm_fitness)  # fail before searching, not after
        from swarmdesign.parallel import check_options
        from swarmdesign.storage import redact

        check_options(workers=workers, driver=driver, storage=storage)  # before a run folder exists
        from swarmdesign.recommend import cli as recommend_cli

        rec_opts = recommend_cli.options(
            recommend=recommend, top=rescore_top, seeds=rescore_seeds, trim_tolerance=trim_tolerance,
            robustness=robustness, fill_archive=fill_archive,
        )  # fmt: skip
        quiet_optuna()
        from swarmdesign.commands._common import check_optimizer_ready

        check_optimizer_ready(settings)  # a missing dependency or an impossible population, before the folder
        from swarmdesign.storage import creation_finished, discard_unfinished

        try:
            run_obj = Run.create(settings)
        except BaseException:
            discard_unfinished()  # a failed start leaves nothing behind: the same command can run again
            raise
        creation_finished(run_obj.run_dir)
        if population_note:
            typer.echo(population_note, err=True)
        recommend_cli.bind(run_obj, rec_opts, explicit=recommend is not None)
        if driver:
            typer.echo(
                f"start workers: swarmdesign worker --storage {redact(storage)} --study {run_obj.study.study_name}",
                err=True,
            )
        execute_with_progress(run_obj, quiet=quiet, workers=workers, driver=driver, heartbeat=heartbeat)
        recommend_cli.after_search(run_obj, quiet=quiet)
        if confirm_scenario is not None:
            from swarmdesign.commands._llm_progress import confirm_with_progress

            folder = run_obj.run_dir
            typer.echo(confirm_with_progress(folder, confirm_top, confirm_scenario, max_cost_usd=max_cost, quiet=quiet))


def _seed_design(ref: str, space):  # noqa: ANN001, ANN202
    from swarmdesign.commands._common import resolve_design
    from swarmdesign.design import Design

    path = resolve_design(ref, option="--seed-design")  # the same references export and evaluate take
    design = Design.load(path)
    space.design_to_params(design, file=str(path))  # fail early, naming the file
    return design


def _budget_population(name: str, params: dict[str, Any], budget: int) -> str | None:
    """Set the population a large budget buys (:mod:`swarmdesign.optimizers.population`) into ``params``.

    Returns the note the user sees once, or None when the optimizer keeps its default population.
    """
    from swarmdesign.optimizers import budget_population

    chosen = budget_population(name, params, budget)
    if chosen is None:
        return None
    params["population"] = chosen
    return (
        f"note: a budget of {budget:,} gives {name} a population of {chosen} "
        f"({-(-budget // chosen):,} generations); -p population=N chooses another"
    )


#: Default batch of an optimizer whose proposals do not depend on outcomes, on the fast simulator: one
#: simulator call costs ~7 ms plus ~0.1 ms per design, so batches of 16 spent most of a random run in
#: per-call overhead (10^4 trials: 9.3 s at 20, 5.3 s at 200, 4.9 s at 1,000); a kill loses at most one batch.
INDEPENDENT_SIM_BATCH = 512


def _default_batch(name: str, params: dict[str, Any], evaluator: str, evaluator_params: dict[str, Any]) -> int:
    """One batch per generation for population optimizers, so a generation is one vectorised call.

    An optimizer whose proposals never depend on outcomes (``random``) gets large batches on the fast
    simulator (:data:`INDEPENDENT_SIM_BATCH`); on any slower evaluator a batch stays small, so progress,
    ``--max-cost`` and a kill stay fine-grained.
    """
    from swarmdesign.optimizers import make_optimizer
    from swarmdesign.runner import DEFAULT_BATCH

    opt = make_optimizer(name, **params)
    if opt.population_based:
        return int(getattr(opt, "population", DEFAULT_BATCH))
    fast_sim = evaluator == "simulated" and evaluator_params.get("mode", "fast") == "fast"
    return INDEPENDENT_SIM_BATCH if opt.independent_proposals and fast_sim else DEFAULT_BATCH
