"""Hub queueing: a coordinator serving many workers is an M/M/c queue (Erlang C).

Offered load ``a = lambda * s`` (arrivals per second times service seconds),
``c`` servers (replicated coordinators), utilisation ``rho = a / c``. Erlang's
C formula gives the probability a message waits, and the mean wait is::

    W_q = C(c, a) * s / (c - a)

which explodes as ``rho -> 1``. An open queue has no steady state at
``rho >= 1``, but a hub's clients are its own workers, who wait for it: the
simulator solves that closed loop (:func:`closed_loop_wait`), so the
utilisation settles below 1 and the wait grows steeply near saturation and
then linearly with the number of workers, always finite. The hub also
re-reads the status of every worker it tracks, so its service time grows
with its span of control (``hub_context_per_worker``): past saturation,
more workers make every message slower, and the latency of a single hub
explodes while replicas or a hierarchy keep each span small. ``c`` may be
real (Erlang B through the regularised incomplete gamma function).

Erlang C assumes arrivals from an endless population. A hub with a few
clients (four coders reporting to two planners) is the machine-repairman
queue instead, M/M/c//N (Gross & Harris, *Fundamentals of Queueing Theory*,
§3.7): a client that waits sends nothing more, so the queue never holds more
than the other ``N - 1`` clients' messages. Its stationary distribution is in
closed form, so the simulator solves it exactly up to :data:`FINITE_SOURCE_MAX`
clients (:func:`finite_source_wait`); beyond that the Erlang C fixed point is
within a few per cent of it.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.sim.ufuncs import clip


def erlang_b(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Blocking probability of an M/M/c/c loss system; ``c > 0`` servers, offered load ``a`` Erlangs."""
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import gammainc, gammaincc, gammaln

    c = np.asarray(c, dtype=float)
    a = np.maximum(np.asarray(a, dtype=float), 1e-300)
    log_pmf = c * np.log(a) - a - gammaln(c + 1.0)
    # P(Poisson(a) <= c) for real c is Q(c + 1, a); guard the far tails.
    cdf = np.where(a < c + 1.0, 1.0 - gammainc(c + 1.0, a), gammaincc(c + 1.0, a))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        b = np.exp(log_pmf) / np.maximum(cdf, 1e-300)
    return clip(np.nan_to_num(b, nan=1.0, posinf=1.0), 0.0, 1.0)


def erlang_c(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Probability that an arriving message waits, for ``a < c`` (Erlang C)."""
    b = erlang_b(c, a)
    rho = np.asarray(a, dtype=float) / np.asarray(c, dtype=float)
    return clip(b / (1.0 - rho * (1.0 - b)), 0.0, 1.0)


def hub_wait(
    arrival_rate: np.ndarray, service_s: np.ndarray, servers: np.ndarray, max_utilisation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean queueing delay per message (seconds) and the offered utilisation.

    Args:
        arrival_rate: messages per second reaching one hub queue, ``(D,)``.
        service_s: seconds a hub spends per message, ``(D,)``.
        servers: hub replicas serving that queue (>= 1, may be real), ``(D,)``.
        max_utilisation: cap on utilisation inside the waiting-time formula.

    Returns:
        ``(wait_s, utilisation)``; utilisation is uncapped (may exceed 1).
    """
    servers = np.maximum(np.asarray(servers, dtype=float), 1.0)
    load = arrival_rate * service_s
    rho = load / servers
    rho_c = np.minimum(rho, max_utilisation)
    a = rho_c * servers
    wait = erlang_c(servers, a) * service_s / (servers * (1.0 - rho_c))
    return wait, rho


# hub rows up to which the closed-loop bisection tests 63 points per step (see closed_loop_wait)
_GRID_ROWS = 64


def closed_loop_wait(
    workers: np.ndarray,
    messages_per_cycle: np.ndarray,
    think_s: np.ndarray,
    service_s: np.ndarray,
    servers: np.ndarray,
    iterations: int = 36,
    loaded: np.ndarray | None = None,
    batch: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hub wait when the hub's clients wait for it (a closed loop), by a fixed point on Erlang C.

    ``workers`` clients each work ``think_s`` seconds, then send
    ``messages_per_cycle`` messages and wait for them. Their arrival rate
    ``lambda = workers * m / (think + m (W + s))`` falls as the wait ``W``
    grows, so the utilisation ``rho = lambda s / c`` settles below 1. A
    cycle can also load the hubs with messages nobody waits for (``loaded``
    per cycle, at least ``m``: a federation's summaries to its peer hubs, a
    hierarchy's reports up the tree); they count in ``lambda`` but not in
    the cycle's length. The fixed point is found by bisection on rho (36
    halvings: rho to 1.5e-11, far inside the 1 - rho of 10^6 workers on one
    hub). Past saturation ``W`` grows
    linearly with the number of workers (the hub's throughput is the
    bottleneck), close to saturation it rises steeply, as Erlang C says.

    ``batch``: messages that reach the hub together, per server (an item's
    side-by-side attempters report at the same moment, and a federation's
    summaries of their reports reach every peer hub together). Arrivals in
    batches of ``b`` queue longer than single ones at the same load: in the
    M^X/M/1 queue the first message of a batch waits ``(b + 1) / 2`` times
    the M/M/1 wait behind the other batches (the bulk-input queue of Gross &
    Harris, *Fundamentals of Queueing Theory*; Chaudhry & Templeton 1983), and
    the fixed point uses that wait for every server count. The finite-source
    queue's clients are independent, so its wait holds a message's own
    batch-mates ahead of it (half of the others, ``s (b - 1) / 2``); that part
    is taken out. The wait returned is therefore what an item's first message
    waits behind *other* items' messages: the caller adds the batch's own
    service once.

    Returns ``(wait_s, utilisation, offered)``, all ``(D,)``: that wait per
    message, the settled utilisation (< 1) and the offered load per
    server if nobody waited (``workers m s / (c think)``; may exceed 1).
    """
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import gammainc, gammaln

    shape = np.broadcast(workers, messages_per_cycle, think_s, service_s, servers).shape
    wait, rho_out, offered_out = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    m_all = np.broadcast_to(np.asarray(messages_per_cycle, dtype=float), shape)
    rows = np.flatnonzero(m_all > 0)  # only designs that have a hub
    if rows.size == 0:
        return wait, rho_out, offered_out

    def pick(x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return x[rows] if x.shape == shape else np.broadcast_to(x, shape)[rows]  # broadcast_to only when needed

    c = np.maximum(pick(servers), 1.0)
    b_at = np.maximum(pick(batch), 1.0)
    bulk = 0.5 * (b_at + 1.0)
    m, s = pick(messages_per_cycle), pick(service_s)
    think = np.maximum(pick(think_s), 1e-9)
    n_clients = pick(workers)
    demand = n_clients * (m if loaded is None else np.maximum(pick(loaded), m)) * s / c
    offered_out[rows] = demand / think
    # a few clients whose own messages are all the hub serves: the exact finite-source queue
    exact = n_clients <= FINITE_SOURCE_MAX
    if loaded is not None:
        exact &= pick(loaded) <= m * (1.0 + 1e-12)
    if exact.any():
        sub = rows[exact]
        w_fs, rho_out[sub] = finite_source_wait(n_clients[exact], m[exact], think[exact], s[exact], c[exact])
        # its clients are independent, so a message's wait holds its own batch-mates ahead of it (on average
        # half of the others, served c at a time): without them, the wait behind other items' messages
        wait[sub] = np.maximum(w_fs - s[exact] * (b_at[exact] - 1.0) / 2.0, 0.0)
        keep = ~exact
        if not keep.any():
            return wait, rho_out, offered_out
        rows, c, m, s, think, demand = rows[keep], c[keep], m[keep], s[keep], think[keep], demand[keep]
        bulk = bulk[keep]
    lo = np.zeros(rows.size)
    hi = np.full(rows.size, 1.0 - 1e-12)

    def wait_at(rho: np.ndarray) -> np.ndarray:
        return bulk * erlang_c(c, rho * c) * s / (c * (1.0 - rho))

    # inside the bisection rho < 1, so a = rho c < c + 1 and P(Poisson(a) <= c) = 1 - P(c + 1, a): one
    # special function per step, with the constants of each row computed once (a small batch's cost is
    # dominated by these per-call overheads)
    log_fact = gammaln(c + 1.0)
    s_over_c = bulk * s / c
    base = think + m * s

    # the predicate rises with rho, so testing the 2^b - 1 inner points of a bracket at once and keeping the
    # sub-bracket where it turns is b halvings in one step, with identical results; a small batch (where
    # per-call overhead dominates) takes 6 halvings per step, a large one plain bisection
    bits = 6 if rows.size <= _GRID_ROWS and iterations % 6 == 0 else 1
    points = np.arange(1, 2**bits) / 2**bits  # (P,)
    # each row's constants as columns against the tested points, made once rather than at every step
    col = (slice(None),) if bits == 1 else (slice(None), None)
    cc, lf, so, bb, mm, dd = (x[col] for x in (c, log_fact, s_over_c, base, m, demand))
    cc1 = cc + 1.0

    def too_low(mid: np.ndarray) -> np.ndarray:
        a = mid * cc
        blocking = np.exp(cc * np.log(a) - a - lf) / np.maximum(1.0 - gammainc(cc1, a), 1e-300)
        blocking = clip(np.where(np.isfinite(blocking), blocking, 1.0), 0.0, 1.0)
        waits = blocking / (1.0 - mid * (1.0 - blocking)) * so / (1.0 - mid)
        return dd > mid * (bb + mm * waits)

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for _ in range(iterations // bits):
            width = hi - lo
            mids = lo + 0.5 * width if bits == 1 else lo[:, None] + width[:, None] * points
            below = too_low(mids).reshape(rows.size, -1)
            steps = below.sum(axis=1)  # points below the root (a prefix, the predicate being monotone)
            lo, hi = lo + width * steps / 2**bits, lo + width * (steps + 1) / 2**bits
    rho = 0.5 * (lo + hi)
    wait[rows], rho_out[rows] = wait_at(rho), rho
    return wait, rho_out, offered_out


#: Clients per hub queue up to which :func:`closed_loop_wait` solves the finite-source queue exactly.
FINITE_SOURCE_MAX = 256


def finite_source_wait(
    clients: np.ndarray, messages: np.ndarray, think_s: np.ndarray, service_s: np.ndarray, servers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean wait per message and server utilisation of the machine-repairman queue M/M/c//N, ``(R,)`` each.

    ``N = clients`` (at most :data:`FINITE_SOURCE_MAX`, may be real) each
    think ``think_s`` seconds, then send ``messages`` messages one after
    another to ``c = servers`` (may be real) serving ``service_s`` each. With
    exponential times, a cycle's messages are ``m`` visits with ``think / m``
    between them (the same stationary law), so with ``r = m s / think`` the
    probability of ``n`` messages at the hub is proportional to
    ``N! / (N - n)! * r^n / prod_{j <= n} min(j, c)``. Throughput is
    ``X = E[min(n, c)] / s`` and the wait per message ``N / X - think / m - s``
    (Little's law on the loop). A real ``N`` interpolates between its two
    integer neighbours.
    """
    n_max = int(np.ceil(clients.max(initial=1.0)))
    n = np.arange(1, n_max + 1, dtype=float)
    c = servers[:, None]
    visit_think = think_s / messages
    log_r = np.log(service_s / visit_think)[:, None]
    log_rate = np.log(np.minimum(n[None, :], c))
    low = np.floor(clients)
    frac = clients - low
    results = []
    for whole in (low, low + 1.0) if frac.any() else (low,):  # whole numbers of clients need no neighbour
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.log(np.maximum(whole[:, None] - n[None, :] + 1.0, 1e-300)) + log_r - log_rate
        step = np.where(n[None, :] <= whole[:, None], step, -np.inf)
        log_p = np.cumsum(step, axis=1)
        top = np.maximum(log_p.max(axis=1, initial=0.0), 0.0)
        p = np.exp(log_p - top[:, None])
        p0 = np.exp(-top)
        busy = (p * np.minimum(n[None, :], c)).sum(axis=1) / (p0 + p.sum(axis=1))
        cycle = np.where(whole >= 1.0, whole * service_s / np.maximum(busy, 1e-300), visit_think + service_s)
        results.append((np.maximum(cycle - visit_think - service_s, 0.0), np.minimum(busy / servers, 1.0)))
    if len(results) == 1:
        return results[0]
    wait = (1.0 - frac) * results[0][0] + frac * results[1][0]
    rho = (1.0 - frac) * results[0][1] + frac * results[1][1]
    return wait, rho
