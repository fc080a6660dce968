"""The case database: members, workplaces, villages, visits, reports, referrals (domain.md 2).

Submission-derived rows are written only by ``server.sync.merge`` (and staff actions in
``server.sync.review``). Every field a submission sets is recorded in ``case_changes``
(provenance: which submission version set which value, and when). The tables live in modules
named for what they hold; this module gathers them for the code that reads the whole case database.
"""

from __future__ import annotations

from server.db.models.case_enums import (
    AliasKind,
    ConflictKind,
    EntityType,
    MemberStatus,
    PairStatus,
    Priority,
    ReferralCategory,
    ReferralSourceKind,
    ReferralStatus,
    RiskLevel,
    VillageReportStatus,
    WorkplaceStatus,
)
from server.db.models.linkage import (
    CandidatePair,
    CaseChange,
    LinkageKey,
    MergeEvent,
)
from server.db.models.people import (
    Member,
    MemberAlias,
    MemberPhone,
    PeerEducator,
    Village,
)
from server.db.models.referrals import (
    Referral,
    ReferralSource,
    VillageReport,
)
from server.db.models.workplaces import (
    EntityConflict,
    MonitoringVisit,
    VisitMember,
    Workplace,
    WorkplaceName,
    WorkplaceVersion,
)

__all__ = [
    "AliasKind",
    "CandidatePair",
    "CaseChange",
    "ConflictKind",
    "EntityConflict",
    "EntityType",
    "LinkageKey",
    "Member",
    "MemberAlias",
    "MemberPhone",
    "MemberStatus",
    "MergeEvent",
    "MonitoringVisit",
    "PairStatus",
    "PeerEducator",
    "Priority",
    "Referral",
    "ReferralCategory",
    "ReferralSource",
    "ReferralSourceKind",
    "ReferralStatus",
    "RiskLevel",
    "Village",
    "VillageReport",
    "VillageReportStatus",
    "VisitMember",
    "Workplace",
    "WorkplaceName",
    "WorkplaceStatus",
    "WorkplaceVersion",
]
