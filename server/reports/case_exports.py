"""Exports of the case tables (members, workplaces, referrals, visits) as CSV (BOM) or XLSX,
streamed like the submission exports.

Each column says whether it is personal data; roles without personal-data access get codes and
statuses only. Child-protection referrals, and visits behind one, exist only for the
child_protection role (the rule of ``server.accounts.access``). A member's sector is sensitive
even without a name: other roles get her report group instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, exists, or_, select
from sqlalchemy.orm import Session, aliased

from server import errors
from server.accounts import access
from server.db.models import (
    Member,
    MonitoringVisit,
    PossibleDuplicateVisit,
    Referral,
    ReferralCategory,
    ReferralSource,
    StaffRole,
    Workplace,
)
from server.db.models.field_duplicates import HELD
from server.reports.exports import stream_table_csv, stream_table_xlsx


@dataclass(frozen=True)
class Col:
    name: str
    expr: Any
    pii: bool = False


def _report_group() -> Any:
    return case((Member.sector.in_(("brothel_based", "freelance_sex_work")), "prostitution"),
                (Member.sector == "karaoke", "karaoke"), else_="other")


def _members() -> tuple[list[Col], Select[Any]]:
    wp, survivor = aliased(Workplace), aliased(Member)
    cols = [
        Col("member_code", Member.member_code), Col("status", Member.status),
        Col("report_group", _report_group()), Col("sector", Member.sector, pii=True),
        Col("pe_code", Member.pe_code), Col("intake_date", Member.intake_date),
        Col("joined_date", Member.joined_date), Col("workplace_code", wp.workplace_code),
        Col("savings_group", Member.savings_group), Col("merged_into", survivor.member_code),
        Col("family_name_km", Member.family_name_km, pii=True),
        Col("given_name_km", Member.given_name_km, pii=True),
        Col("name_latin", Member.name_latin_raw, pii=True), Col("dob", Member.dob, pii=True),
        Col("origin_village_code", Member.origin_village_code, pii=True),
    ]
    stmt = (select().select_from(Member).outerjoin(wp, wp.id == Member.current_workplace_id)
            .outerjoin(survivor, survivor.id == Member.merged_into_member_id).order_by(Member.member_code))
    return cols, stmt


def _workplaces() -> tuple[list[Col], Select[Any]]:
    survivor = aliased(Workplace)
    cols = [
        Col("workplace_code", Workplace.workplace_code), Col("type", Workplace.type),
        Col("village_code", Workplace.village_code), Col("commune_code", Workplace.commune_code),
        Col("status", Workplace.status), Col("last_visit_date", Workplace.last_visit_date),
        Col("last_access", Workplace.last_access), Col("workers_est", Workplace.workers_est),
        Col("risk_level", Workplace.risk_level), Col("merged_into", survivor.workplace_code),
    ]
    stmt = (select().select_from(Workplace)
            .outerjoin(survivor, survivor.id == Workplace.merged_into_workplace_id)
            .order_by(Workplace.workplace_code))
    return cols, stmt


def _referrals() -> tuple[list[Col], Select[Any]]:
    wp, member = aliased(Workplace), aliased(Member)
    cols = [
        Col("case_code", Referral.case_code), Col("category", Referral.category),
        Col("source", Referral.source), Col("status", Referral.status), Col("priority", Referral.priority),
        Col("event_date", Referral.event_date), Col("created_at", Referral.created_at),
        Col("acknowledged_at", Referral.acknowledged_at), Col("closed_at", Referral.closed_at),
        Col("referred_to", Referral.referred_to), Col("outcome", Referral.outcome),
        Col("outcome_by", Referral.outcome_by), Col("workplace_code", wp.workplace_code),
        Col("village_code", Referral.village_code), Col("member_code", member.member_code),
    ]
    stmt = (select().select_from(Referral).outerjoin(wp, wp.id == Referral.workplace_id)
            .outerjoin(member, member.id == Referral.member_id).order_by(Referral.created_at, Referral.id))
    return cols, stmt


def _visits() -> tuple[list[Col], Select[Any]]:
    v = MonitoringVisit
    cols = [
        Col("visit_id", v.visit_id), Col("visit_date", v.visit_date),
        Col("workplace_code", Workplace.workplace_code),
        Col("pe_code", v.pe_code), Col("visit_type", v.visit_type), Col("access", v.access),
        Col("n_workers_est", v.n_workers_est), Col("n_met", v.n_met), Col("u18_suspected", v.u18_suspected),
        Col("n_u18", v.n_u18), Col("indicators", v.indicators), Col("activities", v.activities),
        Col("n_leaflets", v.n_leaflets), Col("pe_safety", v.pe_safety), Col("risk_level", v.risk_level),
        # A possible duplicate visit staff have not called "different" is not counted (issue 9 item 6).
        Col("counted", case((exists(select(PossibleDuplicateVisit.id).where(
            PossibleDuplicateVisit.second_visit_id == v.id, PossibleDuplicateVisit.status.in_(HELD))), "no"),
            else_="yes")),
    ]
    stmt = (select().select_from(v).outerjoin(Workplace, Workplace.id == v.workplace_id)
            .order_by(v.visit_date, v.id))
    return cols, stmt


TABLES = {"members": _members, "workplaces": _workplaces, "referrals": _referrals, "visits": _visits}


def _restricted_sources() -> Any:
    return (select(ReferralSource.submission_id)
            .join(Referral, Referral.id == ReferralSource.referral_id)
            .where(or_(Referral.restricted.is_(True),
                       Referral.category == ReferralCategory.CHILD_PROTECTION)))


def query(table: str, role: StaffRole, with_pii: bool) -> tuple[list[str], Select[Any]]:
    """The header and the statement of a case table as `role` may see it."""
    make = TABLES.get(table)
    if make is None:
        raise errors.NotFound("There is no case table with this name.")
    cols, stmt = make()
    cols = [c for c in cols if with_pii or not c.pii]
    stmt = stmt.add_columns(*(c.expr for c in cols))
    if not access.sees_restricted_referrals(role):
        if table == "referrals":
            stmt = stmt.where(Referral.restricted.is_(False),
                              Referral.category != ReferralCategory.CHILD_PROTECTION)
        elif table == "visits":
            stmt = stmt.where(~exists(_restricted_sources().where(
                ReferralSource.submission_id == MonitoringVisit.submission_id)))
    return [c.name for c in cols], stmt


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _rows(session: Session, stmt: Select[Any]) -> Iterator[list[Any]]:
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        yield [_cell(v) for v in row]


def stream(session: Session, table: str, role: StaffRole, with_pii: bool, fmt: str) -> Iterator[bytes]:
    header, stmt = query(table, role, with_pii)
    rows = _rows(session, stmt)
    if fmt == "csv":
        return stream_table_csv(header, rows)
    return stream_table_xlsx(table, header, rows)
