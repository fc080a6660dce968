"""Enumerations of the case database (domain.md 2): stored as strings, named in the programme's words."""

from __future__ import annotations

import enum


# --- enumerations -----------------------------------------------------------------------------
class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT_SECTOR = "left_sector"
    MOVED_AWAY = "moved_away"
    LOST_CONTACT = "lost_contact"
    WITHDRAWN = "withdrawn"  # consent withdrawn: identifying fields erased, events kept
    MERGED = "merged"  # lost a staff merge; see merged_into_member_id


class AliasKind(enum.StrEnum):
    NAME_KM = "name_km"  # "family given" in Khmer script
    NAME_LATIN = "name_latin"
    NICKNAME = "nickname"


class WorkplaceStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MOVED = "moved"
    RENAMED = "renamed"
    UNVERIFIED = "unverified"  # created from a visit or village report, awaiting staff
    MERGED = "merged"


class RiskLevel(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class ReferralCategory(enum.StrEnum):
    CHILD_PROTECTION = "child_protection"
    FORCED_LABOUR = "forced_labour"
    TRAFFICKING = "trafficking"
    ABUSE_VIOLENCE = "abuse_violence"
    HEALTH = "health"
    LEGAL = "legal"
    LIVELIHOOD = "livelihood"
    PE_SECURITY = "pe_security"
    OTHER = "other"  # village concern_type=other: staff triage it into a real category


class ReferralSourceKind(enum.StrEnum):
    INTAKE = "intake"
    VISIT = "visit"
    VILLAGE_REPORT = "village_report"
    HOTLINE = "hotline"
    WALK_IN = "walk_in"
    STAFF = "staff"


class ReferralStatus(enum.StrEnum):
    """new -> acknowledged (staff have triaged it) -> referred (to a service) -> closed (with an
    outcome). Transitions live in ``server.casework.referrals``."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class EntityType(enum.StrEnum):
    MEMBER = "member"
    WORKPLACE = "workplace"
    REFERRAL = "referral"
    VILLAGE_REPORT = "village_report"
    VISIT = "visit"


class PairStatus(enum.StrEnum):
    PENDING = "pending"
    MERGED = "merged"
    REJECTED = "rejected"


class ConflictKind(enum.StrEnum):
    SOFT = "soft"  # parallel update, different properties
    HARD = "hard"  # parallel update of the same property
    # An update from an account whose area does not hold the workplace: not applied, kept for
    # staff (issue 9 item 10).
    OUT_OF_AREA = "area"


class VillageReportStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # the report counted for (village, period)
    CORRECTION_PENDING = "correction_pending"  # a second report for the key: staff choose
    SUPERSEDED = "superseded"  # replaced by a correction staff accepted
    REJECTED = "rejected"
