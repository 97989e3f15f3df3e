"""The recommendation stages as ``run`` and ``resume`` drive them: options in, a few lines out.

Kept here rather than in the command modules so both commands share one
code path and the command modules stay thin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swarmdesign.recommend.pipeline import RecommendOptions

if TYPE_CHECKING:
    from swarmdesign.runner import Run


def options(
    *,
    recommend: bool | None,
    top: int | None,
    seeds: int | None,
    trim_tolerance: float | None,
    robustness: int,
    fill_archive: int = 0,
) -> RecommendOptions:
    """Checked options, before a run folder exists; ``recommend=None`` = on unless the evaluator spends money.

    ``top`` or ``seeds`` None: the default, which the sizing by the search's cost may reduce (an explicit
    value wins; the replica factor and the trim bound follow ``seeds``).
    """
    defaults = RecommendOptions()
    auto = [name for name, given in (("top", top), ("seeds", seeds)) if given is None]
    if seeds is None:
        auto += ["replicas_factor", "trim"]
    return RecommendOptions(
        enabled=True if recommend is None else recommend,
        top=defaults.top if top is None else top,
        seeds=defaults.seeds if seeds is None else seeds,
        auto=auto,
        trim_tolerance=trim_tolerance,
        robustness=robustness,
        fill_archive=fill_archive,
    ).check()


def bind(run: Run, opts: RecommendOptions, *, explicit: bool) -> None:
    """Store ``opts`` in the run's config; a costly evaluator (real LLM calls) only runs them when asked."""
    from swarmdesign.recommend.pipeline import store_options

    if run.evaluator.costly and not explicit:
        opts.enabled = False
    store_options(run, opts)


def after_search(run: Run, *, quiet: bool = False) -> None:
    """Run (or finish, after a kill) the recommendation stages and print the recommendation."""
    from swarmdesign.commands._common import stderr_console
    from swarmdesign.recommend.pipeline import recommend
    from swarmdesign.recommend.text import recommendation_lines

    opts = RecommendOptions.from_config(run.config)
    if not opts.enabled:
        return
    if run.finished() < run.budget:
        return  # the search stopped early; resume finishes it, then recommends
    console = stderr_console()
    log = (lambda m: None) if quiet else (lambda m: console.print(m, markup=False))
    if opts.fill_archive:
        from swarmdesign.recommend.fill import fill_archive

        fill_archive(run, opts.fill_archive, log=log)
    rec = recommend(run, opts, log=log)
    if opts.robustness:
        from swarmdesign.recommend.robustness import robustness_stage

        rec = robustness_stage(run, opts.robustness, log=log)
    for line in recommendation_lines(rec):
        console.print(line, markup=False)


__all__ = ["after_search", "bind", "options"]
