"""The AutoGen export's model map: one model-client component per model the design names.

AutoGen's declarative JSON puts a model client inside every agent, so a team
of N agents names its models N+1 times (the selector too). The export keeps
that JSON loadable as it is (``Team.load_component``) but writes the clients
once more into ``models.json``, keyed by the design's model string, with the
agent -> model assignment beside them; the generated ``team.py`` rebuilds the
team from that one map, so switching a model (or pointing every agent at a
local OpenAI-compatible server) is one edit or one argument.

Client classes follow the provider prefix of the litellm-style model string:
``anthropic/`` → ``AnthropicChatCompletionClient``, ``ollama/`` →
``OllamaChatCompletionClient``, and ``openai/``, ``gemini/`` (served by
Google's OpenAI-compatible endpoint, which AutoGen's OpenAI client selects for
``gemini-*`` names) and anything else → ``OpenAIChatCompletionClient``.
``model_info`` is written only for names AutoGen does not know, where its
clients refuse to start without it; no API key is ever written.
"""

from __future__ import annotations

from typing import Any

OPENAI_CLIENT = "autogen_ext.models.openai.OpenAIChatCompletionClient"
ANTHROPIC_CLIENT = "autogen_ext.models.anthropic.AnthropicChatCompletionClient"
OLLAMA_CLIENT = "autogen_ext.models.ollama.OllamaChatCompletionClient"

_CLIENTS = {"anthropic": ANTHROPIC_CLIENT, "ollama": OLLAMA_CLIENT, "ollama_chat": OLLAMA_CLIENT}

#: Model-name prefixes AutoGen's own model table knows (their capabilities are looked up, not guessed).
_KNOWN_PREFIXES = ("gpt-4", "gpt-5", "gpt-3.5", "o1", "o3", "o4", "claude-", "gemini-")

#: What an unknown model is assumed to do: plain chat, no tools (the exported agents use none).
UNKNOWN_MODEL_INFO = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}

MODELS_FILE = "models.json"
SELECTOR = "__selector__"


def split_model(model: str) -> tuple[str, str]:
    """``provider/name`` → (provider, name); a bare name is an OpenAI model."""
    provider, sep, name = model.partition("/")
    return (provider, name) if sep else ("openai", model)


def model_client(model: str) -> dict[str, Any]:
    """The AutoGen model-client component for a litellm-style model string."""
    provider, name = split_model(model)
    client = _CLIENTS.get(provider, OPENAI_CLIENT)
    config: dict[str, Any] = {"model": name}
    if client == OLLAMA_CLIENT or not name.startswith(_KNOWN_PREFIXES):
        config["model_info"] = dict(UNKNOWN_MODEL_INFO)
    return {
        "provider": client,
        "component_type": "model",
        "version": 1,
        "component_version": 1,
        "config": config,
    }


def model_map(assignments: dict[str, str]) -> dict[str, Any]:
    """``models.json``: the clients by design model, and which agent (or the selector) uses which."""
    models = sorted(set(assignments.values()))
    return {
        "clients": {m: model_client(m) for m in models},
        "agents": assignments,
    }


TEAM_MODULE = '''\
"""Load the AutoGen team exported by swarmdesign, with its models chosen in one place.

team.json is AutoGen's own declarative team; models.json maps each model the
design names to one model-client component and says which agent uses which.
load_team() rebuilds the team from that map, so to change models edit
models.json, or pass them here:

    load_team()                                             # the design's models (keys from the environment)
    load_team(models={{"openai/gpt-4o-mini": {{...component...}}}})  # replace some clients
    load_team(base_url="http://127.0.0.1:8080/v1", model="smollm2")  # every agent on one OpenAI-compatible server

Run: python team.py "the work item"   (add --base-url URL --model NAME for a local server)
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from autogen_agentchat.base import Team

HERE = Path(__file__).resolve().parent
SELECTOR = {selector!r}
OPENAI_CLIENT = {openai_client!r}
UNKNOWN_MODEL_INFO = {unknown_info!r}


def _read(name: str) -> Any:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def local_client(base_url: str, model: str, api_key: str | None = None) -> dict[str, Any]:
    """A client component for an OpenAI-compatible server (llama.cpp, vLLM, Ollama's /v1, LM Studio...)."""
    key = api_key or os.environ.get("OPENAI_API_KEY") or "unused"
    config = {{"model": model, "base_url": base_url, "api_key": key, "model_info": dict(UNKNOWN_MODEL_INFO)}}
    return {{"provider": OPENAI_CLIENT, "component_type": "model", "config": config}}


def load_team(
    models: dict[str, Any] | None = None,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
) -> Team:
    """The team, each agent's client taken from models.json, overridden by `models` or `base_url`."""
    team = _read("team.json")
    spec = _read("models.json")
    clients = dict(spec["clients"])
    if base_url is not None:
        clients = {{name: local_client(base_url, model or name.partition("/")[2] or name, api_key) for name in clients}}
    clients.update(models or {{}})
    config = team["config"]
    for participant in config["participants"]:
        name = participant["config"]["name"]
        if name in spec["agents"]:
            participant["config"]["model_client"] = clients[spec["agents"][name]]
    if "model_client" in config and SELECTOR in spec["agents"]:
        config["model_client"] = clients[spec["agents"][SELECTOR]]
    return Team.load_component(team)


async def _main(task: str, base_url: str | None, model: str | None) -> None:
    result = await load_team(base_url=base_url, model=model).run(task=task)
    for message in result.messages:
        print(f"--- {{message.source}}\\n{{getattr(message, 'content', '')}}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run the exported team on one work item.")
    parser.add_argument("task", nargs="*", help="the work item (asked for when omitted)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server for every agent, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--model", help="the model name on that server")
    args = parser.parse_args()
    asyncio.run(_main(" ".join(args.task) or input("Work item: "), args.base_url, args.model))
'''


def team_module() -> str:
    """The text of ``team.py``: fixed code, no design-derived text."""
    return TEAM_MODULE.format(selector=SELECTOR, openai_client=OPENAI_CLIENT, unknown_info=UNKNOWN_MODEL_INFO)
