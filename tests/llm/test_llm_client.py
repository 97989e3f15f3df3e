"""The safety rules of the client, each exercised through litellm with the fake provider."""

from __future__ import annotations

import threading
import time

import pytest

from swarmdesign.errors import RunStopped, SwarmdesignError
from swarmdesign.llm.client import LLMClient, redact
from swarmdesign.llm.fake import make_fake_provider, register_fake_provider
from swarmdesign.llm.settings import LLMSettings, validate_llm_section

MESSAGES = [{"role": "user", "content": "Task: Jon has 5 coins. Then Jon gives away 1 coins. How many?"}]


def client(tmp_path, **fields) -> LLMClient:
    return LLMClient(LLMSettings(cache_dir=str(tmp_path / "c"), backoff_s=0.0, **fields))


def test_cost_from_litellm_price_map(tmp_path, fake):
    c = client(tmp_path)
    r = c.complete("fake/gpt-4o-mini", MESSAGES, seed=1)
    assert r.ok and r.price_source == "litellm"
    rate_in, rate_out = 0.15e-6, 0.60e-6  # gpt-4o-mini in litellm's bundled map
    assert r.cost_usd == pytest.approx(r.prompt_tokens * rate_in + r.completion_tokens * rate_out)
    assert r.spent_usd == r.cost_usd > 0


def test_cache_makes_a_repeat_free(tmp_path, fake):
    c = client(tmp_path)
    first = c.complete("fake/gpt-4o-mini", MESSAGES, seed=1)
    again = c.complete("fake/gpt-4o-mini", MESSAGES, seed=1)
    other_seed = c.complete("fake/gpt-4o-mini", MESSAGES, seed=2)
    assert fake.calls == 2
    assert again.cached and again.spent_usd == 0 and again.text == first.text
    assert again.cost_usd == first.cost_usd  # the design still costs what it costs
    assert not other_seed.cached
    assert c.budget.spent_usd == pytest.approx(first.cost_usd + other_seed.cost_usd)


def test_retries_with_backoff_on_rate_limits(tmp_path, litellm):
    provider = make_fake_provider(litellm, fail_first=2)
    register_fake_provider(litellm, provider)
    r = client(tmp_path, retries=3).complete("fake/x", MESSAGES, seed=1)
    assert r.ok and r.attempts == 3 and provider.calls == 3


def test_gives_up_after_retries_without_raising(tmp_path, litellm):
    register_fake_provider(litellm, make_fake_provider(litellm, fail_first=10, failure="timeout"))
    r = client(tmp_path, retries=1).complete("fake/x", MESSAGES, seed=1)
    assert not r.ok and r.attempts == 2 and "Timeout" in r.error


def test_per_call_timeout(tmp_path, litellm):
    register_fake_provider(litellm, make_fake_provider(litellm, delay_s=5.0))
    start = time.perf_counter()
    r = client(tmp_path, retries=0, timeout_s=0.2).complete("fake/x", MESSAGES, seed=1)
    assert not r.ok and "Timeout" in r.error
    assert time.perf_counter() - start < 3


def test_hard_cap_is_never_exceeded(tmp_path, fake):
    # gpt-4o prices make each call ~1e-3 USD worst case; a 4e-3 cap allows a few calls only.
    c = client(tmp_path, max_cost_usd=4e-3, max_tokens=200)
    answered = 0
    with pytest.raises(RunStopped) as stop:
        for seed in range(100):
            c.complete("fake/gpt-4o", MESSAGES, seed=seed)
            answered += 1
    assert 0 < answered < 100
    assert c.budget.spent_usd <= 4e-3
    assert stop.value.field == "llm.max_cost_usd"
    with pytest.raises(RunStopped):  # every later call is refused too
        c.complete("fake/gpt-4o", MESSAGES, seed=1000)
    assert fake.calls == answered


def test_cap_needs_a_price(tmp_path, fake):
    with pytest.raises(SwarmdesignError, match=r"llm\.prices"):
        client(tmp_path, max_cost_usd=1.0).complete("fake/unknown-model", MESSAGES, seed=1)
    price = {"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0}
    priced = client(tmp_path, max_cost_usd=1.0, prices={"fake/unknown-model": price})
    assert priced.complete("fake/unknown-model", MESSAGES, seed=1).price_source == "scenario"


def test_concurrency_limit(tmp_path, litellm):
    in_flight, peak, lock = [0], [0], threading.Lock()
    provider = make_fake_provider(litellm)
    inner = provider.completion

    def counting(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        try:
            return inner(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    provider.completion = counting
    register_fake_provider(litellm, provider)
    c = client(tmp_path, concurrency=2)
    threads = [threading.Thread(target=c.complete, args=("fake/x", MESSAGES), kwargs={"seed": i}) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_unknown_provider_is_a_user_error(tmp_path, litellm):
    with pytest.raises(SwarmdesignError, match="not a litellm model string"):
        client(tmp_path).complete("nosuchprovider-model", MESSAGES, seed=1)


def test_api_key_env_must_be_a_name_and_set(tmp_path, fake, monkeypatch):
    with pytest.raises(SwarmdesignError) as err:
        validate_llm_section({"api_key_env": "sk-abc123-def"})
    assert err.value.field == "llm.api_key_env"
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(SwarmdesignError, match="MY_KEY is not set"):
        client(tmp_path, api_key_env="MY_KEY").complete("fake/x", MESSAGES, seed=1)


def test_settings_errors_name_the_field():
    with pytest.raises(SwarmdesignError) as err:
        validate_llm_section({"n_tasks": 0})
    assert err.value.field == "llm.n_tasks"
    with pytest.raises(SwarmdesignError) as err:
        validate_llm_section({"max_tokenz": 5})
    assert err.value.field == "llm.max_tokenz"
    with pytest.raises(SwarmdesignError, match="api_key"):
        validate_llm_section({"params": {"api_key": "x"}})


def test_redact(monkeypatch):
    monkeypatch.setenv("SOME_API_KEY", "sk-very-secret-value")
    from swarmdesign.llm.client import secret_values

    text = redact("key sk-very-secret-value at https://user:pw@host/v1", secret_values())
    assert "sk-very-secret-value" not in text and "user:pw" not in text
