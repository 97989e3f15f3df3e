"""Plots of runs: static PNGs (matplotlib) here, interactive HTML in :mod:`swarmdesign.plots.interactive`.

The five pictures of a run, in both back ends:

* ``convergence`` — best-so-far score against evaluations; several runs give
  a median line and a band per optimizer;
* ``pareto_front`` — quality against cost, coloured by topology kind;
* ``param_importances`` — which searched parameters matter (Optuna);
* ``role_graph`` — the design's roles, sized by agent count, and hand-offs;
* ``loss_breakdown`` — where the best design loses quality, time and money,
  mechanism by mechanism (hub queueing, voting, review, faults, stampedes...).

Example:
    >>> from swarmdesign import plots                                 # doctest: +SKIP
    >>> plots.save_png(plots.pareto_front("runs/r1"), "front.png")    # doctest: +SKIP
    >>> plots.interactive.pareto_front("runs/r1").show()              # doctest: +SKIP

matplotlib and plotly come with the ``report`` extra
(``pip install 'swarmdesign[report]'``).
"""

from __future__ import annotations

from swarmdesign.plots import interactive
from swarmdesign.plots._data import TOPOLOGY_COLOURS
from swarmdesign.plots.static import (
    advantage,
    convergence,
    every_plot,
    loss_breakdown,
    param_importances,
    pareto_front,
    robustness,
    role_graph,
    save_png,
)

__all__ = [
    "TOPOLOGY_COLOURS",
    "advantage",
    "convergence",
    "every_plot",
    "interactive",
    "loss_breakdown",
    "param_importances",
    "pareto_front",
    "robustness",
    "role_graph",
    "save_png",
]
