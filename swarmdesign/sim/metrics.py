"""The metrics the simulated evaluator reports, with units."""

from __future__ import annotations

#: Mechanisms with a quality-loss column, in the order the quality chain applies them.
QUALITY_LOSSES: tuple[str, ...] = (
    "skill",
    "routing",
    "planning",
    "context",
    "faults",
    "voting",
    "review",
    "handoff",
    "propagation",
    "merge",
    "stampede",
)
#: Mechanisms with a latency-loss column (seconds above the ideal latency).
LATENCY_LOSSES: tuple[str, ...] = (
    "redundancy",
    "faults",
    "review",
    "judge",
    "hub_queue",
    "communication",
    "routing",
    "stampede",
    "concurrency",
    "serial",
    "contention",
    "pipeline",
)
#: Mechanisms with a cost-loss column (USD above the base cost).
COST_LOSSES: tuple[str, ...] = (
    "redundancy",
    "review",
    "messages",
    "routing",
    "coordination",
    "stampede",
    "deployment",
    "faults",
)

METRICS: dict[str, str] = {
    "quality": "expected share of work delivered right, 0..1",
    "cost": "USD for the whole workload (LLM calls and message tokens)",
    "latency": "seconds until the whole workload is done",
    "robustness": "quality with faults / quality without faults, 0..1",
    "tokens": "LLM tokens processed for the whole workload (input + output + messages read)",
    "llm_calls": "LLM calls made for the whole workload, retries included",
    "messages": "inter-agent messages sent for the whole workload",
    "messages_per_task": "inter-agent messages per task",
    "channels": "communication channels (links) of the topology",
    "spread_rounds": "message rounds until news from one agent reaches all",
    "hub_utilisation": "offered load per server of the busiest hub if no one waited (rho, >= 1 saturated); 0: no hub",
    "hub_busy": "share of the run a hub server is busy (the leaf hubs' service over their servers), 0..1",
    "hub_wait_s": "mean seconds a message waits at its hub (closed-loop Erlang C over the items in flight, batches "
    "of voters' reports and a crashed hub's failover included), 0 without a hub",
    "stampede_collisions": "picks (of a subtask or scarce resource) lost to collisions over the workload",
    "collision_share": "share of picks that collided, 0..1",
    "routing_accuracy": "share of tasks that land on an agent of the archetype they need, 0..1",
    "effective_voters": "independent-equivalent voters per item, N / (1 + (N - 1) rho)",
    "voter_correlation": "pairwise error correlation rho of two attempts, 0..1",
    "speedup": "time one agent alone would need for every item / latency (Amdahl x USL, bounds included)",
    "ideal_latency": "seconds with one attempt per item spread perfectly over every producer",
    "ideal_cost": "USD for one plain attempt per work item, no overheads (cost = ideal_cost + cost losses)",
    "agents": "agents in the design",
    **{
        f"loss_quality_{m}": f"quality lost to {m.replace('_', ' ')} (negative = gained; quality = 1 - losses)"
        for m in QUALITY_LOSSES
    },
    **{
        f"loss_latency_{m}": f"seconds added by {m.replace('_', ' ')} (latency = ideal_latency + losses)"
        for m in LATENCY_LOSSES
    },
    **{f"loss_cost_{m}": f"USD added by {m.replace('_', ' ')}" for m in COST_LOSSES},
}
