"""Test helpers that ship with the package, so real worker processes and other projects can use them.

* :mod:`swarmdesign.testing.optimizers`: the conformance suite every optimizer passes.
* :mod:`swarmdesign.testing.sleepy`: a deliberately slow evaluator for parallel and
  multi-machine tests (``swarmdesign worker`` processes import it by class path, so it
  cannot live in ``tests/``).
"""
