"""Merge one stored submission into the case database (design.md "Merging is a separate step").

``merge_submission(session, submission_id)`` is the only entry point. It

* locks the submission row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's single writer
  serialises merges) and skips when the current version is already merged (idempotent);
* reads the current version's XML into a flat answers dict (leaf name -> text, repeats ->
  list of dicts) with entity metadata from ``meta/entity``;
* applies the form: member_intake -> member (or a child-protection case), workplace_visit ->
  workplace entity update + monitoring visit, village_data -> village report;
* recomputes the alert rules (``server.sync.alerts``) and reconciles referrals as a diff
  against what earlier versions of the same submission raised;
* records provenance in ``case_changes`` (which submission version set which field).

It flushes and never commits: ``server.sync.worker`` owns the transaction. Errors raised here
carry no personal data (only codes, ids and field names).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    AliasKind,
    ConflictKind,
    EntityConflict,
    EntityType,
    Form,
    FormVersion,
    Member,
    MemberAlias,
    MemberPhone,
    MemberStatus,
    MergeEvent,
    MonitoringVisit,
    Priority,
    Referral,
    ReferralCategory,
    ReferralSource,
    ReferralSourceKind,
    ReferralStatus,
    RiskLevel,
    Submission,
    SubmissionState,
    SubmissionVersion,
    Village,
    VillageReport,
    VillageReportStatus,
    VisitMember,
    Workplace,
    WorkplaceStatus,
    WorkplaceVersion,
    utcnow,
)
from server.sync import alerts as rules
from server.sync import cases, match
from server.sync.parse import safe_parser

XF = "http://www.w3.org/2002/xforms"

#: Referrals from several sources about one workplace within this window share one referral.
ATTACH_WINDOW = timedelta(days=14)

#: Repeats of the programme's forms, used when the form XML cannot be read.
_KNOWN_REPEATS = frozenset({"new_venue", "case_alert"})

_SOURCE_KIND = {
    rules.FORM_INTAKE: ReferralSourceKind.INTAKE,
    rules.FORM_VISIT: ReferralSourceKind.VISIT,
    rules.FORM_VILLAGE: ReferralSourceKind.VILLAGE_REPORT,
}


class MergeError(Exception):
    """A submission that cannot be merged. The message is a short code-like reason."""


# --- reading the XML --------------------------------------------------------------------------
@dataclass(frozen=True)
class EntityMeta:
    """``meta/entity`` of a submission (protocol.md 3.2)."""

    dataset: str
    entity_id: uuid.UUID | None
    create: bool
    update: bool
    base_version: int | None
    trunk_version: int | None
    branch_id: str | None
    label: str | None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true"}


@lru_cache(maxsize=64)
def _repeat_names(form_xml: bytes) -> frozenset[str]:
    try:
        root = etree.fromstring(form_xml, parser=safe_parser())
    except etree.XMLSyntaxError:
        return _KNOWN_REPEATS
    names = {
        (el.get("nodeset") or "").rstrip("/").rsplit("/", 1)[-1]
        for el in root.iter(f"{{{XF}}}repeat")
    }
    return frozenset(n for n in names if n) | _KNOWN_REPEATS


def read_answers(
    xml: bytes, repeat_names: frozenset[str] = _KNOWN_REPEATS
) -> tuple[dict[str, Any], EntityMeta | None]:
    """Submission XML -> (flat answers, entity metadata). Groups are flattened (field names are
    unique in an XLSForm); repeats become lists of flat dicts; ``meta`` is skipped except the
    instance ids, kept as ``instanceID`` and ``deprecatedID``."""
    root = etree.fromstring(xml, parser=safe_parser())
    if root.getroottree().docinfo.doctype:
        raise MergeError("xml_doctype")
    entity: EntityMeta | None = None

    def walk(el: etree._Element, out: dict[str, Any]) -> None:
        nonlocal entity
        for child in el:
            name = _local(child.tag)
            if not name:
                continue
            if name == "meta":
                for m in child:
                    mname = _local(m.tag)
                    if mname == "entity":
                        label_el = next((c for c in m if _local(c.tag) == "label"), None)
                        entity = EntityMeta(
                            dataset=m.get("dataset") or "",
                            entity_id=cases.as_uuid(m.get("id")),
                            create=_truthy(m.get("create")),
                            update=_truthy(m.get("update")),
                            base_version=_int_or_none(m.get("baseVersion")),
                            trunk_version=_int_or_none(m.get("trunkVersion")),
                            branch_id=(m.get("branchId") or None),
                            label=(label_el.text or "").strip() or None if label_el is not None else None,
                        )
                    elif mname in {"instanceID", "deprecatedID"}:
                        out[mname] = (m.text or "").strip()
                continue
            if name in repeat_names:
                row: dict[str, Any] = {}
                walk(child, row)
                out.setdefault(name, []).append(row)
            elif len(child):
                walk(child, out)
            else:
                out[name] = (child.text or "").strip()

    answers: dict[str, Any] = {}
    walk(root, answers)
    return answers, entity


# --- outcome ----------------------------------------------------------------------------------
@dataclass
class MergeOutcome:
    submission_id: uuid.UUID
    form_id: str = ""
    version_id: int | None = None
    skipped: bool = False  # already merged (or encrypted, not merged yet)
    reason: str | None = None
    member_id: uuid.UUID | None = None
    workplace_ids: list[uuid.UUID] = field(default_factory=list)
    visit_id: uuid.UUID | None = None
    village_report_id: uuid.UUID | None = None
    referrals_created: list[uuid.UUID] = field(default_factory=list)
    referrals_attached: list[uuid.UUID] = field(default_factory=list)
    referrals_source_edited: list[uuid.UUID] = field(default_factory=list)
    candidate_pairs: list[uuid.UUID] = field(default_factory=list)
    merge_events: list[uuid.UUID] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)


@dataclass
class _Ctx:
    session: Session
    submission: Submission
    version: SubmissionVersion
    form_id: str
    answers: dict[str, Any]
    entity: EntityMeta | None
    event_date: date
    outcome: MergeOutcome
    remerge: bool  # an earlier version of this submission was merged already

    @property
    def vid(self) -> int:
        return self.version.id

    def s(self, name: str) -> str | None:
        v = self.answers.get(name)
        return v.strip() or None if isinstance(v, str) else None

    def i(self, name: str) -> int | None:
        v = self.s(name)
        try:
            return int(float(v)) if v is not None else None
        except ValueError:
            return None

    def d(self, name: str) -> date | None:
        return _date(self.s(name))


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _event_date(answers: Mapping[str, Any], version: SubmissionVersion) -> date:
    """Event time comes from the form (visit date, today, start), not from receipt."""
    for name in ("visit_date", "today", "today_calc", "start", "end"):
        v = answers.get(name)
        d = _date(v) if isinstance(v, str) else None
        if d:
            return d
    return version.received_at.date()


# --- entry point ------------------------------------------------------------------------------
def merge_submission(session: Session, submission_id: uuid.UUID) -> MergeOutcome:
    """Merge the current version of one submission. Idempotent; flushes, never commits."""
    outcome = MergeOutcome(submission_id=submission_id)
    sub = session.get(Submission, submission_id, with_for_update=True, populate_existing=True)
    if sub is None:
        raise MergeError("submission_unknown")
    version = session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.submission_id == sub.id, SubmissionVersion.is_current.is_(True)
        ).order_by(SubmissionVersion.id.desc())
    )
    if version is None:
        raise MergeError("no_current_version")
    form = session.get(Form, sub.form_id)
    outcome.form_id = form.xml_form_id if form else ""
    outcome.version_id = version.id
    if sub.merged_version_id == version.id:
        outcome.skipped, outcome.reason = True, "already_merged"
        return outcome
    if version.encrypted:
        # Stored, not decrypted: merging waits for the staff unlock step (domain.md 1.5 #3).
        sub.state = SubmissionState.STORED_ENCRYPTED
        outcome.skipped, outcome.reason = True, "encrypted"
        return outcome
    form_version = session.get(FormVersion, version.form_version_id)
    repeats = _repeat_names(form_version.xml) if form_version else _KNOWN_REPEATS
    try:
        answers, entity = read_answers(version.xml, repeats)
    except etree.XMLSyntaxError:
        raise MergeError("xml_unreadable") from None
    ctx = _Ctx(
        session=session,
        submission=sub,
        version=version,
        form_id=outcome.form_id,
        answers=answers,
        entity=entity,
        event_date=_event_date(answers, version),
        outcome=outcome,
        remerge=sub.merged_version_id is not None,
    )
    handler = _HANDLERS.get(outcome.form_id)
    if handler is None:
        raise MergeError("form_not_mergeable")
    handler(ctx)
    sub.merged_version_id = version.id
    sub.merged_at = utcnow()
    sub.state = SubmissionState.MERGED
    sub.merge_error = None
    session.flush()
    return outcome


def merge_lag_seconds(submission: Submission, version: SubmissionVersion) -> float | None:
    """Merge lag = merged_at - received_at of the merged version."""
    if submission.merged_at is None:
        return None
    return (submission.merged_at - version.received_at).total_seconds()


# --- member_intake ----------------------------------------------------------------------------
_MEMBER_FIELDS = (
    "family_name_km", "given_name_km", "name_latin_raw", "dob", "dob_precision", "age_at_intake",
    "age_source", "zodiac", "intake_date", "birth_year_min", "birth_year_max",
    "origin_village_code", "origin_commune_code", "origin_text", "sector", "months_in_work",
    "recruited_via", "safe_contact", "interests", "savings_group", "pe_code", "joined_date",
    "consent_record", "consent_referral", "consent_date",
)  # fmt: skip
#: Properties of the members entity list: a change bumps the member's entity version.
_MEMBER_LIST_FIELDS = frozenset({"member_code", "pe_code", "savings_group"})


def _member_values(ctx: _Ctx, record: match.MemberRecord) -> dict[str, Any]:
    village = ctx.s("origin_village")
    unknown_village = bool(village and village.startswith("unk-"))
    bounds = record.keys.birth_years
    dob = ctx.d("dob") if ctx.s("dob_known") != "no" else None
    return {
        "family_name_km": ctx.s("family_name_km"),
        "given_name_km": ctx.s("given_name_km"),
        "name_latin_raw": ctx.s("name_latin"),
        "dob": dob,
        "dob_precision": "exact" if dob else (
            "estimated" if ctx.s("age_source") == "collector_estimate" else "year"
        ),
        "age_at_intake": ctx.i("age_years") if ctx.i("age_years") is not None else ctx.i("age_stated"),
        "age_source": ctx.s("age_source"),
        "zodiac": ctx.s("zodiac"),
        "intake_date": ctx.event_date,
        "birth_year_min": bounds[0] if bounds else None,
        "birth_year_max": bounds[1] if bounds else None,
        "origin_village_code": None if unknown_village else (village or record.keys.village),
        "origin_commune_code": record.keys.commune,
        "origin_text": ctx.s("origin_village_text"),
        "sector": ctx.s("sector"),
        "months_in_work": ctx.i("months_in_work"),
        "recruited_via": ctx.s("recruited_via"),
        "safe_contact": ctx.s("safe_contact"),
        "interests": sorted((ctx.s("interests") or "").split()),
        "savings_group": ctx.s("savings_group"),
        "pe_code": ctx.s("collector") or ctx.version.collector_code,
        "joined_date": ctx.d("today") or ctx.d("today_calc") or ctx.event_date,
        "consent_record": ctx.s("consent") == "yes",
        "consent_referral": ctx.s("consent_referral") == "yes",
        "consent_date": ctx.event_date,
    }


def _village_resolver(session: Session, commune: str | None) -> match.VillageResolver | None:
    if not commune:
        return None
    rows = session.execute(
        select(Village.code, Village.name_km, Village.name_en).where(Village.commune_code == commune)
    ).all()
    return match.make_village_resolver([tuple(r) for r in rows]) if rows else None


def _intake_record(ctx: _Ctx, record_id: str | None) -> match.MemberRecord:
    village = ctx.s("origin_village") or ""
    commune = ctx.s("origin_commune") or (village[4:] if village.startswith("unk-") else None)
    answers = {k: v for k, v in ctx.answers.items() if isinstance(v, str)}
    answers.setdefault("pe_code", ctx.s("collector") or ctx.version.collector_code)
    return match.MemberRecord.from_answers(
        answers,
        ctx.event_date,
        record_id=record_id,
        village_resolver=_village_resolver(ctx.session, commune),
    )


def _sync_aliases(ctx: _Ctx, member: Member) -> None:
    """Nicknames and phones this submission gave the member (replaced on an edit)."""
    s = ctx.session
    sub_id = ctx.submission.id
    nicks = [n.strip() for n in (ctx.s("nicknames") or "").replace("،", ",").split(",") if n.strip()]
    have = {
        a.value: a
        for a in s.scalars(
            select(MemberAlias).where(
                MemberAlias.member_id == member.id,
                MemberAlias.source_submission_id == sub_id,
                MemberAlias.kind == AliasKind.NICKNAME,
            )
        )
    }
    for value in nicks:
        if value not in have:
            s.add(MemberAlias(member_id=member.id, kind=AliasKind.NICKNAME, value=value[:200],
                              source_submission_id=sub_id))
    for value, alias in have.items():
        if value not in nicks:
            s.delete(alias)
    phone = match.normalise_phone(ctx.s("phone"))
    owner = ctx.s("phone_owner") or "none"
    existing = s.scalars(
        select(MemberPhone).where(
            MemberPhone.member_id == member.id, MemberPhone.source_submission_id == sub_id
        )
    ).all()
    for p in existing:
        if p.phone_e164 != phone or p.owner_type != owner:
            s.delete(p)
    if phone and not any(p.phone_e164 == phone and p.owner_type == owner for p in existing):
        s.add(MemberPhone(member_id=member.id, phone_e164=phone, owner_type=owner,
                          first_seen=ctx.event_date, last_seen=ctx.event_date,
                          source_submission_id=sub_id))
    s.flush()
    # Reloaded on first use (the linkage keys read them): one query each, no refresh of the row.
    s.expire(member, ["aliases", "phones"])


def _auto_link(ctx: _Ctx, member: Member, offline_entity_id: uuid.UUID | None) -> None:
    """Identical member_code (the same card): this intake joins the existing member. Its names
    and phones become aliases; logged as a merge event that unmerge can undo."""
    s = ctx.session
    event = MergeEvent(
        id=uuid.uuid4(), entity_type=EntityType.MEMBER, survivor_id=member.id, loser_id=None,
        kind="auto_member_code", actor="merge", submission_id=ctx.submission.id,
        snapshot={"offline_entity_id": str(offline_entity_id) if offline_entity_id else None},
        created_at=utcnow(),
    )
    s.add(event)
    s.flush()
    added: list[int] = []
    for kind, value in (
        (AliasKind.NAME_KM, " ".join(x for x in (ctx.s("family_name_km"), ctx.s("given_name_km")) if x)),
        (AliasKind.NAME_LATIN, ctx.s("name_latin")),
    ):
        if value:
            alias = MemberAlias(member_id=member.id, kind=kind, value=value[:200],
                                merge_event_id=event.id, source_submission_id=ctx.submission.id)
            s.add(alias)
            s.flush()
            added.append(alias.id)
    _sync_aliases(ctx, member)
    event.snapshot = {**event.snapshot, "alias_ids": added}
    cases.record_change(s, EntityType.MEMBER, member.id, "auto_link_submission", None,
                        str(ctx.submission.id), version_id=ctx.vid, merge_event_id=event.id)
    if offline_entity_id and offline_entity_id != member.id:
        # The phone's offline entity is superseded: the integrity API reports it deleted.
        cases.record_change(s, EntityType.MEMBER, offline_entity_id, "superseded_by", None,
                            str(member.id), version_id=ctx.vid, merge_event_id=event.id)
    ctx.outcome.merge_events.append(event.id)


def _find_candidates(ctx: _Ctx, member: Member, record: match.MemberRecord) -> None:
    s = ctx.session
    # One blocking query gives the candidates (birth years checked in SQL, ranked, capped)
    # and the number of records under each key, for the common-name penalty.
    key_counts: dict[str, int] = {}
    ids = cases.candidates_by_keys(
        s, EntityType.MEMBER, match.blocking_keys(record), member.id,
        key_counts=key_counts, birth_years=record.keys.birth_years,
        limit=match.MAX_SCORED_CANDIDATES,
    )  # fmt: skip
    if not ids:
        return
    # The candidates' match records from three column queries (phones and nicknames in
    # bulk, no ORM objects); records are cached per content in cases.
    records = cases.member_records(s, ids)
    for other_id in ids:
        other_rec = records.get(other_id)
        if other_rec is None:  # merged meanwhile
            continue
        result = match.score_members(other_rec, record, key_counts=key_counts)
        decision = match.decide(other_rec, record, result)
        if decision in (match.Decision.REVIEW, match.Decision.AUTO_LINK):
            pair = cases.add_candidate_pair(s, EntityType.MEMBER, other_id, member.id, result,
                                            submission_id=ctx.submission.id)
            ctx.outcome.candidate_pairs.append(pair.id)


def _merge_intake(ctx: _Ctx) -> None:
    s = ctx.session
    minor = rules.intake_is_minor(ctx.answers)
    workplace = _intake_workplace(ctx)
    member: Member | None = None
    if not minor and ctx.s("consent") == "yes":
        member = _intake_member(ctx)
        if member is not None and workplace is not None:
            cases.set_fields(s, member, EntityType.MEMBER, {"current_workplace_id": workplace.id},
                             version_id=ctx.vid)
    elif ctx.remerge:
        # An edit turned the intake into a minor's or withdrew consent: never keep a member
        # created from it on phones; staff see the change in case_changes.
        for m in s.scalars(select(Member).where(Member.source_submission_id == ctx.submission.id)):
            cases.set_fields(s, m, EntityType.MEMBER, {"status": MemberStatus.WITHDRAWN},
                             version_id=ctx.vid)
    ctx.outcome.member_id = member.id if member else None
    _sync_referrals(
        ctx,
        rules.intake_alerts(ctx.answers),
        workplace_id=workplace.id if workplace else None,
        member_id=member.id if member else None,
    )


def _intake_member(ctx: _Ctx) -> Member | None:
    s = ctx.session
    offline_id = ctx.entity.entity_id if ctx.entity and ctx.entity.create else None
    existing = s.scalar(select(Member).where(Member.source_submission_id == ctx.submission.id))
    if existing is None and ctx.remerge:
        # The earlier version auto-linked to a member: keep that link.
        event = s.scalar(select(MergeEvent).where(
            MergeEvent.submission_id == ctx.submission.id, MergeEvent.undone_at.is_(None)))
        if event is not None:
            member = s.get(Member, event.survivor_id)
            if member is not None:
                _sync_aliases(ctx, member)
                cases.refresh_member_keys(s, member)
                return member
    code = (ctx.s("member_code") or "").upper() or None
    record = _intake_record(ctx, str(existing.id) if existing else None)
    values = _member_values(ctx, record)
    if existing is not None:
        changed = cases.set_fields(s, existing, EntityType.MEMBER, values, version_id=ctx.vid)
        if code and code != existing.member_code and s.scalar(
            select(Member.id).where(Member.member_code == code)
        ) is None:
            changed += cases.set_fields(s, existing, EntityType.MEMBER, {"member_code": code},
                                        version_id=ctx.vid)
        if _MEMBER_LIST_FIELDS & set(changed):
            existing.version += 1
        _sync_aliases(ctx, existing)
        cases.refresh_member_keys(s, existing)
        return existing

    same_card = s.scalar(select(Member).where(Member.member_code == code)) if code else None
    if same_card is not None:
        same_card = cases.resolve_member(s, same_card.id)
    if same_card is not None:
        same_rec = cases.member_record(same_card)
        result = match.score_members(same_rec, record)
        if match.decide(same_rec, record, result) == match.Decision.AUTO_LINK:
            _auto_link(ctx, same_card, offline_id)
            cases.refresh_member_keys(s, same_card)
            return same_card
    member_id = offline_id if offline_id and s.get(Member, offline_id) is None else uuid.uuid4()
    member = Member(
        id=member_id,
        # The card is already someone else's and the records disagree: staff decide.
        member_code=None if same_card is not None else code,
        claimed_code=code if same_card is not None else None,
        source_submission_id=ctx.submission.id,
        source_instance_id=ctx.submission.root_instance_id,
        created_at=utcnow(),
        updated_at=utcnow(),
        version=1,
    )
    s.add(member)
    s.flush()
    cases.record_change(s, EntityType.MEMBER, member.id, "member_code", None, member.member_code,
                        version_id=ctx.vid)
    cases.set_fields(s, member, EntityType.MEMBER, values, version_id=ctx.vid)
    _sync_aliases(ctx, member)
    cases.refresh_member_keys(s, member)
    if same_card is not None:
        same_rec = cases.member_record(same_card)
        result = match.score_members(same_rec, record)
        pair = cases.add_candidate_pair(s, EntityType.MEMBER, same_card.id, member.id, result,
                                        submission_id=ctx.submission.id,
                                        extra_evidence=("same_member_code_disagreeing",))
        ctx.outcome.candidate_pairs.append(pair.id)
    _find_candidates(ctx, member, record)
    return member


def _intake_workplace(ctx: _Ctx) -> Workplace | None:
    if ctx.s("workplace_in_list") == "yes" or (ctx.s("workplace") and not ctx.s("workplace_new_name")):
        return cases.resolve_workplace(ctx.session, cases.as_uuid(ctx.s("workplace")))
    name = ctx.s("workplace_new_name")
    if not name:
        return None
    return _workplace_candidate(ctx, name_km=_khmer_or_none(name), name_latin=_latin_or_none(name),
                                type_=ctx.s("workplace_new_type"), village=None, commune=None)


def _is_khmer(text: str) -> bool:
    return any("\u1780" <= ch <= "\u17ff" for ch in text)


def _khmer_or_none(text: str) -> str | None:
    return text if _is_khmer(text) else None


def _latin_or_none(text: str) -> str | None:
    return None if _is_khmer(text) else text


def _workplace_candidate(
    ctx: _Ctx,
    *,
    name_km: str | None,
    name_latin: str | None,
    type_: str | None,
    village: str | None,
    commune: str | None,
    landmark: str | None = None,
    geopoint: tuple[float, float] | None = None,
) -> Workplace:
    """A workplace typed into a form: reuse the one this submission already created, else an
    `unverified` workplace, plus a candidate pair for each existing one it looks like."""
    s = ctx.session
    for wp in s.scalars(select(Workplace).where(Workplace.source_submission_id == ctx.submission.id)):
        if any(n.name_km == name_km and n.name_latin == name_latin for n in wp.names):
            return wp
    wp = cases.create_workplace(
        s, name_km=name_km, name_latin=name_latin, type=type_, village_code=village,
        commune_code=commune, landmark_text=landmark, geopoint=geopoint,
        status=WorkplaceStatus.UNVERIFIED, submission_id=ctx.submission.id, version_id=ctx.vid,
        valid_from=ctx.event_date,
    )
    ctx.outcome.workplace_ids.append(wp.id)
    record = cases.workplace_record(wp)
    keys = match.workplace_blocking_keys(record)
    for other_id in cases.candidates_by_keys(s, EntityType.WORKPLACE, keys, wp.id):
        other = s.get(Workplace, other_id)
        if other is None or other.merged_into_workplace_id is not None:
            continue
        other_rec = cases.workplace_record(other)
        result = match.score_workplaces(other_rec, record)
        if match.decide_workplaces(other_rec, record, result) == match.Decision.REVIEW:
            pair = cases.add_candidate_pair(s, EntityType.WORKPLACE, other.id, wp.id, result,
                                            submission_id=ctx.submission.id)
            ctx.outcome.candidate_pairs.append(pair.id)
    return wp


# --- workplace_visit --------------------------------------------------------------------------
def _visit_properties(ctx: _Ctx) -> dict[str, Any]:
    """The entity properties this visit saves (save_to), as sent (text)."""
    return {
        "last_visit_date": ctx.s("visit_date"),
        "last_access": ctx.s("access"),
        "workers_est": ctx.s("n_workers_est"),
    }


def _state_from_versions(rows: list[WorkplaceVersion]) -> dict[str, Any]:
    """Entity properties after applying updates in event order (visit_date), then version.

    Applying in visit order means an offline visit that arrives late never overwrites a
    newer one's values (domain.md 3.2 "apply both in order of visit_date")."""
    state: dict[str, Any] = {p: None for p in cases.WORKPLACE_PROPERTIES}
    for row in sorted(rows, key=lambda r: (r.event_date or date.min, r.version)):
        state.update(row.properties or {})
    return state


def _apply_entity_update(
    ctx: _Ctx, wp: Workplace, props: dict[str, Any], entity: EntityMeta | None
) -> None:
    """ODK entity update (protocol.md 3.5): version = current + 1, last write by visit date;
    a baseVersion other than the current version is recorded as a soft or hard conflict.
    Never rejects the visit."""
    s = ctx.session
    rows = list(s.scalars(select(WorkplaceVersion).where(WorkplaceVersion.workplace_id == wp.id)))
    current = wp.version
    base = entity.base_version if entity else None
    branch = entity.branch_id if entity else None
    trunk = entity.trunk_version if entity else None
    # Updates after the base that are not this device's own earlier updates in the same
    # offline branch are "parallel" to this one.
    parallel = [
        r for r in rows
        if base is not None and r.version > base and not (branch and r.branch_id == branch)
    ]
    conflict: ConflictKind | None = None
    overlapping: list[str] = []
    if parallel:
        at_base = _state_from_versions([r for r in rows if r.version <= base])
        now = _state_from_versions(rows)
        server_changed = {p for p in cases.WORKPLACE_PROPERTIES if now.get(p) != at_base.get(p)}
        received_changed = {p for p, v in props.items() if v != at_base.get(p)}
        overlapping = sorted(
            p for p in server_changed & received_changed if props.get(p) != now.get(p)
        )
        conflict = ConflictKind.HARD if overlapping else ConflictKind.SOFT
    new_version = current + 1
    applied = WorkplaceVersion(
        workplace_id=wp.id, version=new_version, base_version=base, trunk_version=trunk,
        branch_id=branch, properties=props, event_date=ctx.event_date,
        submission_id=ctx.submission.id, submission_version_id=ctx.vid, created_at=utcnow(),
    )
    s.add(applied)
    # The versions read above plus this one (no flush + re-read: set_fields flushes it).
    state = _state_from_versions([*rows, applied])
    cases.set_fields(s, wp, EntityType.WORKPLACE, {
        "last_visit_date": _date(state.get("last_visit_date")),
        "last_access": state.get("last_access"),
        "workers_est": _int_or_none(state.get("workers_est")),
        "version": new_version,
    }, version_id=ctx.vid)
    if conflict is not None:
        c = EntityConflict(
            entity_type=EntityType.WORKPLACE, entity_id=wp.id, base_version=base,
            server_version=current, applied_version=new_version, kind=conflict,
            properties=overlapping, branch_id=branch, submission_id=ctx.submission.id,
            submission_version_id=ctx.vid, created_at=utcnow(),
        )
        s.add(c)
        wp.has_conflict = True
        s.flush()
        ctx.outcome.conflicts.append(c.id)


def _visit_workplace(ctx: _Ctx, visit: MonitoringVisit | None) -> Workplace | None:
    s = ctx.session
    in_list = ctx.s("workplace_in_list")
    # pyxform writes update="1" whatever update_if says, so the answer decides, not the flag.
    if in_list == "yes" or (in_list is None and ctx.entity and ctx.entity.entity_id):
        wp_id = cases.as_uuid(ctx.s("workplace")) or (ctx.entity.entity_id if ctx.entity else None)
        wp = cases.resolve_workplace(s, wp_id)
        if wp is not None:
            wp = s.get(Workplace, wp.id, with_for_update=True, populate_existing=True)
        return wp
    if visit is not None and visit.workplace_id is not None:
        return s.get(Workplace, visit.workplace_id)
    name_km, name_latin = ctx.s("wp_new_name_km"), ctx.s("wp_new_name_latin")
    if not (name_km or name_latin):
        return None
    village = ctx.s("wp_village")
    if village and village.startswith("unk-"):
        village = None
    geo = None
    loc = (ctx.s("wp_location") or "").split()
    if len(loc) >= 2:
        try:
            geo = (float(loc[0]), float(loc[1]))
        except ValueError:
            geo = None
    return _workplace_candidate(
        ctx, name_km=name_km, name_latin=name_latin, type_=ctx.s("wp_new_type"), village=village,
        commune=ctx.s("wp_commune"), landmark=ctx.s("wp_landmark"), geopoint=geo,
    )


def _merge_visit(ctx: _Ctx) -> None:
    s = ctx.session
    sub = ctx.submission
    visit = s.scalar(select(MonitoringVisit).where(MonitoringVisit.submission_id == sub.id))
    wp = _visit_workplace(ctx, visit)
    if wp is not None and ctx.s("workplace_in_list") != "no":
        props = _visit_properties(ctx)
        applied = s.scalars(select(WorkplaceVersion).where(
            WorkplaceVersion.workplace_id == wp.id, WorkplaceVersion.submission_id == sub.id,
        ).order_by(WorkplaceVersion.version.desc())).first()
        if applied is None or applied.properties != props:
            _apply_entity_update(ctx, wp, props, ctx.entity)
    previous = None
    if wp is not None:
        previous = s.scalars(
            select(MonitoringVisit).where(
                MonitoringVisit.workplace_id == wp.id,
                MonitoringVisit.submission_id != sub.id,
                MonitoringVisit.visit_date <= ctx.event_date,
            ).order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.created_at.desc())
        ).first()
    risk = rules.visit_risk(ctx.answers)
    triggers = [a.code for a in rules.visit_alerts(ctx.answers)]
    if rules.access_refused_twice(ctx.answers, previous.access if previous else None):
        triggers.append("ACC")
        if risk == "green":
            risk = "amber"
    indicators = rules.visit_indicators(ctx.answers)
    if len(indicators & rules.OTHER_INDICATORS) == 1 and not indicators & rules.STRONG_INDICATORS:
        triggers.append("FL-1")
    values = {
        "workplace_id": wp.id if wp else None,
        "pe_code": ctx.s("collector") or ctx.version.collector_code,
        "visit_date": ctx.d("visit_date") or ctx.event_date,
        "visit_type": ctx.s("visit_type"),
        "access": ctx.s("access"),
        "manager_attitude": ctx.s("manager_attitude"),
        "n_workers_est": ctx.i("n_workers_est"),
        "n_met": ctx.i("n_met"),
        "n_members_present": ctx.i("n_members_present"),
        "u18_suspected": ctx.s("u18_suspected"),
        "n_u18": ctx.i("n_u18"),
        "indicators": sorted(indicators),
        "activities": sorted((ctx.s("activities") or "").split()),
        "n_leaflets": ctx.i("n_leaflets"),
        "hotline_called": None if ctx.s("hotline_called") is None else ctx.s("hotline_called") == "yes",
        "pe_safety": ctx.s("pe_safety"),
        "risk_level": RiskLevel(risk),
        "triggers": sorted(set(triggers)),
        "details": {k: ctx.s(k) for k in (
            "live_on_site", "locked_in", "forced_drinking", "shift_hours", "days_off", "pay_type",
            "condoms_available", "training_allowed", "fl_source", "u18_signs",
        ) if ctx.s(k) is not None},
    }
    if visit is None:
        visit = MonitoringVisit(id=uuid.uuid4(), visit_id=sub.root_instance_id, submission_id=sub.id,
                                created_at=utcnow(), updated_at=utcnow())
        s.add(visit)
        s.flush()
    cases.set_fields(s, visit, EntityType.VISIT, values, version_id=ctx.vid)
    ctx.outcome.visit_id = visit.id
    _sync_visit_members(ctx, visit)
    if wp is not None:
        _refresh_workplace_risk(s, wp, ctx.vid)
    _sync_referrals(ctx, rules.visit_alerts(ctx.answers), workplace_id=wp.id if wp else None)


def _sync_visit_members(ctx: _Ctx, visit: MonitoringVisit) -> None:
    s = ctx.session
    wanted: set[uuid.UUID] = set()
    for token in (ctx.s("members_affected") or "").split():
        member = cases.resolve_member(s, cases.as_uuid(token))
        if member is not None:
            wanted.add(member.id)
    have = {vm.member_id: vm for vm in s.scalars(select(VisitMember).where(VisitMember.visit_id == visit.id))}
    for mid in wanted - have.keys():
        s.add(VisitMember(visit_id=visit.id, member_id=mid))
    for mid in have.keys() - wanted:
        s.delete(have[mid])


def _refresh_workplace_risk(session: Session, wp: Workplace, version_id: int) -> None:
    """Workplace risk = the risk of its latest visit (by visit date). Server-only, never on
    the device (domain.md 2.2)."""
    latest = session.scalars(
        select(MonitoringVisit).where(MonitoringVisit.workplace_id == wp.id)
        .order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.created_at.desc())
    ).first()
    if latest is not None and latest.risk_level is not None:
        cases.set_fields(session, wp, EntityType.WORKPLACE, {"risk_level": latest.risk_level},
                         version_id=version_id)


# --- village_data -----------------------------------------------------------------------------
_REPORT_COUNTS = (
    "n_households", "n_left", "n_left_women_15_24", "n_left_under18", "n_left_via_broker",
    "n_returned", "n_returned_need_help", "n_children_working_away", "n_venues", "n_new_venues",
    "n_sessions", "n_part_f", "n_part_m",
)  # fmt: skip


def _merge_village(ctx: _Ctx) -> None:
    s = ctx.session
    sub = ctx.submission
    village = ctx.s("village")
    period = ctx.s("period_ym") or (ctx.s("period") or "")[:7]
    if not village or len(period) != 7:
        raise MergeError("village_report_key_missing")
    report = s.scalar(select(VillageReport).where(VillageReport.submission_id == sub.id))
    values: dict[str, Any] = {k: ctx.i(k) for k in _REPORT_COUNTS}
    values.update(
        village_code=village,
        commune_code=ctx.s("commune") or village[:6],
        period_ym=period,
        reporter_code=ctx.s("collector") or ctx.version.collector_code,
        reporter_role=ctx.s("reporter_role"),
        destinations=sorted((ctx.s("destinations") or "").split()),
    )
    if report is None or (report.village_code, report.period_ym) != (village, period):
        accepted = s.scalar(
            select(VillageReport).where(
                VillageReport.village_code == village,
                VillageReport.accepted_period_ym == period,
                VillageReport.submission_id != sub.id,
            ).with_for_update()
        )
        if accepted is None:
            values.update(status=VillageReportStatus.ACCEPTED, accepted_period_ym=period,
                          correction_of_id=None)
        else:
            # A second report for (village, period): a correction candidate; staff choose.
            values.update(status=VillageReportStatus.CORRECTION_PENDING, accepted_period_ym=None,
                          correction_of_id=accepted.id)
    if report is None:
        report = VillageReport(id=uuid.uuid4(), submission_id=sub.id, village_code=village,
                               period_ym=period, status=values["status"],
                               created_at=utcnow(), updated_at=utcnow())
        s.add(report)
        s.flush()
    cases.set_fields(s, report, EntityType.VILLAGE_REPORT, values, version_id=ctx.vid)
    ctx.outcome.village_report_id = report.id
    for row in ctx.answers.get("new_venue") or []:
        name = (row.get("nv_name") or "").strip()
        if name:
            _workplace_candidate(ctx, name_km=_khmer_or_none(name), name_latin=_latin_or_none(name),
                                 type_=(row.get("nv_type") or None), village=village,
                                 commune=village[:6])
    _sync_referrals(ctx, rules.village_alerts(ctx.answers), village_code=village)


# --- referrals --------------------------------------------------------------------------------
@dataclass
class _Wanted:
    category: str
    priority: str
    triggers: list[str]
    descriptor: dict[str, Any]
    workplace_ref: str | None


def _group_alerts(alerts: list[rules.Alert]) -> dict[str, _Wanted]:
    wanted: dict[str, _Wanted] = {}
    for a in alerts:
        w = wanted.get(a.alert_key)
        if w is None:
            wanted[a.alert_key] = _Wanted(a.category, a.priority, [a.code], dict(a.descriptor),
                                          a.workplace_ref)
            continue
        if a.code not in w.triggers:
            w.triggers.append(a.code)
        if a.priority == rules.URGENT:
            w.priority = rules.URGENT
    return wanted


def _sync_referrals(
    ctx: _Ctx,
    alerts: list[rules.Alert],
    *,
    workplace_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    village_code: str | None = None,
) -> None:
    """Reconcile this submission's referrals with the alerts of its current version.

    New alert -> attach to an open referral (same category and workplace, within 14 days) or
    open one. An alert that an edit removed -> its source becomes inactive and the referral
    is marked ``source_edited``; nothing is closed automatically (domain.md 3.4)."""
    s = ctx.session
    sub = ctx.submission
    wanted = _group_alerts(alerts)
    existing = {
        src.alert_key: src
        for src in s.scalars(select(ReferralSource).where(ReferralSource.submission_id == sub.id))
    }
    for key, src in existing.items():
        w = wanted.get(key)
        referral = s.get(Referral, src.referral_id, with_for_update=True)
        if w is None or w.category != referral.category.value:
            if src.active:
                src.active = False
                _mark_source_edited(ctx, referral)
            continue
        removed = set(src.triggers) - set(w.triggers)
        if removed or not src.active:
            if removed:
                _mark_source_edited(ctx, referral)
            src.active = True
        if src.triggers != w.triggers:
            src.triggers = list(w.triggers)
            src.submission_version_id = ctx.vid
        _absorb(ctx, referral, w)
    for key, w in wanted.items():
        if key in existing and existing[key].active:
            continue
        if key in existing:
            continue
        wp_id = workplace_id
        if w.workplace_ref:
            wp = cases.resolve_workplace(s, cases.as_uuid(w.workplace_ref))
            wp_id = wp.id if wp else wp_id
        referral = _open_referral_to_attach(ctx, w.category, wp_id, member_id)
        if referral is None:
            referral = Referral(
                id=uuid.uuid4(),
                case_code=cases.new_case_code(s),
                category=ReferralCategory(w.category),
                triggers=list(w.triggers),
                source=_SOURCE_KIND.get(ctx.form_id, ReferralSourceKind.STAFF),
                status=ReferralStatus.NEW,
                priority=Priority(w.priority),
                restricted=w.category == ReferralCategory.CHILD_PROTECTION.value,
                workplace_id=wp_id,
                village_code=village_code,
                member_id=member_id,
                person_descriptor={k: v for k, v in w.descriptor.items() if v is not None},
                event_date=ctx.event_date,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            s.add(referral)
            s.flush()
            cases.record_change(s, EntityType.REFERRAL, referral.id, "created", None,
                                ",".join(w.triggers), version_id=ctx.vid)
            ctx.outcome.referrals_created.append(referral.id)
        else:
            _absorb(ctx, referral, w)
            ctx.outcome.referrals_attached.append(referral.id)
        s.add(ReferralSource(
            referral_id=referral.id, submission_id=sub.id, submission_version_id=ctx.vid,
            alert_key=key, triggers=list(w.triggers), active=True,
            reporter_code=ctx.s("collector") or ctx.version.collector_code,
            event_date=ctx.event_date, created_at=utcnow(),
        ))
    s.flush()


def _absorb(ctx: _Ctx, referral: Referral, w: _Wanted) -> None:
    """Add new triggers and raise priority; never removes a trigger (staff decide)."""
    triggers = list(referral.triggers) + [t for t in w.triggers if t not in referral.triggers]
    values: dict[str, Any] = {"triggers": triggers}
    if w.priority == rules.URGENT:
        values["priority"] = Priority.URGENT
    cases.set_fields(ctx.session, referral, EntityType.REFERRAL, values, version_id=ctx.vid)


def _mark_source_edited(ctx: _Ctx, referral: Referral) -> None:
    cases.set_fields(ctx.session, referral, EntityType.REFERRAL, {"source_edited": True},
                     version_id=ctx.vid)
    ctx.outcome.referrals_source_edited.append(referral.id)


def _open_referral_to_attach(
    ctx: _Ctx, category: str, workplace_id: uuid.UUID | None, member_id: uuid.UUID | None
) -> Referral | None:
    """The open referral this alert joins: same category, same workplace, not closed, with an
    event within 14 days. Referrals about two different known members stay apart."""
    if workplace_id is None:
        return None
    lo, hi = ctx.event_date - ATTACH_WINDOW, ctx.event_date + ATTACH_WINDOW
    candidates = ctx.session.scalars(
        select(Referral).where(
            Referral.category == ReferralCategory(category),
            Referral.workplace_id == workplace_id,
            Referral.status != ReferralStatus.CLOSED,
            Referral.event_date >= lo,
            Referral.event_date <= hi,
        ).order_by(Referral.created_at).with_for_update()
    ).all()
    for referral in candidates:
        if member_id and referral.member_id and referral.member_id != member_id:
            continue
        return referral
    return None


_HANDLERS = {
    rules.FORM_INTAKE: _merge_intake,
    rules.FORM_VISIT: _merge_visit,
    rules.FORM_VILLAGE: _merge_village,
}
