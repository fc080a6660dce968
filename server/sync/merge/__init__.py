"""The merge: one stored submission -> members, workplaces, villages, visits, referrals.

Read in this order: :mod:`.pipeline` (the entry point the worker calls), :mod:`.answers` (the
XML reader), :mod:`.context`, then one module per form (:mod:`.member_intake` with
:mod:`.members`, :mod:`.workplace_visit` with :mod:`.entity_update`, :mod:`.village_data`),
:mod:`.workplaces` (workplaces typed into forms) and :mod:`.referrals`.
"""

from server.sync.merge.answers import EntityMeta, read_answers
from server.sync.merge.context import MergeError, MergeOutcome
from server.sync.merge.pipeline import HANDLERS, merge_lag_seconds, merge_submission

__all__ = [
    "HANDLERS",
    "EntityMeta",
    "MergeError",
    "MergeOutcome",
    "merge_lag_seconds",
    "merge_submission",
    "read_answers",
]
