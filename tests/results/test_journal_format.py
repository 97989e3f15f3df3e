"""Trials appended as journal records by swarmdesign read back exactly as trials added through Optuna's API.

:mod:`swarmdesign.journal_format` writes Optuna's journal file format itself;
these tests are what binds it to the installed Optuna: the same trials are
recorded once through that module (:class:`swarmdesign.run_trials.RunTrials`
on a run folder's own journal) and once through ``study.add_trial``, and
``optuna.load_study`` must read back equal trials from both files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from swarmdesign.commands._common import load_space
from swarmdesign.jsontext import dumps
from swarmdesign.run_trials import RunTrials
from swarmdesign.storage import JOURNAL_NAME, open_storage

DISTS = {
    "cat": CategoricalDistribution([None, True, 2, 2.5, "two", "", "ünï"]),
    "flag": CategoricalDistribution([False, True]),
    "n": IntDistribution(1, 64, log=True),
    "k": IntDistribution(0, 10, step=2),
    "x": FloatDistribution(0.0, 1.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "q": FloatDistribution(0.0, 1.0, step=0.25),
}


def _trials(count: int, n_obj: int, start: int = 0) -> list[FrozenTrial]:
    """Finished trials over :data:`DISTS`: every third one FAIL, attrs of every JSON kind."""
    out = []
    base = dt.datetime(2026, 3, 29, 1, 30, 0, 123456)  # naive local time, as the runner records it
    cats = DISTS["cat"].choices
    for i in range(start, start + count):
        failed = i % 3 == 2
        when = base + dt.timedelta(seconds=i, microseconds=7 * i)
        out.append(
            FrozenTrial(
                number=-1,
                state=TrialState.FAIL if failed else TrialState.COMPLETE,
                value=None,
                values=None if failed else [0.1 * i + j for j in range(n_obj)],
                datetime_start=when,
                datetime_complete=when + dt.timedelta(milliseconds=3),
                params={
                    "cat": cats[i % len(cats)],
                    "flag": bool(i % 2),
                    "n": 1 + i % 64,
                    "k": 2 * (i % 6),
                    "x": (i % 7) / 7,
                    "lr": 10 ** -(1 + i % 4),
                    "q": 0.25 * (i % 5),
                },
                distributions=DISTS,
                user_attrs={
                    "design": '{"name":"d","roles":[]}',
                    "score": 0.5 + i,
                    "feasible": i % 2 == 0,
                    "generation": i // 4,
                    "note": 'naïve \u2013 "quoted"\n',
                    **({"nan_metric": math.nan} if i % 4 == 0 else {}),  # NaN takes json's path, the rest orjson's
                    "tiny": 1.5e-07 * (i + 1),
                    "huge": 1e300 * (i + 1),
                    "list": [1, 2.5, None],
                    **({"nested": {"inf": [math.inf]}, "big": 2**70} if i % 5 == 1 else {}),
                    **({"fail_reason": "ValueError: boom"} if failed else {}),
                },
                system_attrs={"sampler": {"state": [i, i + 1]}},
                intermediate_values={},
                trial_id=-1,
            )
        )
    return out


def _study(path: Path, n_obj: int) -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.create_study(storage=storage, study_name="s", directions=["maximize"] * n_obj)


def _direct(run_dir: Path, n_obj: int, batches: list[list[FrozenTrial]], *, create: bool) -> None:
    """Record ``batches`` through swarmdesign's own journal records (one flush per batch)."""
    run_dir.mkdir(exist_ok=True)
    store = open_storage(run_dir, None)
    if create:
        study = optuna.create_study(storage=store.storage, study_name="s", directions=["maximize"] * n_obj)
        store.flush()
    else:
        study = optuna.load_study(study_name="s", storage=store.storage)
    log = RunTrials(study, store, DISTS)
    assert log.direct
    for batch in batches:
        log.add(batch)
        store.flush()
    assert [t.number for t in log.trials()] == list(range(len(log.trials())))


def _read(path: Path) -> list[FrozenTrial]:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.load_study(study_name="s", storage=storage).get_trials(deepcopy=False)


def _same(ours: list[FrozenTrial], theirs: list[FrozenTrial]) -> None:
    assert len(ours) == len(theirs) > 0
    for a, b in zip(ours, theirs, strict=True):
        assert a.number == b.number
        assert a.state == b.state
        assert a.values == b.values
        assert a.params == b.params
        assert [type(v) for v in a.params.values()] == [type(v) for v in b.params.values()]
        assert a.distributions == b.distributions
        assert a.system_attrs == b.system_attrs
        assert a.datetime_start == b.datetime_start and a.datetime_complete == b.datetime_complete
        assert a.intermediate_values == b.intermediate_values
        nan_a = {k for k, v in a.user_attrs.items() if isinstance(v, float) and math.isnan(v)}
        nan_b = {k for k, v in b.user_attrs.items() if isinstance(v, float) and math.isnan(v)}
        assert nan_a == nan_b
        assert {k: v for k, v in a.user_attrs.items() if k not in nan_a} == {
            k: v for k, v in b.user_attrs.items() if k not in nan_b
        }


@pytest.mark.parametrize("n_obj", [1, 3])
def test_direct_records_read_back_as_optunas(tmp_path: Path, n_obj: int) -> None:
    _direct(tmp_path / "ours", n_obj, [_trials(5, n_obj), _trials(7, n_obj, 5)], create=True)
    theirs = _study(tmp_path / "theirs.journal", n_obj)
    for t in _trials(12, n_obj):
        theirs.add_trial(t)
    read = _read(tmp_path / "ours" / JOURNAL_NAME)
    _same(read, _read(tmp_path / "theirs.journal"))
    assert {t.state for t in read} == {TrialState.COMPLETE, TrialState.FAIL}


def test_a_resumed_study_mixes_both_writers(tmp_path: Path) -> None:
    """Optuna's API, then a run's own records, then Optuna's API again on the same journal."""
    run_dir = tmp_path / "ours"
    run_dir.mkdir()
    journal = run_dir / JOURNAL_NAME
    first = _study(journal, 2)
    for t in _trials(4, 2):
        first.add_trial(t)
    _direct(run_dir, 2, [_trials(6, 2, 4)], create=False)
    again = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    )
    assert len(again.trials) == 10
    for t in _trials(3, 2, 10):
        again.add_trial(t)
    _direct(run_dir, 2, [_trials(2, 2, 13)], create=False)

    theirs = _study(tmp_path / "theirs.journal", 2)
    for t in _trials(15, 2):
        theirs.add_trial(t)
    _same(_read(journal), _read(tmp_path / "theirs.journal"))


def test_the_real_space_distributions_read_back(tmp_path: Path) -> None:
    """Every distribution of a bundled space (categoricals of names, counts, flags) survives the round trip."""
    space = load_space("software_team")
    dists = space.distributions()
    run_dir = tmp_path / "ours"
    run_dir.mkdir()
    store = open_storage(run_dir, None)
    study = optuna.create_study(storage=store.storage, study_name="s", direction="maximize")
    log = RunTrials(study, store, dists)
    sampler = optuna.samplers.RandomSampler(seed=3)
    probe = optuna.create_study(sampler=sampler, direction="maximize")
    frozen = []
    for i in range(8):
        trial = probe.ask(dists)
        probe.tell(trial, float(i))
        frozen.append(probe.trials[-1])
    theirs = _study(tmp_path / "theirs.journal", 1)
    for t in frozen:
        theirs.add_trial(t)
    log.add([_copy(t) for t in frozen])
    store.flush()
    ours, other = _read(run_dir / JOURNAL_NAME), _read(tmp_path / "theirs.journal")
    assert [t.params for t in ours] == [t.params for t in other]
    assert [t.distributions for t in ours] == [t.distributions for t in other]
    assert [t.values for t in ours] == [t.values for t in other]


def _copy(t: FrozenTrial) -> FrozenTrial:
    return FrozenTrial(
        number=-1,
        state=t.state,
        value=None,
        values=t.values,
        datetime_start=t.datetime_start,
        datetime_complete=t.datetime_complete,
        params=dict(t.params),
        distributions=t.distributions,
        user_attrs=dict(t.user_attrs),
        system_attrs=dict(t.system_attrs),
        intermediate_values={},
        trial_id=-1,
    )


def test_study_attributes_and_parameterless_trials_read_back_as_optunas(tmp_path: Path) -> None:
    """The recommendation (a study attribute) and a baseline outside the space (no parameters) as Optuna writes them."""
    run_dir = tmp_path / "ours"
    run_dir.mkdir()
    store = open_storage(run_dir, None)
    study = optuna.create_study(storage=store.storage, study_name="s", directions=["maximize"])
    store.flush()
    log = RunTrials(study, store, DISTS)
    rec = {"trial": 1, "advantage": 0.25, "baselines": [{"name": "ünï", "score": None}], "beats_baseline": True}
    bare = optuna.trial.create_trial(state=TrialState.COMPLETE, params={}, distributions={}, values=[0.5],
                                      user_attrs={"stage": "baseline", "design": "{}"})  # fmt: skip
    log.add([_trials(1, 1)[0], bare])
    log.set_study_attr("recommendation", rec)
    log.set_study_attr("recommendation", {**rec, "trial": 0})  # a later stage replaces it
    store.flush()
    theirs = _study(tmp_path / "theirs.journal", 1)
    theirs.add_trial(_trials(1, 1)[0])
    theirs.add_trial(bare)
    theirs.set_user_attr("recommendation", rec)
    theirs.set_user_attr("recommendation", {**rec, "trial": 0})
    ours = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_NAME)))
    )
    other = optuna.load_study(
        study_name="s", storage=optuna.storages.JournalStorage(JournalFileBackend(str(tmp_path / "theirs.journal")))
    )
    assert ours.user_attrs == other.user_attrs == {"recommendation": {**rec, "trial": 0}}
    _same(ours.get_trials(deepcopy=False), other.get_trials(deepcopy=False))
    assert ours.trials[1].params == {} and ours.trials[1].distributions == {}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"tiny": 1.5e-07, "small": 1e-05, "huge": 1e300, "text": 'naïve \u2013 "q"\n\u2028'},
        {"nan": math.nan},
        {"deep": {"list": [1.0, (2.0, -math.inf)]}},
        {"big": 2**70},
        {1: 2.0},
        {"lone": "a\ud800b"},
    ],
)
def test_a_record_body_reads_back_as_json_wrote_it(extra: dict) -> None:
    """Either encoder: the text Optuna's reader parses gives what ``json.dumps`` would have given."""
    body = {"state": 1, "value": None, "params": {"x": 0.1}, "user_attrs": {"score": 0.5, **extra}}
    ours = json.loads(dumps(body))
    theirs = json.loads(json.dumps(body, separators=(",", ":")))
    assert repr(ours) == repr(theirs)  # repr: NaN == NaN, and -0.0 / 0.0 told apart
    dumps(body).encode()  # the journal is written as UTF-8: a lone surrogate must come out escaped


def test_float_texts_are_what_repr_writes() -> None:
    """trials.csv's floats: the one-call formatter gives ``repr`` of every float, bit patterns and edges alike."""
    import random
    import struct

    from swarmdesign.jsontext import float_texts

    rng = random.Random(7)
    values = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(50_000)]
    values += [rng.random() * 10.0 ** rng.randint(-30, 30) for _ in range(50_000)]
    values += [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-4, -1e-4, 9.999999999999999e-05, 1e-5, 1e16]
    values += [9999999999999998.0, 5e-324, 1.7976931348623157e308, 0.1, 140.0, 2.0**53]
    assert float_texts(values) == [repr(v) for v in values]
    assert float_texts([1.0, math.nan, 2e-7], nan="") == ["1.0", "", "2e-07"]
    assert float_texts([]) == []
