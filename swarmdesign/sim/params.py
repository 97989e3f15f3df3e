"""Parameters of the simulated evaluator: the scenario's ``simulator:`` section.

Every mechanism of the simulator (see ``docs/simulator.md``) owns one
sub-section here, and every knob has a default taken from, or calibrated to,
the published result the mechanism follows. A scenario only writes the knobs
it wants to change::

    simulator:
      voting: {correlation_same_model: 0.5}
      stampede: {herding: 0.9}

Unknown keys are refused (``extra="forbid"``) so a misspelt knob is an error
naming ``simulator.<section>.<field>``, never a silently ignored setting.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from swarmdesign.archetypes import ARCHETYPES
from swarmdesign.errors import SwarmdesignError, from_validation_error

PRODUCER_ARCHETYPES: tuple[str, ...] = ("coder", "solver", "worker", "researcher", "generalist")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_archetype_keys(mapping: dict[str, float], allowed: tuple[str, ...], what: str) -> dict[str, float]:
    for key in mapping:
        if key not in allowed:
            raise ValueError(f"unknown {what} '{key}'; expected one of {list(allowed)}")
    return mapping


class SkillParams(_Section):
    """Skill against difficulty: p = sigmoid(skill + bonus - slope * (difficulty - center)).

    Item-response (Rasch / 2PL) form; the slope is the discrimination of the
    difficulty scale. ``task_mix`` says which producer archetype each share of
    the work needs (coding, solving, ...): a role of the matching archetype
    gains ``match_bonus``, a generalist ``generalist_bonus``, another producer
    loses ``mismatch_penalty`` and a non-producer doing production work loses
    ``non_producer_penalty`` (all on the logit scale).
    """

    slope: float = Field(default=6.0, gt=0.0, le=50.0, description="logits per unit of difficulty")
    center: float = Field(default=0.5, ge=0.0, le=1.0, description="difficulty at which skill 0 succeeds half the time")
    task_mix: dict[str, float] = Field(
        default_factory=lambda: {"coder": 0.25, "solver": 0.25, "worker": 0.25, "researcher": 0.25},
        description="share of work items needing each producer archetype",
    )
    match_bonus: float = Field(default=0.5, ge=0.0, le=5.0, description="logits for the archetype the work needs")
    generalist_bonus: float = Field(default=0.0, ge=-5.0, le=5.0, description="logits for a generalist on any work")
    mismatch_penalty: float = Field(default=0.5, ge=0.0, le=5.0, description="logits lost by another producer")
    non_producer_penalty: float = Field(
        default=1.0, ge=0.0, le=5.0, description="logits lost by a planner/checker/merger doing production work"
    )

    @field_validator("task_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        _check_archetype_keys(v, PRODUCER_ARCHETYPES, "producer archetype")
        if any(share < 0 for share in v.values()) or sum(v.values()) <= 0:
            raise ValueError("expected non-negative shares with a positive sum")
        return v

    def normalised_mix(self) -> dict[str, float]:
        total = sum(self.task_mix.values())
        return {k: s / total for k, s in self.task_mix.items() if s > 0}


class DecompositionParams(_Section):
    """Planning, splitting and the Universal Scalability Law (Gunther; Amdahl; Brooks).

    Orchestration's value is decomposition (Kim et al. 2025: a centralised
    team gains most on parallelisable work): a coordinator's plan is sound
    with its success at *planning*, an item of difficulty ``plan_difficulty *
    d`` (deciding how to split is easier than solving, and does not require
    solving), and a sound plan makes each piece easier by ``plan_relief``
    times the work's parallel fraction (strictly sequential work has nothing
    to split).

    throughput X(N) = N / (1 + sigma (N - 1) + kappa (h + 1) h), with
    ``sigma`` = ``contention``, ``kappa`` = ``coherency`` and ``h`` the
    neighbours each agent hears (``N - 1`` in a mesh, which gives Gunther's
    ``kappa N (N - 1)``; one hub or a few peers elsewhere). Gunther reports
    sigma of 0.1-5 % and kappa of 1e-5..1e-3 for real systems; agents that
    mostly make independent model calls share little, hence a low sigma.
    """

    contention: float = Field(default=0.005, ge=0.0, le=1.0, description="USL sigma: serialised share of a step")
    coherency: float = Field(default=2e-4, ge=0.0, le=1.0, description="USL kappa: pairwise coherency delay")
    plan_relief: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="difficulty removed from each piece by a sound plan, times the work's parallel fraction",
    )
    plan_difficulty: float = Field(
        default=0.5,
        ge=0.0,
        le=2.0,
        description="difficulty of decomposing an item relative to solving it (a plan is judged on its own)",
    )
    bad_plan_harm: float = Field(default=0.25, ge=0.0, le=1.0, description="step error added by a failed plan")
    planner_bonus: float = Field(default=0.3, ge=-5.0, le=5.0, description="logit bonus of planner roles at planning")
    plan_token_share: float = Field(default=1.0, ge=0.0, le=20.0, description="plan call size relative to a step")
    orchestration_rounds: int = Field(
        default=2,
        ge=1,
        le=100,
        description="rounds a coordinator runs per task: dispatch, read every report, re-plan (transcript re-read)",
    )


class VotingParams(_Section):
    """Redundancy and aggregation (Condorcet; Li et al. 2024; Chen et al. 2024).

    Effective voters N / (1 + (N - 1) rho); rho is ``correlation_same_model``
    for two attempts by the same model, ``correlation_cross_model`` across
    models, times (1 - heterogeneity * ``heterogeneity_decorrelation``).
    ``wrong_answer_concentration`` is the share of wrong answers that agree with
    each other (1 = binary right/wrong, Condorcet; lower = scattered wrong
    answers, where plurality voting helps even below 50 % correctness).
    """

    correlation_same_model: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="correlation of two attempts' correctness on one item by one model (Li et al. 2024 saturation)",
    )
    correlation_cross_model: float = Field(
        default=0.2, ge=0.0, le=1.0, description="error correlation of two attempts by different models"
    )
    heterogeneity_decorrelation: float = Field(
        default=0.6, ge=0.0, le=1.0, description="share of the correlation removed at heterogeneity 1"
    )
    wrong_answer_concentration: float = Field(
        default=1.0, gt=0.0, le=1.0, description="share of wrong answers on the most common wrong answer"
    )
    judge_bonus: float = Field(default=0.3, ge=-5.0, le=5.0, description="logit bonus of a judge role at selecting")
    self_judge_penalty: float = Field(default=1.0, ge=0.0, le=5.0, description="logit penalty when no judge exists")
    judge_token_share: float = Field(default=0.5, ge=0.0, le=20.0, description="judge call size per attempt read")

    @model_validator(mode="after")
    def _order(self) -> VotingParams:
        if self.correlation_cross_model > self.correlation_same_model:
            raise ValueError("correlation_cross_model must not exceed correlation_same_model")
        return self


class ReviewParams(_Section):
    """Review and test stages that catch errors at a cost (rework loops).

    Detection p = sigmoid(checker skill + ``detection_bonus[archetype]`` -
    slope (difficulty - center)); a caught error is reworked and fixed with
    the producer's own success probability. Right work is sent back with
    ``false_alarm`` (per archetype: ``false_alarm_by_checker``). Without a
    checker role, review rounds are self-review with ``self_review_detection``
    and ``self_review_false_alarm`` (Huang et al. 2024: LLMs mostly cannot
    self-correct without external feedback).

    Misses overlap: an error a round missed is one its checkers find hard, so
    round ``r`` catches it with ``detection * repeat_detection^(r-1)`` while
    every round may still send right work back (capture-recapture studies of
    software inspections: the defects a pass misses are the ones the next
    pass misses too; Eick et al. 1992). Review pays for one or two rounds,
    then costs more than it catches.

    A checker outside a sequential chain sees only the hand-off summary: for
    the share of the work's state it lacks (see
    :meth:`PropagationParams.context_lost`) its verdict is uninformed and
    flags ``uninformed_flag_rate`` of the work whether it is right or wrong,
    and a producer told its right work is wrong without new information
    changes it to a wrong answer with ``uninformed_flip`` (Huang et al. 2024:
    critique without external feedback took GPT-3.5 on CommonSenseQA from
    75.8 % to 38.1 % in one round, about half of the right answers flipped).
    """

    detection_bonus: dict[str, float] = Field(
        default_factory=lambda: {"reviewer": 0.0, "tester": 0.7, "judge": 0.2},
        description="logit bonus at catching errors per checker archetype",
    )
    self_review_detection: float = Field(
        default=0.1, ge=0.0, le=1.0, description="share of its own errors an agent catches without a checker"
    )
    false_alarm: float = Field(default=0.03, ge=0.0, le=1.0, description="share of correct work sent back anyway")
    false_alarm_by_checker: dict[str, float] = Field(
        default_factory=dict,
        description="false_alarm per checker archetype (reviewer, tester, judge); missing ones use false_alarm",
    )
    self_review_false_alarm: float = Field(
        default=0.03, ge=0.0, le=1.0, description="share of its own right work a producer reworks when self-reviewing"
    )
    uninformed_flag_rate: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="share of work a checker lacking the context flags, right or wrong (Huang et al. 2024)",
    )
    uninformed_flip: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="share of right work flagged without information that the producer changes to wrong",
    )
    repeat_detection: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="detection left, per further round, for errors earlier rounds missed (misses overlap)",
    )
    review_token_share: float = Field(default=0.6, ge=0.0, le=20.0, description="review call size relative to a step")

    @field_validator("detection_bonus", "false_alarm_by_checker")
    @classmethod
    def _archetypes(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_archetype_keys(v, ("reviewer", "tester", "judge"), "checker archetype")

    @field_validator("false_alarm_by_checker")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not 0.0 <= rate <= 1.0 for rate in v.values()):
            raise ValueError("expected rates in 0..1")
        return v


class PropagationParams(_Section):
    """Error propagation along dependent steps and across hand-offs (Kim et al. 2025; Cemri et al. 2025).

    A piece at dependency level j is right only if its j ancestors are. Each
    hand-off of dependent work between different agents loses context with
    probability ``handoff_error`` (MAST: inter-agent misalignment); merging m
    separately produced pieces conflicts with probability ``merge_conflict``
    per extra piece. A central coordinator (``hub_catch``; Kim et al. 2025: an
    orchestrator absorbs about two thirds of context omissions), peers that
    hear each other (``peer_catch`` times the share of the pieces' authors
    heard) or an integrator catch a share of these before they land; an
    architect lowers them.

    Sequential hand-offs (Kim et al. 2025: on sequential tasks every
    multi-agent variant lost 39-70 %; MAST: loss of conversation history):
    an agent that did not produce the preceding dependent steps receives a
    hand-off message of ``environment.message_tokens`` instead of the
    ``workload.input_tokens_per_step`` of working context, so it lacks the
    share ``L = s (1 - min(1, message / context))`` of the state, ``s = (1 -
    parallel_fraction)(D - 1)/D`` the sequential share. A producer that lacks
    it must re-derive it, which succeeds with its own success ``p``: a
    dependent step handed over succeeds with ``p (1 - L (1 - p))``. No free
    constant: the loss follows from message size, context size and skill.
    """

    handoff_error: float = Field(default=0.04, ge=0.0, le=1.0, description="context lost per dependent hand-off")
    merge_conflict: float = Field(default=0.05, ge=0.0, le=1.0, description="conflict per extra merged piece")
    max_merge_pieces: int = Field(default=16, ge=1, le=1_000_000, description="pieces a merge reconciles at most")
    hub_catch: float = Field(default=0.67, ge=0.0, le=1.0, description="share of conflicts a central hub catches")
    peer_catch: float = Field(
        default=0.4, ge=0.0, le=1.0, description="share of conflicts peers catch when they hear every piece's author"
    )
    integrator_catch: float = Field(
        default=0.75, ge=0.0, le=1.0, description="share of conflicts an integrator catches"
    )
    architect_relief: float = Field(default=0.5, ge=0.0, le=1.0, description="share of conflicts an architect prevents")
    peer_refinement: float = Field(
        default=0.06,
        ge=0.0,
        le=1.0,
        description="share of a piece's errors one peer who reads it gets fixed (MacNet: inflection at 2^3-2^5 agents)",
    )

    def sequential_share(self, parallel_fraction: float, depth: int) -> float:
        """How much of a step's context lives in earlier dependent steps: (1 - p) (D - 1) / D."""
        return (1.0 - parallel_fraction) * (depth - 1) / depth

    def context_lost(self, parallel_fraction: float, depth: int, message_tokens: float, context_tokens: float) -> float:
        """Share of the needed state a hand-off summary misses: ``s (1 - min(1, message / context))``."""
        kept = min(1.0, message_tokens / max(context_tokens, 1e-9))
        return self.sequential_share(parallel_fraction, depth) * (1.0 - kept)


class QueueingParams(_Section):
    """Hub queueing (Erlang C, M/M/c with c = coordinator agents serving a queue).

    Every worker step sends ``hub_messages_per_step`` messages through its
    hub; the hub spends ``hub_service_fraction`` of one of its model calls on
    each, times ``1 + span * hub_context_per_worker * message_tokens /
    input_tokens_per_step`` for the status of the ``span`` workers each hub
    server tracks. With the defaults a coordinator saturates at about ten
    busy workers, the classical span of control (Graicunas 1933; Urwick).
    """

    hub_messages_per_step: float = Field(
        default=2.0, ge=0.0, le=100.0, description="messages through the hub per step (report + dispatch)"
    )
    hub_service_fraction: float = Field(
        default=0.04, gt=0.0, le=10.0, description="hub seconds per message / the hub model's seconds per call"
    )
    broker_service_s: float = Field(default=0.002, gt=0.0, le=60.0, description="pub/sub broker seconds per message")
    hub_context_per_worker: float = Field(
        default=0.25, ge=0.0, le=100.0, description="message-sized status a hub re-reads per worker it tracks"
    )
    hub_token_share: float = Field(default=0.1, ge=0.0, le=20.0, description="hub call size per message")


class CommunicationParams(_Section):
    """Message and context cost by topology (AgentPrune; G-Designer; Karp et al. 2000).

    Each step's output reaches the agent's neighbours (mesh n-1, chain 1, star
    the hub, ...), each message is read into the receiver's context. Context
    beyond ``context_window_tokens`` is truncated and costs quality.
    """

    context_window_tokens: int = Field(default=128_000, ge=1000, le=100_000_000, description="context per call")
    overflow_harm: float = Field(default=0.3, ge=0.0, le=1.0, description="step error at fully overflowed context")
    pubsub_subscribers: int = Field(default=4, ge=1, le=1_000_000, description="subscribers per topic")
    gossip_fanout: int = Field(default=2, ge=1, le=1000, description="peers a pub/sub node forwards news to")


class FaultParams(_Section):
    """Faults (environment.fault_rate): retries, silent corruption, hubs as single points of failure."""

    max_retries: int = Field(default=2, ge=0, le=20, description="retries of a detected failed call")
    silent_share: float = Field(default=0.3, ge=0.0, le=1.0, description="share of faults that corrupt silently")
    hub_state_loss: float = Field(
        default=0.5, ge=0.0, le=1.0, description="quality lost by a task whose hub fails with no replica"
    )
    hub_crash_share: float = Field(
        default=0.2, ge=0.0, le=1.0, description="share of a hub's failed calls that lose its state (not just retried)"
    )
    failover_s: float = Field(default=30.0, ge=0.0, le=86_400.0, description="seconds to recover a failed hub")
    broker_fault_factor: float = Field(default=0.1, ge=0.0, le=1.0, description="broker fault rate / agent fault rate")


class StampedeParams(_Section):
    """Stampedes (minority game / El Farol): similar agents pick the same option and collide.

    Each contender picks the option everyone finds most attractive with
    probability ``herding`` x similarity, else uniformly; similarity is 1 for
    identical agents, lowered by mixing models and by heterogeneity (times
    ``heterogeneity_spread``); the rest of the agents are organised (distinct
    picks). Collisions waste
    ``collision_cost_share`` of a step and corrupt ``collision_error`` of the
    collided work (double bookings). A hub that allocates options removes
    ``hub_allocation`` of the herding.
    """

    herding: float = Field(default=0.8, ge=0.0, le=1.0, description="identical agents' pull to the focal option")
    heterogeneity_spread: float = Field(
        default=0.9, ge=0.0, le=1.0, description="share of herding that fully heterogeneous agents lose"
    )
    collision_cost_share: float = Field(default=0.5, ge=0.0, le=5.0, description="step wasted by a collided pick")
    collision_error: float = Field(default=0.3, ge=0.0, le=1.0, description="collided work that ends up wrong")
    hub_allocation: float = Field(default=0.9, ge=0.0, le=1.0, description="herding a hub removes by allocating")


class RoutingParams(_Section):
    """Task routing: broadcast (everyone hears every task) vs a routed capability index."""

    routed_accuracy: float = Field(default=0.95, ge=0.0, le=1.0, description="share the index routes right")
    broadcast_self_selection: float = Field(
        default=0.3, ge=0.0, le=1.0, description="share of mis-landed broadcast tasks the right agent claims"
    )


class DeploymentParams(_Section):
    """Standing cost of every deployed agent, busy or idle.

    A deployed agent loads its system prompt, tool schemas and role context
    once per workload (``standing_tokens``; agent system prompts run to
    thousands of tokens, and Anthropic's multi-agent research report finds
    agents use about 4x the tokens of a chat and multi-agent systems about
    15x) and answers membership / heartbeat traffic for the whole run
    (``heartbeat_tokens_per_hour``), and its process is hosted for the whole
    run (``hosting_usd_per_hour``: AWS Fargate list price for 0.25 vCPU and
    0.5 GB, $0.04048 per vCPU-hour + $0.004445 per GB-hour, us-east-1, 2024).
    Idle replicas therefore cost, and a team larger than its work scores worse.
    """

    standing_tokens: float = Field(
        default=2000.0, ge=0.0, le=1e7, description="input tokens each deployed agent loads once per workload"
    )
    heartbeat_tokens_per_hour: float = Field(
        default=600.0, ge=0.0, le=1e7, description="membership / heartbeat tokens per agent per hour of the run"
    )
    hosting_usd_per_hour: float = Field(
        default=0.0123,
        ge=0.0,
        le=1000.0,
        description="USD per agent-hour of the process that hosts it (AWS Fargate, 0.25 vCPU + 0.5 GB, 2024)",
    )


class SimParams(_Section):
    """The whole ``simulator:`` section. See the module docstring."""

    skill: SkillParams = Field(default_factory=SkillParams)
    decomposition: DecompositionParams = Field(default_factory=DecompositionParams)
    voting: VotingParams = Field(default_factory=VotingParams)
    review: ReviewParams = Field(default_factory=ReviewParams)
    propagation: PropagationParams = Field(default_factory=PropagationParams)
    queueing: QueueingParams = Field(default_factory=QueueingParams)
    communication: CommunicationParams = Field(default_factory=CommunicationParams)
    faults: FaultParams = Field(default_factory=FaultParams)
    stampede: StampedeParams = Field(default_factory=StampedeParams)
    routing: RoutingParams = Field(default_factory=RoutingParams)
    deployment: DeploymentParams = Field(default_factory=DeploymentParams)


def validate_simulator_section(section: dict[str, Any] | None) -> SimParams:
    """Validate a scenario's ``simulator:`` mapping into :class:`SimParams`.

    Raises :class:`SwarmdesignError` whose field is ``simulator.<path>``.
    """
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise SwarmdesignError(f"expected a mapping, got {type(section).__name__}", field="simulator")
    try:
        return SimParams.model_validate(section)
    except ValidationError as exc:
        raise from_validation_error(exc, file=None, prefix=("simulator",)) from None


__all__ = ["ARCHETYPES", "PRODUCER_ARCHETYPES", "SimParams", "validate_simulator_section"]
