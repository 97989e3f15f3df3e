"""Best of each kind: the best design per topology kind and per agent-count band.

In the spirit of MAP-Elites (Mouret & Clune 2015), the search's trials are
binned by a descriptor (the topology kind, or the number of agents on a
log scale) and each bin keeps its elite, chosen by the same rule as the run's
best (:mod:`swarmdesign.recommend.best`: feasible first, then the highest
score, then the earlier trial). It answers "what is the best star?" and
"what is the best design under 50 agents?" from the study alone. Only search
trials count: re-scores and trims are the recommendation's business.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from swarmdesign.errors import SwarmdesignError
from swarmdesign.recommend.best import SEARCH_STAGES

#: Upper edges of the agent-count bands (powers of 4, so each band is a step a user would notice).
SIZE_EDGES = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
KINDS = ("topology", "size")
ARCHIVE_COLUMNS = ("trial", "score", "score_se", "quality", "cost", "latency", "agents", "topology", "feasible")


def size_band(agents: pd.Series) -> pd.Series:
    """Band labels such as ``"5-16"`` for agent counts."""
    edges = np.array(SIZE_EDGES, dtype=float)
    values = pd.to_numeric(agents, errors="coerce").to_numpy(dtype=float)
    idx = np.searchsorted(edges, values, side="left").clip(0, len(edges) - 1)
    lows = np.concatenate([[1.0], edges[:-1] + 1])
    labels = [
        "" if not np.isfinite(v) else (f"{int(lows[i])}" if lows[i] == edges[i] else f"{int(lows[i])}-{int(edges[i])}")
        for v, i in zip(values, idx, strict=True)
    ]
    order = pd.Series(idx, index=agents.index)
    return pd.Series(labels, index=agents.index).where(order.notna())


def elites(trials: pd.DataFrame, by: str = "topology") -> pd.DataFrame:
    """One row per bin (its elite), bins in a natural order; ``trials`` as :func:`swarmdesign.results.trials_table`."""
    if by not in KINDS:
        raise SwarmdesignError(f"expected one of {list(KINDS)}, got '{by}'", field="--by")
    done = trials[trials["state"] == "COMPLETE"] if "state" in trials.columns else trials
    if "stage" in done.columns:  # search trials, and the archive filling's (see recommend.fill)
        done = done[done["stage"].isna() | done["stage"].isin(SEARCH_STAGES)]
    if done.empty or "score" not in done.columns:
        return pd.DataFrame(columns=["bin", "designs", *ARCHIVE_COLUMNS])
    done = done.copy()
    done["bin"] = done["topology"] if by == "topology" else size_band(done["agents"])
    feasible = done["feasible"].fillna(True).astype(bool) if "feasible" in done.columns else True
    done["_feasible"] = feasible
    ranked = done.sort_values(["_feasible", "score", "trial"], ascending=[False, False, True], kind="stable")
    best = ranked.drop_duplicates("bin", keep="first")
    counts = done["bin"].value_counts()
    best = best.assign(designs=best["bin"].map(counts).astype(int))
    if by == "size":
        best = best.assign(_order=pd.to_numeric(best["agents"], errors="coerce")).sort_values("_order")
    else:
        best = best.sort_values(["_feasible", "score"], ascending=[False, False])
    cols = ["bin", "designs", *[c for c in ARCHIVE_COLUMNS if c in best.columns]]
    return best[cols].reset_index(drop=True)


__all__ = ["KINDS", "SIZE_EDGES", "elites", "size_band"]
