"""``swarmdesign calibrate``: fit the simulator to real LLM traces and report its held-out error."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def calibrate(
        traces: list[Path] = typer.Argument(..., help="llm_traces.jsonl files or run folders holding them."),
        fitness: str = typer.Option(..., "--fitness", "-f", help="Base scenario: a bundled name or a path."),
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the calibrated scenario YAML."),
        holdout: float = typer.Option(0.3, "--holdout", help="Share of task ids kept out of the fit, 0..0.9."),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed of the task split and the simulator."),
    ) -> None:
        """Fit per-model skill, call time, token use, review and voting parameters to TRACES."""
        from swarmdesign import yamlio
        from swarmdesign.commands._common import load_scenario
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.llm import calibrate as cal

        if not 0.0 <= holdout <= 0.9:
            raise SwarmdesignError(f"expected a share in 0..0.9, got {holdout}", field="--holdout")
        base, _ = load_scenario(fitness)
        obs = cal.load_observations(traces)
        fit_ids, held_ids = cal.split_tasks(obs, holdout, seed)
        stats = cal.statistics(obs, fit_ids)
        new, changes = cal.calibrate(base, stats, seed=seed, targets=cal.token_targets(obs, fit_ids))
        new = new.model_copy(
            update={
                "name": f"{base.name}-calibrated",
                "description": f"{base.name} calibrated to {len(obs.tasks)} traced designs on {len(fit_ids)} tasks "
                "by `swarmdesign calibrate`.",
            }
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yamlio.dumps(new.to_dict()), encoding="utf-8")
        typer.echo(f"fitted on {len(fit_ids)} task ids, {len(held_ids)} held out; {len(obs.tasks)} designs")
        for line in changes:
            typer.echo(f"  {line}")
        for key, (p, n) in sorted(stats["accuracy_by_archetype"].items()):
            typer.echo(f"  producer accuracy {key}: {p:.3f} over {n} attempts")
        keep = held_ids or fit_ids
        table = cal.predictions(obs, keep, {"base": base, "calibrated": new}, seed=seed)
        which = "held-out" if held_ids else "fitted (no hold-out)"
        typer.echo(f"\nprediction on {which} tasks:")
        typer.echo(table.round(3).to_string(index=False))
        for label, err in cal.errors(table, ["base", "calibrated"]).items():
            typer.echo(f"{label:10s} quality MAE {err['quality_mae']:.3f}   tokens/task error {err['tokens_mape']:.1%}")
        typer.echo(f"wrote {out}")
