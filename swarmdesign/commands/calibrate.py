"""``swarmdesign calibrate``: fit the simulator to real LLM traces and report how well it predicts unseen designs."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def calibrate(
        traces: list[Path] = typer.Argument(..., help="llm_traces.jsonl files or run folders holding them (several)."),
        fitness: str = typer.Option(..., "--fitness", "-f", help="Base scenario: a bundled name or a path."),
        out: Path = typer.Option(..., "--out", help="Where to write the calibrated scenario YAML."),
        holdout: float = typer.Option(
            0.0, "--holdout", help="Share of task ids kept out of the written fit and reported on, 0..0.9."
        ),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed of the task split and the simulator."),
        lodo: bool = typer.Option(True, "--lodo/--no-lodo", help="Report leave-one-design-out prediction errors."),
    ) -> None:
        """Fit per-model skill, call time, tokens, voting, judging and review parameters to TRACES.

        Then every traced design is predicted by a simulator fitted on the
        *other* designs only (leave-one-design-out), next to its real
        accuracy: the error to expect on designs never run.
        """
        import math

        from swarmdesign import yamlio
        from swarmdesign.commands._common import load_scenario
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.llm import calibrate as cal

        if not (math.isfinite(holdout) and 0.0 <= holdout <= 0.9):
            raise SwarmdesignError(f"expected a share in 0..0.9, got {holdout}", field="--holdout")
        if out.exists() and not out.is_file():
            raise SwarmdesignError("expected a file path, found a folder", field="--out", file=str(out))
        base, _ = load_scenario(fitness)
        obs = cal.load_observations(traces)
        for line in obs.skipped:
            typer.echo(f"skipped {line}")
        fit_ids, held_ids = cal.split_tasks(obs, holdout, seed)
        new, changes, stats = cal.fit(base, obs, fit_ids, seed=seed)
        new = new.model_copy(
            update={
                "name": f"{base.name}-calibrated",
                "description": f"{base.name} calibrated to {len(obs.tasks)} traced designs on {len(fit_ids)} tasks "
                "by `swarmdesign calibrate`.",
            }
        )
        text = yamlio.dumps(new.to_dict())
        typer.echo(f"fitted on {len(obs.tasks)} designs, {len(fit_ids)} task ids ({len(held_ids)} held out)")
        for line in changes:
            typer.echo(f"  {line}")
        for key, (p, n) in sorted(stats["accuracy_by_archetype"].items()):
            typer.echo(f"  producer accuracy {key}: {p:.3f} over {n} attempts")
        for model, shares in sorted(stats["item_share"].items()):
            typer.echo(f"  per-item correctness {model} ({len(shares)} items): {cal.item_histogram(shares)}")
        for key, (v, _n) in sorted(stats["votes"].items()):
            typer.echo(f"  real plurality of {key.rpartition('@')[2]} attempts, {key.rpartition('@')[0]}: {v:.3f}")
        if held_ids:
            table = cal.predictions(
                obs, held_ids, {"base": base, "calibrated": new}, seed=seed, aliases=cal.model_aliases(base, obs)
            )
            _report(f"prediction on {len(held_ids)} held-out task ids (designs seen in the fit)", table)
        if lodo and len(obs.tasks) >= 2:
            table = _lodo(cal, base, obs, seed)
            _report("leave-one-design-out: each design predicted from the other designs only", table)
            _rank_report(obs, table, seed)
        elif lodo:
            typer.echo("\nleave-one-design-out needs at least 2 traced designs")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        typer.echo(f"wrote {out}")


def _lodo(cal, base, obs, seed):  # noqa: ANN001, ANN202
    table = cal.leave_one_design_out(base, obs, seed=seed)
    table["base_error"] = table["base_quality"] - table["real_quality"]
    table["calibrated_error"] = table["calibrated_quality"] - table["real_quality"]
    return table


def _rank_report(obs, table, seed: int) -> None:  # noqa: ANN001
    """Rank agreement with its uncertainty: few tasks per design leave most real differences unresolved."""
    from swarmdesign.llm.rank_stats import agreement_line

    records = {obs.designs[did].name: recs for did, recs in obs.tasks.items()}
    for label in ("base", "calibrated"):
        predicted = dict(zip(table["design"], table[f"{label}_quality"], strict=True))
        typer.echo(f"{label:10s} {agreement_line(records, predicted, seed=seed)}")


def _report(title: str, table) -> None:  # noqa: ANN001
    from swarmdesign.llm.calibrate import errors

    typer.echo(f"\n{title}:")
    typer.echo(table.round(3).to_string(index=False))
    for label, err in errors(table, ["base", "calibrated"]).items():
        typer.echo(
            f"{label:10s} quality MAE {err['quality_mae']:.3f} (max {err['quality_max']:.3f})   "
            f"rank correlation (Spearman) {err['spearman']:.2f}   tokens/task error {err['tokens_mape']:.1%}"
        )
