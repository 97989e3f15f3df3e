"""Turn a CrewAI team (``agents.yaml`` + ``tasks.yaml``, or a ``crewai create crew`` project) into a Design.

The point is to seed a search with the team a user already has
(``swarmdesign run --seed-design``). The mapping is the inverse of
:mod:`swarmdesign.export.crewai`:

* agents with the same role text — or our own replica naming,
  ``"<Role> (replica i of n)"`` — collapse into one role with a count;
* the archetype comes from our ``swarmdesign`` metadata, else from a goal that
  is one of our defaults, else from keywords in the role text, goal and
  backstory (:mod:`swarmdesign.importers.keywords`); no match → ``generalist``,
  reported;
* a task's ``context`` gives hand-offs from the roles of the context tasks to
  the role of the task; our review-round tasks (``<agent>_round_<k>``, which
  the exported ``crew.py`` runs as conditional tasks) give back
  ``review_rounds`` and our attempts (``<agent>_attempt_<j>``) ``redundancy``;
* a hierarchical process becomes a ``star`` around a coordinator (a
  ``manager`` role is added when no agent is a planner or orchestrator), or a
  ``hybrid`` when every other agent may delegate (``allow_delegation``:
  CrewAI's way for members to ask each other directly, as the hybrid export
  writes them).

Nothing is dropped silently: every field a Design cannot hold, and every
field CrewAI itself does not know, comes back as a warning line naming the
file, the entry and the field. Input is read with :mod:`swarmdesign.yamlio`
(safe loading, size and alias caps); crew code is never imported or run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from swarmdesign import yamlio
from swarmdesign.archetypes import ARCHETYPES, COORDINATORS
from swarmdesign.design import MAX_REDUNDANCY, MAX_REVIEW_ROUNDS, MAX_ROLE_COUNT, Design
from swarmdesign.errors import SwarmdesignError, choices
from swarmdesign.export.crewai import META_PREFIX, unescape_placeholders
from swarmdesign.export.plan import review_loops, split_loops
from swarmdesign.export.texts import GOALS, default_backstory
from swarmdesign.importers.keywords import archetype_from_text

DEFAULT_MODEL = "gpt-4o-mini"  # what CrewAI itself uses when an agent names no llm
PROCESSES = ("sequential", "hierarchical")

_AGENT_FIELDS_USED = frozenset({"role", "goal", "backstory", "llm", "allow_delegation", "swarmdesign"})
_AGENT_FIELDS_CREWAI = frozenset(
    """
    tools max_iter max_rpm max_execution_time max_retry_limit max_tokens verbose memory cache
    allow_code_execution code_execution_mode respect_context_window function_calling_llm system_template
    prompt_template response_template step_callback callbacks knowledge knowledge_sources knowledge_config
    embedder reasoning max_reasoning_attempts planning planning_config inject_date date_format multimodal
    use_system_prompt guardrail guardrail_max_retries apps mcps skills a2a security_config
    tool_failure_policy from_repository
    """.split()  # noqa: SIM905 - a word list reads better than forty quoted strings
)
_TASK_FIELDS_USED = frozenset({"description", "expected_output", "agent", "context"})
_TASK_FIELDS_CREWAI = frozenset(
    """
    name tools async_execution output_file output_json output_pydantic response_model human_input callback
    create_directory converter_cls guardrail guardrails guardrail_max_retries max_retries markdown
    input_files security_config tool_failure_policy allow_crewai_trigger_context
    """.split()  # noqa: SIM905 - a word list reads better than forty quoted strings
)
_REPLICA_TEXT = re.compile(r"^(?P<base>.*) \(replica (?P<i>\d+) of (?P<n>\d+)\)$", re.DOTALL)
_TASK_SUFFIX = re.compile(r"^(?:task|attempt_(?P<attempt>\d{1,9})|round_(?P<round>\d{1,9}))$")
_HIERARCHICAL_CODE = re.compile(r"process\s*=\s*Process\.hierarchical|PROCESS\s*=\s*['\"]hierarchical['\"]")


def _mapping(data: Any, file: str, field: str, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SwarmdesignError(f"expected a mapping of {what}, got {type(data).__name__}", file=file, field=field)
    return data


def _text(value: Any, file: str, field: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise SwarmdesignError("required field is missing (expected text)", file=file, field=field)
        return None
    if not isinstance(value, str | int | float):
        raise SwarmdesignError(f"expected text, got {type(value).__name__}", file=file, field=field)
    return unescape_placeholders(str(value))


def _read_meta(path: Path, warnings: list[str]) -> dict[str, Any]:
    """The ``# swarmdesign: {...}`` comment our export writes at the top of agents.yaml."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:5]:
        if line.startswith(META_PREFIX):
            try:
                meta = json.loads(line[len(META_PREFIX) :])
            except (ValueError, RecursionError):  # bad JSON, a number too long, nesting too deep
                warnings.append(f"{path}: (header): unreadable '# swarmdesign:' comment; ignored")
                return {}
            return meta if isinstance(meta, dict) else {}
    return {}


def _process_from_code(agents_path: Path) -> str | None:
    """Look (as text, never executing it) for a crew.py beside the YAML that runs a hierarchical process."""
    for folder in (agents_path.parent, agents_path.parent.parent):
        candidate = folder / "crew.py"
        if candidate.is_file() and candidate.stat().st_size < 1_000_000:
            code = candidate.read_text(encoding="utf-8", errors="replace")
            return "hierarchical" if _HIERARCHICAL_CODE.search(code) else "sequential"
    return None


def _check_fields(
    entry: dict[str, Any],
    file: str,
    key: str,
    used: frozenset[str],
    known: frozenset[str],
    kind: str,
    warnings: list[str],
) -> None:
    for field in entry:
        if field in used:
            continue
        if field in known:
            warnings.append(f"{file}: {key}.{field}: CrewAI {kind} field a Design cannot hold; not imported")
        else:
            warnings.append(f"{file}: {key}.{field}: unknown field (not a CrewAI {kind} field); not imported")


def _archetype(meta: dict[str, Any], texts: list[str], file: str, key: str, warnings: list[str]) -> str:
    """Our metadata, else our default goal, else keywords in role text, goal, backstory; else generalist."""
    if meta.get("archetype") in ARCHETYPES:
        return meta["archetype"]
    goal = texts[1]
    for archetype, default_goal in GOALS.items():
        if goal == default_goal:
            return archetype
    for text in texts:
        found = archetype_from_text(text)
        if found:
            return found
    warnings.append(f"{file}: {key}.role: no archetype keyword in {texts[0]!r}; mapped to generalist")
    return "generalist"


def _model(value: Any, file: str, key: str, warnings: list[str]) -> str:
    if isinstance(value, dict) and isinstance(value.get("model"), str):
        extra = sorted(set(value) - {"model"})
        if extra:
            warnings.append(f"{file}: {key}.llm: settings {extra} a Design cannot hold; not imported")
        value = value["model"]
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is not None:
        warnings.append(f"{file}: {key}.llm: expected a model name; used {DEFAULT_MODEL}")
    else:
        warnings.append(f"{file}: {key}.llm: no llm given; used CrewAI's default {DEFAULT_MODEL}")
    return DEFAULT_MODEL


def _read_agents(data: dict[str, Any], file: str, warnings: list[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Agent key -> role name, and the roles (name, archetype, count, model, prompt, first agent key) in order."""
    role_of: dict[str, str] = {}
    roles: dict[str, dict[str, Any]] = {}
    for key, cfg in data.items():
        key = str(key)
        cfg = _mapping(cfg, file, key, "agent fields")
        _check_fields(cfg, file, key, _AGENT_FIELDS_USED, _AGENT_FIELDS_CREWAI, "agent", warnings)
        role_text = _text(cfg.get("role"), file, f"{key}.role", required=True) or ""
        goal = _text(cfg.get("goal"), file, f"{key}.goal", required=False) or ""
        backstory = _text(cfg.get("backstory"), file, f"{key}.backstory", required=False) or ""
        meta = cfg.get("swarmdesign") if isinstance(cfg.get("swarmdesign"), dict) else {}
        if not meta:  # hand-written YAML: folded scalars (">") leave trailing newlines
            role_text, goal, backstory = role_text.strip(), goal.strip(), backstory.strip()
        match = _REPLICA_TEXT.match(role_text)
        meta_role = meta.get("role") if isinstance(meta.get("role"), str) else None
        # our own export's metadata holds the role name exactly; text written by hand loses its outer spaces
        name = meta_role if meta_role and meta_role.strip() else (match.group("base") if match else role_text).strip()
        if not name:
            raise SwarmdesignError("expected a non-blank role", file=file, field=f"{key}.role")
        archetype = _archetype(meta, [role_text, goal, backstory], file, key, warnings)
        parts = [p for p in (goal if goal != GOALS[archetype] else "", backstory) if p]
        if backstory == default_backstory(archetype):
            parts = parts[:-1]
        prompt = "\n\n".join(parts) or None
        model = _model(cfg.get("llm"), file, key, warnings)
        replicas = meta.get("replicas")
        role_level = type(replicas) is int and replicas >= 0 and "replica" not in meta
        if role_level and replicas > MAX_ROLE_COUNT:
            raise SwarmdesignError(
                f"{replicas} replicas; expected at most {MAX_ROLE_COUNT} agents per role",
                file=file,
                field=f"{key}.swarmdesign.replicas",
            )
        role_of[key] = name
        if name not in roles:
            roles[name] = {"name": name, "archetype": archetype, "count": 0, "model": model, "prompt": prompt}
            roles[name][_SOURCE] = key
        elif (roles[name]["archetype"], roles[name]["model"], roles[name]["prompt"]) != (archetype, model, prompt):
            warnings.append(f"{file}: {key}: differs from other agents of role {name!r}; imported as their replica")
        roles[name]["count"] = replicas if role_level else roles[name]["count"] + 1
    for role in roles.values():
        if role["prompt"] is None:
            del role["prompt"]
    return role_of, list(roles.values())


def _read_tasks(
    data: dict[str, Any], file: str, role_of: dict[str, str], manager_role: str | None, warnings: list[str]
) -> tuple[list[tuple[str, str]], int, int, bool]:
    """Role hand-offs from task context, review rounds, redundancy, and whether descriptions were dropped."""
    task_role: dict[str, str | None] = {}
    edges: list[tuple[str, str]] = []
    rounds = attempts = 0
    described = False
    for key, cfg in data.items():
        key = str(key)
        cfg = _mapping(cfg, file, key, "task fields")
        _check_fields(cfg, file, key, _TASK_FIELDS_USED, _TASK_FIELDS_CREWAI, "task", warnings)
        agent = cfg.get("agent")
        if agent is None:
            role = manager_role
            if role is None:
                warnings.append(f"{file}: {key}.agent: no agent; the task is left out of the wiring")
        elif str(agent) in role_of:
            role = role_of[str(agent)]
            suffix = _TASK_SUFFIX.match(key[len(str(agent)) + 1 :]) if key.startswith(f"{agent}_") else None
            if suffix is None:
                described = True  # a task written by hand, not by our export
            elif suffix.group("round"):
                rounds = max(rounds, _bounded(int(suffix.group("round")), MAX_REVIEW_ROUNDS, "review round", file, key))
            elif suffix.group("attempt"):
                attempts = max(attempts, _bounded(int(suffix.group("attempt")), MAX_REDUNDANCY, "attempt", file, key))
        else:
            raise SwarmdesignError(
                f"unknown agent {agent!r}; expected one of {choices(sorted(role_of))}", file=file, field=f"{key}.agent"
            )
        context = cfg.get("context") or []
        if not isinstance(context, list):
            raise SwarmdesignError("expected a list of task names", file=file, field=f"{key}.context")
        for i, name in enumerate(context):
            if str(name) not in task_role:
                raise SwarmdesignError(
                    f"unknown or later task {name!r}; context may only name earlier tasks",
                    file=file,
                    field=f"{key}.context[{i}]",
                )
            src = task_role[str(name)]
            if role is not None and src is not None and src != role and (src, role) not in edges:
                edges.append((src, role))
        task_role[key] = role
    return edges, rounds, max(attempts, 1), described


def _bounded(value: int, limit: int, what: str, file: str, key: str) -> int:
    """A round or attempt number read from a task name, refused beyond what a Design holds."""
    if value > limit:
        raise SwarmdesignError(f"{what} {value} in the task name; expected at most {limit}", file=file, field=key)
    return value


#: Private key of an imported role: the agent it was first read from (for error messages).
_SOURCE = "_agent_key"
#: Design role fields and the CrewAI agent fields they came from.
_CREW_FIELD = {"name": "role", "model": "llm", "prompt": "backstory", "count": "swarmdesign.replicas"}
_ROLE_FIELD = re.compile(r"^roles\[(?P<i>\d+)\](?:\.(?P<sub>\w+))?")


def _in_crew_terms(exc: SwarmdesignError, roles: list[dict[str, Any]]) -> SwarmdesignError:
    """A Design error on ``roles[i].<field>`` named as the agent and field of agents.yaml it came from."""
    match = _ROLE_FIELD.match(exc.field or "")
    if match is None or int(match.group("i")) >= len(roles) or _SOURCE not in roles[int(match.group("i"))]:
        return exc
    key, sub = roles[int(match.group("i"))][_SOURCE], match.group("sub")
    field = f"{key}.{_CREW_FIELD.get(sub, sub)}" if sub else key
    return SwarmdesignError(exc.message, file=exc.file, field=field)


def find_crew_files(folder: str | Path) -> tuple[Path, Path]:
    """``agents.yaml`` and ``tasks.yaml`` of a CrewAI project folder, as ``crewai create crew`` lays it out.

    Looked for in the folder itself, in ``config/``, and in ``src/<package>/config/``
    (the layout of ``crewai create crew`` and of our export).

    Raises:
        SwarmdesignError: none, or several packages, hold both files.
    """
    root = Path(folder)
    places = [root, root / "config", *sorted(p.parent for p in root.glob("src/*/config/agents.yaml"))]
    found = [p for p in places if (p / "agents.yaml").is_file() and (p / "tasks.yaml").is_file()]
    if not found:
        raise SwarmdesignError(
            "no CrewAI project here; expected agents.yaml and tasks.yaml in the folder, in config/ "
            "or in src/<package>/config/",
            file=str(folder),
        )
    packages = [p.parent.name for p in found if p.parent.parent == root / "src"]
    if found[0].parent.parent == root / "src" and len(packages) > 1:
        raise SwarmdesignError(
            f"several crews ({', '.join(packages)}); name the agents.yaml and tasks.yaml to read", file=str(folder)
        )
    return found[0] / "agents.yaml", found[0] / "tasks.yaml"


def import_crewai(
    agents_yaml: str | Path,
    tasks_yaml: str | Path | None = None,
    *,
    process: str | None = None,
    name: str | None = None,
) -> tuple[Design, list[str]]:
    """Read a CrewAI team and return it as a Design, with warnings about what did not fit.

    Args:
        agents_yaml: CrewAI ``agents.yaml``, or a project folder (see :func:`find_crew_files`).
        tasks_yaml: CrewAI ``tasks.yaml``; left out when ``agents_yaml`` is a folder.
        process: ``"sequential"`` or ``"hierarchical"``; by default taken from
            our export's header comment, else from a ``crew.py`` beside the
            YAML (read as text), else sequential.
        name: the Design's name; by default the exported design's name or
            ``"imported-crew"``.

    Raises:
        SwarmdesignError: a file is missing or malformed, a task names an
            unknown agent or a later task, or the result is not a valid Design.
    """
    if tasks_yaml is None or Path(agents_yaml).is_dir():
        agents_yaml, tasks_yaml = find_crew_files(agents_yaml)
    agents_path, tasks_path = Path(agents_yaml), Path(tasks_yaml)
    afile, tfile = str(agents_yaml), str(tasks_yaml)
    if process is not None and process not in PROCESSES:
        raise SwarmdesignError(
            f"unknown process {process!r}; expected one of {', '.join(PROCESSES)}", field="--process"
        )
    warnings: list[str] = []
    agents_data = _mapping(yamlio.load_file(agents_path), afile, "(document)", "agent names to agent fields")
    tasks_data = _mapping(yamlio.load_file(tasks_path), tfile, "(document)", "task names to task fields")
    if not agents_data:
        raise SwarmdesignError("no agents; expected at least one", file=afile, field="(document)")
    meta = _read_meta(agents_path, warnings)
    process = process or meta.get("process") or _process_from_code(agents_path) or "sequential"
    if process not in PROCESSES:
        process = "sequential"
    role_of, roles = _read_agents(agents_data, afile, warnings)
    coordinator = next((r["name"] for r in roles if r["archetype"] in COORDINATORS and r["count"] > 0), None)
    if process == "hierarchical" and coordinator is None:
        coordinator = "manager"
        while coordinator in {r["name"] for r in roles}:
            coordinator += "_"
        roles.insert(0, {"name": coordinator, "archetype": "orchestrator", "count": 1, "model": roles[0]["model"]})
        warnings.append(
            f"{afile}: (process): hierarchical crew without a planner or manager agent; "
            f"added the coordinator role {coordinator!r}"
        )
    manager_role = coordinator if process == "hierarchical" else None
    edges, rounds, attempts, described = _read_tasks(tasks_data, tfile, role_of, manager_role, warnings)
    if described:
        warnings.append(
            f"{tfile}: (tasks): task descriptions and expected outputs are not part of a Design; not imported"
        )
    if manager_role is not None and edges:
        targets = {b for _, b in edges}
        edges = [
            (manager_role, r["name"]) for r in roles if r["name"] not in targets and r["name"] != manager_role
        ] + edges
    total = sum(r["count"] for r in roles)
    from_meta = isinstance(meta.get("coordination"), dict)
    coordination = meta["coordination"] if from_meta else {"redundancy": attempts, "review_rounds": rounds}
    if isinstance(meta.get("topology"), dict):
        topology = meta["topology"]
    elif total == 1:
        topology = {"kind": "single"}
    else:
        members = [key for key, role in role_of.items() if role != coordinator]
        peers = bool(members) and all(agents_data[key].get("allow_delegation") is True for key in members)
        topology = {"kind": ("hybrid" if peers else "star") if process == "hierarchical" else "chain"}
    data: dict[str, Any] = {
        "swarmdesign": 1,
        "name": name or meta.get("name") or "imported-crew",
        "description": f"Imported from CrewAI files {agents_path.name} and {tasks_path.name}.",
        "roles": [{k: v for k, v in r.items() if k != _SOURCE} for r in roles],
        "topology": topology,
        "edges": [list(e) for e in edges],
        "coordination": coordination,
    }
    try:
        design = _build(data, afile, warnings)
    except SwarmdesignError as exc:
        raise _in_crew_terms(exc, roles) from None
    return _restore_from_meta(_tidy_edges(design, rounds_known=from_meta), meta, afile, warnings), warnings


def _restore_from_meta(design: Design, meta: dict[str, Any], file: str, warnings: list[str]) -> Design:
    """Put back what our export's header keeps and a crew cannot: explicit edges, count-0 roles, the description.

    Only when the crew still matches the header (same active roles): a crew
    edited by hand keeps what was read from its agents and tasks, with a warning.
    """
    order, inactive = meta.get("role_order"), meta.get("inactive_roles")
    if not isinstance(order, list) or not isinstance(inactive, list) or not isinstance(meta.get("edges"), list):
        return design
    active = {r.name: r for r in design.roles}
    spare = {r.get("name"): r for r in inactive if isinstance(r, dict)}
    if set(order) != set(active) | set(spare) or set(active) & set(spare):
        warnings.append(
            f"{file}: (header): the crew no longer matches its swarmdesign header; edges rebuilt from tasks"
        )
        return design
    data = design.to_dict()
    data["roles"] = [active[n].model_dump(mode="json", exclude_none=True) if n in active else spare[n] for n in order]
    data["edges"] = meta["edges"]
    if isinstance(meta.get("description"), str):
        data["description"] = meta["description"]
    elif "description" in meta and meta["description"] is None:  # the design had none
        data.pop("description", None)
    try:
        return Design.from_dict(data, file=file)
    except SwarmdesignError:
        warnings.append(f"{file}: (header): its edges or spare roles do not fit the crew; edges rebuilt from tasks")
        return design


def _build(data: dict[str, Any], file: str, warnings: list[str]) -> Design:
    """Validate; a topology taken from our header that no longer fits falls back to chain, with a warning."""
    try:
        return Design.from_dict(data, file=file)
    except SwarmdesignError as exc:
        if data["topology"].get("kind") in ("chain", "single"):
            raise
        warnings.append(
            f"{file}: topology: {data['topology'].get('kind')!r} does not fit the crew ({exc.message}); used chain"
        )
        return Design.from_dict({**data, "topology": {"kind": "chain"}}, file=file)


def _tidy_edges(design: Design, *, rounds_known: bool) -> Design:
    """Leave out what the Design implies anyway: review loops, and edges equal to the stage-order default.

    Our export runs an explicit cycle once even without review rounds, so a
    single unrolled round whose loops are not review-shaped means
    ``review_rounds: 0`` — unless the header said otherwise (``rounds_known``).
    """
    roles = [r.name for r in design.active_roles]
    forward, loops = split_loops(roles, list(design.edges))
    implied = set(review_loops(design, forward))
    if not rounds_known and design.coordination.review_rounds == 1 and not implied & set(loops):
        coordination = design.coordination.model_copy(update={"review_rounds": 0})
        design = design.model_copy(update={"coordination": coordination})
        implied = set()
    edges = [e for e in design.edges if e not in implied]
    bare = design.model_copy(update={"edges": []})
    if sorted(bare.role_graph()) == sorted(edges):
        edges = []
    return design.model_copy(update={"edges": edges})
