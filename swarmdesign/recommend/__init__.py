"""Turning a search into a recommendation an engineer can trust.

A search ends with a design that scored highest once, on one seed. Before it
is recommended, this package re-scores the top candidates on fresh seeds
(winner's curse), scores the baselines a user would otherwise pick (one
agent per model; one model with self-consistency votes at matched cost),
right-sizes the winner (drops agents the score does not need), and checks
that the choice holds when the scenario is a little wrong. Every such
evaluation is a trial in the run's study, marked with its ``stage``, so resume
and reports see them and nothing is redone.

One module per job: :mod:`best` (the one definition of "best"),
:mod:`scoring` (multi-seed scores with standard errors, stage trials),
:mod:`baselines`, :mod:`trim`, :mod:`pipeline` (the order of the stages),
:mod:`archive` (best of each kind) and :mod:`robustness`.
Nothing heavy is imported here, so ``swarmdesign --help`` stays instant.
"""
