"""Record linkage for members and workplaces (domain brief, sections 4.3-4.5).

Pure functions and frozen dataclasses: no database, no Flask. Read in this order:

* :mod:`.normalise` Khmer and Latin names, phones;
* :mod:`.records` a member record and the keys derived from it once;
* :mod:`.keys` blocking keys and candidate ranking;
* one scorer per kind of evidence: :mod:`.names`, :mod:`.dates`, :mod:`.phones`,
  :mod:`.places`;
* :mod:`.combine` weighs their evidence into a band and decides (:func:`score_members`,
  :func:`decide`);
* :mod:`.workplaces` the same for workplaces.

The merge stores :func:`blocking_keys` in an indexed table, fetches candidates with
``WHERE key IN (...)``, then calls :func:`score_members` and :func:`decide` for each.
"""

from server.sync.match.combine import COMMON_NAME_MAX_PENALTY, W, decide, score_members
from server.sync.match.dates import birth_year_bounds, score_dates
from server.sync.match.keys import (
    MAX_KEY_CANDIDATES,
    MAX_SCORED_CANDIDATES,
    birth_years_compatible,
    blocking_keys,
    rank_candidates,
)
from server.sync.match.names import score_names
from server.sync.match.normalise import (
    KHMER_HONORIFICS,
    KHMER_VARIANTS,
    LATIN_COARSE_RULES,
    LATIN_PHONETIC_RULES,
    khmer_tokens,
    latin_coarse_key,
    latin_joined_keys,
    latin_tokens,
    normalise_phone,
)
from server.sync.match.phones import score_phones
from server.sync.match.places import VillageResolver, make_village_resolver, score_places
from server.sync.match.records import MemberKeys, MemberRecord
from server.sync.match.result import (
    BAND_NONE,
    BAND_POSSIBLE,
    BAND_STRONG,
    POSSIBLE_WEIGHT,
    STRONG_WEIGHT,
    Decision,
    MatchResult,
)
from server.sync.match.workplaces import (
    WorkplaceKeys,
    WorkplaceRecord,
    decide_workplaces,
    score_workplaces,
    workplace_blocking_keys,
    workplace_name_key,
)

__all__ = [
    "BAND_NONE",
    "BAND_POSSIBLE",
    "BAND_STRONG",
    "COMMON_NAME_MAX_PENALTY",
    "KHMER_HONORIFICS",
    "KHMER_VARIANTS",
    "LATIN_COARSE_RULES",
    "LATIN_PHONETIC_RULES",
    "MAX_KEY_CANDIDATES",
    "MAX_SCORED_CANDIDATES",
    "POSSIBLE_WEIGHT",
    "STRONG_WEIGHT",
    "Decision",
    "MatchResult",
    "MemberKeys",
    "MemberRecord",
    "VillageResolver",
    "W",
    "WorkplaceKeys",
    "WorkplaceRecord",
    "birth_year_bounds",
    "birth_years_compatible",
    "blocking_keys",
    "decide",
    "decide_workplaces",
    "khmer_tokens",
    "latin_coarse_key",
    "latin_joined_keys",
    "latin_tokens",
    "make_village_resolver",
    "normalise_phone",
    "rank_candidates",
    "score_dates",
    "score_members",
    "score_names",
    "score_phones",
    "score_places",
    "score_workplaces",
    "workplace_blocking_keys",
    "workplace_name_key",
]
