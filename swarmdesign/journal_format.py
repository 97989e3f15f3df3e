"""Optuna's journal record for a finished trial, written without going through ``JournalStorage``.

Why this module exists: recording a trial through Optuna's public API
(``JournalStorage.create_new_trial``) serialises every parameter's
distribution to JSON, appends the record, and then replays its own log line,
parsing every distribution back (about 30 JSON round trips per trial here).
That was the largest cost of a simulated run after the simulator. A run
folder's own journal has exactly one writer (:mod:`swarmdesign.runlock`), so
the run can append the very record Optuna would have written, with the
distributions serialised once per run, and let Optuna replay it only when
someone reads the study (``resume``, ``load_run`` without a fresh stamp, the
dashboard, Optuna's own tools).

The journal is a file format Optuna reads across versions (its
``JournalOperation.CREATE_TRIAL`` record, op code 4, fields as written by
``optuna.storages.JournalStorage.create_new_trial`` with a template trial).
This is the one place that writes it; ``tests/results/test_journal_format.py``
records trials through this module and through Optuna's public API and
compares the trials ``optuna.load_study`` reads back, so a change of the
format in a new Optuna release fails there, not in a user's run folder.
The ``optuna`` requirement in ``pyproject.toml`` bounds the major version.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, distribution_to_json
from optuna.trial import FrozenTrial

from swarmdesign.jsontext import dumps

#: ``JournalOperation`` codes of Optuna's journal format (the enum itself is not public API).
CREATE_STUDY, SET_STUDY_USER_ATTR, CREATE_TRIAL = 0, 2, 4


class TrialRecords:
    """Builds journal lines for one study: finished trials (CREATE_TRIAL) and study attributes.

    Everything that does not change between trials (the op code, the writer's
    id, the study id, every distribution's JSON, how each parameter value maps
    to Optuna's internal representation) is computed once per set of
    distributions: the run's space, and the few others a recommendation stage
    writes (a baseline outside the space has no parameters at all).
    """

    def __init__(self, study_id: int, distributions: Mapping[str, BaseDistribution]) -> None:
        self.distributions = dict(distributions)
        self._worker = json.dumps(f"swarmdesign-{uuid.uuid4()}-0")
        self._study_id = int(study_id)
        self._main = self._form(self.distributions)
        #: Other distribution sets met so far, by identity: (the mapping itself, its form).
        self._forms: dict[int, tuple[Mapping[str, BaseDistribution], _Form]] = {}

    def _form(self, distributions: Mapping[str, BaseDistribution]) -> _Form:
        dists = json.dumps({k: distribution_to_json(d) for k, d in distributions.items()}, separators=(",", ":"))
        head = (
            f'{{"op_code":{CREATE_TRIAL},"worker_id":{self._worker},"study_id":{self._study_id},'
            f'"distributions":{dists},'
        )
        return head, {k: _to_internal(d) for k, d in distributions.items()}

    def _form_of(self, distributions: Mapping[str, BaseDistribution]) -> _Form:
        if distributions is self.distributions:
            return self._main
        known = self._forms.get(id(distributions))
        if known is not None and known[0] is distributions:
            return known[1]
        form = self._main if distributions == self.distributions else self._form(distributions)
        self._forms[id(distributions)] = (distributions, form)
        return form

    def lines(self, trials: Sequence[FrozenTrial]) -> list[str]:
        """One journal line (JSON text, no newline) per finished trial, as Optuna writes a template trial."""
        out = []
        stamps: dict[_dt.datetime, str] = {}
        for t in trials:
            head, internal = self._form_of(t.distributions)
            start, complete = t.datetime_start, t.datetime_complete
            values = t.values
            body = {
                "datetime_start": _iso(start, stamps),
                "state": int(t.state.value),
                "value": values[0] if values is not None and len(values) == 1 else None,
                "values": list(values) if values is not None and len(values) > 1 else None,
                "params": {k: internal[k](v) for k, v in t.params.items()},
                "user_attrs": t.user_attrs,
                "system_attrs": t.system_attrs,
                "intermediate_values": t.intermediate_values,
            }
            if complete is not None:
                body["datetime_complete"] = _iso(complete, stamps)
            out.append(head + dumps(body)[1:])
        return out

    def study_attr_line(self, key: str, value: Any) -> str:
        """The line ``study.set_user_attr(key, value)`` appends (SET_STUDY_USER_ATTR)."""
        body = json.dumps({"study_id": self._study_id, "user_attr": {key: value}}, separators=(",", ":"))
        return f'{{"op_code":{SET_STUDY_USER_ATTR},"worker_id":{self._worker},' + body[1:]


#: A distribution set's line head (up to the trial's own fields) and its params' internal-repr functions.
_Form = tuple[str, dict[str, Callable[[Any], Any]]]


def _iso(moment: _dt.datetime | None, cache: dict[_dt.datetime, str]) -> str | None:
    """Optuna's timestamp: UTC, microseconds (a naive time is local, as Optuna reads it back)."""
    if moment is None:
        return None
    text = cache.get(moment)
    if text is None:
        text = cache[moment] = moment.astimezone(_dt.UTC).isoformat(timespec="microseconds")
    return text


def _to_internal(dist: BaseDistribution) -> Callable[[Any], Any]:
    """``dist.to_internal_repr`` for one parameter, with the categorical index looked up in a dict."""
    if isinstance(dist, CategoricalDistribution):
        index: dict[Any, int] = {}
        for i, choice in enumerate(dist.choices):
            with suppress(TypeError):  # an unhashable choice is found by Optuna's own lookup
                index.setdefault(choice, i)  # list.index semantics: the first equal choice wins

        def categorical(value: Any, index: dict[Any, int] = index, dist: CategoricalDistribution = dist) -> Any:
            try:
                return index[value]
            except (KeyError, TypeError):
                return dist.to_internal_repr(value)

        return categorical
    return dist.to_internal_repr
