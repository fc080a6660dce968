"""The kinds of staff records that can be imported (and entered one by one, through the same
builders): their columns, how each cell is read, and the rows each line becomes.

Templates are the column lists (``GET /api/v1/imports/<kind>/template``). Columns marked
sensitive (names, phones, amounts) are masked in previews.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import (
    Attendance,
    AttendeeKind,
    Base,
    Course,
    CourseCategory,
    Distribution,
    DistributionItem,
    Gatekeeper,
    Meeting,
    MeetingAttendance,
    MeetingType,
    OrganisationType,
    PeerEducator,
    Priority,
    RecipientType,
    Referral,
    ReferralCategory,
    ReferralReport,
    ReferralSourceKind,
    ReferralStatus,
    ReportChannel,
    ReporterType,
    TargetGroup,
    TrainingSession,
)
from server.reports import cells
from server.reports.cells import CellError
from server.reports.importing import Column, Kind
from server.reports.lookups import Lookups
from server.reports.savings_kinds import SAVINGS_KINDS
from server.sync.cases import new_case_code

C = Column
PERSON_COLUMNS = (
    C("member_code", cells.ref("member", "member"), required=False),
    C("pe_code", cells.ref("peer_educator", "peer educator"), required=False),
    C("gatekeeper_code", cells.ref("gatekeeper", "gatekeeper"), required=False),
)


def one_person(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    given = [c.name for c in PERSON_COLUMNS if values.get(c.name) is not None]
    if len(given) != 1:
        return [("member_code", "Give exactly one of member_code, pe_code or gatekeeper_code.")]
    return []


def person_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    if values.get("member_code"):
        return {"kind": AttendeeKind.MEMBER, "member_id": values["member_code"]}
    if values.get("pe_code"):
        return {"kind": AttendeeKind.PEER_EDUCATOR, "peer_educator_id": values["pe_code"]}
    return {"kind": AttendeeKind.GATEKEEPER, "gatekeeper_id": values["gatekeeper_code"]}


def _exists(model: Any, column: Any) -> Callable[[Session, Any], bool]:
    return lambda s, v: s.scalar(select(model.id).where(column == v)) is not None


def _once(lk: Lookups, key: tuple[Any, ...], column: str, reason: str) -> None:
    """Refuse a second row for the same key, in this file or already stored."""
    if key in lk.seen:
        raise CellError(reason, column)
    lk.seen.add(key)


# --- courses, sessions, attendance ------------------------------------------------------------
def build_course(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [Course(course_code=v["course_code"], title=v["title"], category=v["category"], topic=v["topic"])]


def build_session(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [TrainingSession(
        session_code=v["session_code"], course_id=v["course_code"], session_date=v["date"],
        target_group=v["target_group"], commune_code=v["commune_code"], place=v["place"],
        facilitator=v["facilitator"], anonymous_headcount=v["anonymous_headcount"] or 0,
    )]


def build_attendance(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    person = person_fields(v)
    person_id = next(val for k, val in person.items() if k.endswith("_id"))
    column = {"member": "member_code", "peer_educator": "pe_code", "gatekeeper": "gatekeeper_code"}[
        person["kind"].value]
    reason = "This person is already recorded at this session."
    _once(lk, ("attendance", v["session_code"], person_id), column, reason)
    attr = next(k for k in person if k.endswith("_id"))
    if s.scalar(select(Attendance.id).where(Attendance.session_id == v["session_code"],
                                            getattr(Attendance, attr) == person_id)):
        raise CellError(reason, column)
    return [Attendance(session_id=v["session_code"], **person)]


# --- people -----------------------------------------------------------------------------------
def build_gatekeeper(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    workplace = v["workplace_code"]
    return [Gatekeeper(
        gatekeeper_code=v["gatekeeper_code"], organisation_type=v["organisation_type"],
        name_km=v["name_km"], name_latin=v["name_latin"], organisation_name=v["organisation_name"],
        position=v["position"], commune_code=v["commune_code"], district_code=v["district_code"],
        phone_e164=v["phone"], sensitised_date=v["sensitised_date"],
        workplace_id=workplace[0] if workplace else None,
    )]


def build_peer_educator(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [PeerEducator(pe_code=v["pe_code"], member_id=v["member_code"], trained_date=v["trained_date"],
                         communes=v["communes"] or "")]


def communes(cell: str, lk: Lookups) -> str:
    parts = cell.replace(",", " ").split()
    for p in parts:
        cells.digits(6)(p, lk)
    return " ".join(parts)


# --- meetings, distributions, hotline ------------------------------------------------------------
def build_meeting(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [Meeting(meeting_code=v["meeting_code"], meeting_type=v["meeting_type"], meeting_date=v["date"],
                    commune_code=v["commune_code"], anonymous_headcount=v["anonymous_headcount"] or 0)]


def build_meeting_attendance(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    person = person_fields(v)
    attr = next(k for k in person if k.endswith("_id"))
    reason = "This person is already recorded at this meeting."
    _once(lk, ("meeting", v["meeting_code"], person[attr]), "meeting_code", reason)
    if s.scalar(select(MeetingAttendance.id).where(MeetingAttendance.meeting_id == v["meeting_code"],
                                                   getattr(MeetingAttendance, attr) == person[attr])):
        raise CellError(reason, "meeting_code")
    return [MeetingAttendance(meeting_id=v["meeting_code"], **person)]


def build_distribution(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    if v["quantity"] == 0:
        raise CellError("The quantity must be 1 or more.", "quantity")
    return [Distribution(distribution_date=v["date"], item=v["item"], quantity=v["quantity"],
                         recipient_type=v["recipient_type"], commune_code=v["commune_code"])]


def build_hotline(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    """A call a member or PE told staff about: a new referral (source hotline) and its channel."""
    category = v["category"]
    workplace = v["workplace_code"]
    referral = Referral(
        id=uuid.uuid4(), case_code=new_case_code(s), category=category, source=ReferralSourceKind.HOTLINE,
        status=ReferralStatus.NEW, priority=v["priority"] or Priority.NORMAL,
        restricted=category == ReferralCategory.CHILD_PROTECTION,
        workplace_id=workplace[0] if workplace else None, village_code=v["village_code"],
        event_date=v["date"],
    )
    s.add(referral)
    s.flush()  # no relationship orders the two inserts: the referral must exist first
    return [ReferralReport(referral_id=referral.id, channel=v["channel"] or ReportChannel.POLICE_HOTLINE,
                           reporter_type=v["reporter_type"], reported_on=v["date"])]


def undo_hotline(s: Session, batch_id: uuid.UUID) -> Callable[[], None]:
    ids = list(s.scalars(
        select(ReferralReport.referral_id).where(ReferralReport.import_batch_id == batch_id)
    ))
    touched = s.scalar(select(Referral.id).where(Referral.id.in_(ids), Referral.status != ReferralStatus.NEW))
    if touched is not None:
        raise errors.ImportUndoBlocked(
            "Staff already acted on a referral of this import; it cannot be undone."
        )

    def delete_referrals() -> None:
        s.execute(delete(Referral).where(Referral.id.in_(ids)))

    return delete_referrals


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("courses", (C("course_code", cells.code), C("title", cells.text(200)),
                     C("category", cells.choice(CourseCategory)), C("topic", cells.text(64), required=False)),
         build_course, unique={"course_code": _exists(Course, Course.course_code)}),
    Kind("sessions", (C("session_code", cells.code), C("course_code", cells.ref("course", "course")),
                      C("date", cells.day), C("target_group", cells.choice(TargetGroup)),
                      C("commune_code", cells.digits(6), required=False),
                      C("place", cells.text(200), required=False),
                      C("facilitator", cells.code, required=False),
                      C("anonymous_headcount", cells.count, required=False)),
         build_session, unique={"session_code": _exists(TrainingSession, TrainingSession.session_code)}),
    Kind("attendance", (C("session_code", cells.ref("session_", "session")), *PERSON_COLUMNS),
         build_attendance, check_row=one_person),
    Kind("gatekeepers", (C("gatekeeper_code", cells.code),
                         C("organisation_type", cells.choice(OrganisationType)),
                         C("name_km", cells.text(200), required=False, sensitive=True),
                         C("name_latin", cells.text(200), required=False, sensitive=True),
                         C("organisation_name", cells.text(200), required=False),
                         C("position", cells.text(100), required=False),
                         C("commune_code", cells.digits(6), required=False),
                         C("district_code", cells.digits(4), required=False),
                         C("phone", cells.phone, required=False, sensitive=True),
                         C("sensitised_date", cells.day, required=False),
                         C("workplace_code", cells.ref("workplace", "workplace"), required=False)),
         build_gatekeeper, unique={"gatekeeper_code": _exists(Gatekeeper, Gatekeeper.gatekeeper_code)}),
    Kind("peer_educators", (C("pe_code", cells.code),
                            C("member_code", cells.ref("member", "member"), required=False),
                            C("trained_date", cells.day, required=False),
                            C("communes", communes, required=False)),
         build_peer_educator, unique={"pe_code": _exists(PeerEducator, PeerEducator.pe_code)}),
    Kind("meetings", (C("meeting_code", cells.code), C("meeting_type", cells.choice(MeetingType)),
                      C("date", cells.day), C("commune_code", cells.digits(6), required=False),
                      C("anonymous_headcount", cells.count, required=False)),
         build_meeting, unique={"meeting_code": _exists(Meeting, Meeting.meeting_code)}),
    Kind("meeting_attendance", (C("meeting_code", cells.ref("meeting", "meeting")), *PERSON_COLUMNS),
         build_meeting_attendance, check_row=one_person),
    Kind("distributions", (C("date", cells.day), C("item", cells.choice(DistributionItem)),
                           C("quantity", cells.count), C("recipient_type", cells.choice(RecipientType)),
                           C("commune_code", cells.digits(6), required=False)),
         build_distribution),
    Kind("hotline", (C("date", cells.day), C("category", cells.choice(ReferralCategory)),
                     C("reporter_type", cells.choice(ReporterType)),
                     C("channel", cells.choice(ReportChannel), required=False),
                     C("priority", cells.choice(Priority), required=False),
                     C("workplace_code", cells.ref("workplace", "workplace"), required=False),
                     C("village_code", cells.digits(8), required=False)),
         build_hotline, before_undo=undo_hotline),
    *SAVINGS_KINDS,
)}


def get_kind(name: str) -> Kind | None:
    return KINDS.get(name)
