"""``swarmdesign robustness``: does the recommendation hold if the scenario is a little wrong?"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def robustness(
        run_dir: Path = typer.Argument(..., help="A finished run folder."),
        scenarios: int = typer.Option(
            None, "--scenarios", help="Perturbed scenarios to score under (default: the scenario's, or 20)."
        ),
        skill: float = typer.Option(None, "--skill", help="Each model's skill shifted by up to ± this (logit; 0.3)."),
        fault: float = typer.Option(None, "--fault", help="Fault rate multiplied by a factor in [1/F, F] (2)."),
        price: float = typer.Option(
            None, "--price", help="Each model's prices multiplied by a factor in [1/P, P] (1.5)."
        ),
        difficulty: float = typer.Option(
            None, "--difficulty", help="Mean task difficulty shifted by up to ± this (0.1)."
        ),
        storage: str = typer.Option(None, "--storage", help="Storage URL, if the run's needs a password again."),
    ) -> None:
        """Re-score the recommendation and its rivals under perturbed scenarios: how often each stays best."""
        from swarmdesign.commands._common import quiet_optuna, run_dir_arg, stderr_console
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.recommend.robustness import Perturbation

        if scenarios is not None and not 1 <= scenarios <= 10_000:
            raise SwarmdesignError(f"expected 1..10000 scenarios, got {scenarios}", field="--scenarios")
        given = {"skill": skill, "fault": fault, "price": price, "difficulty": difficulty}
        Perturbation().updated(**given).check()  # bad options fail before the run is opened
        from swarmdesign.recommend.pipeline import recommend
        from swarmdesign.recommend.robustness import robustness_stage
        from swarmdesign.recommend.text import recommendation_lines
        from swarmdesign.runner import Run

        quiet_optuna()
        run = Run.open(run_dir_arg(run_dir), storage=storage)
        if run.finished() < run.budget:
            raise SwarmdesignError(
                f"the search has {run.finished()} of {run.budget} trials; finish it with: swarmdesign resume {run_dir}",
                file=str(run_dir),
            )
        console = stderr_console()
        ranges = Perturbation.of(run.scenario, **given).check()
        section = run.scenario.robustness
        if scenarios is None:
            scenarios = section.scenarios if section is not None else 20

        def log(message: str) -> None:
            console.print(message, markup=False)

        if run.trials.recommendation() is None:
            recommend(run, log=log)
        rec = robustness_stage(run, scenarios, ranges=ranges, log=log)
        table = rec["robustness"]["table"]
        typer.echo(
            f"{'design':<60} {'mean score':>10} {'wins':>6} {'near':>6} {'mean regret':>11} {'worst regret':>12}"
        )
        for row in table:
            typer.echo(
                f"{row['design'][:60]:<60} {row['mean_score']:>10.4f} {row['win_share']:>6.0%} "
                f"{row.get('near_best_share', float('nan')):>6.0%} "
                f"{row['mean_regret']:>11.4f} {row['worst_regret']:>12.4f}"
            )
        log(recommendation_lines(rec)[-1])
