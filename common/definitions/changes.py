"""What a PATCH may still change, by the experiment's status on the day of the change.

planned   everything but the id; a new start may not lie in the past (that would start it
          retroactively).
running   only the end: not before today (the days already observed stay in) and not before
          the start. Variants and weights fix who saw what; the hypothesis, primary metric and
          guardrails were registered before the data came in.
finished  nothing: the definition is the record its analysis was made against.

A broken rule answers 409 naming the field and the rule; a malformed value is a 400 (spec).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from common.definitions.spec import DefinitionSpec, changed_fields, merged
from common.errors import Conflict

_WHILE_RUNNING = frozenset({"end_date"})


class ChangeRefused(Conflict):
    code = "change_refused"


def changed(
    current: DefinitionSpec, body: Mapping[str, Any], today: date
) -> tuple[DefinitionSpec, tuple[str, ...]]:
    """The definition after the PATCH ``body`` and the fields it changes, or ChangeRefused."""
    if "experiment_id" in body and body["experiment_id"] != current.experiment_id:
        raise ChangeRefused("the experiment id never changes", field="experiment_id")
    new = merged(current, body)
    fields = changed_fields(current, new)
    status = current.experiment.status_on(today)
    if status == "finished" and fields:
        raise ChangeRefused(
            f"the experiment finished on {current.end_date}: its definition no longer changes",
            field=fields[0],
        )
    if status == "running":
        frozen = [f for f in fields if f not in _WHILE_RUNNING]
        if frozen:
            raise ChangeRefused(
                f"{frozen[0]} is fixed once the experiment has started ({current.start_date}); "
                "only end_date may change while it runs",
                field=frozen[0],
            )
        if new.end_date is not None and new.end_date < today and "end_date" in fields:
            raise ChangeRefused(f"end_date may not be before today ({today})", field="end_date")
    if status == "planned" and "start_date" in fields and new.start_date < today:
        raise ChangeRefused(f"start_date may not be before today ({today})", field="start_date")
    return new, fields
