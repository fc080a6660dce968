"""Import kinds for savings (groups, members, books, deposits), apprenticeships and livelihood."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    Apprenticeship,
    ApprenticeshipOutcome,
    ApprenticeshipStatus,
    Base,
    Currency,
    LivelihoodSupport,
    LivelihoodType,
    RecipientType,
    ReportGroup,
    SavingsBook,
    SavingsGroup,
    SavingsMembership,
    SavingsTransaction,
    TransactionKind,
)
from server.reports import cells
from server.reports.cells import CellError
from server.reports.importing import Column, Kind
from server.reports.lookups import Lookups

C = Column


def _exists(model: Any, column: Any) -> Any:
    return lambda s, v: s.scalar(select(model.id).where(column == v)) is not None


def build_group(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [SavingsGroup(
        group_code=v["group_code"], name=v["name"], report_group=v["report_group"],
        facilitator_pe_code=v["facilitator_pe_code"], leader_member_id=v["leader_member_code"],
        formed_date=v["formed_date"], commune_code=v["commune_code"],
    )]


def build_membership(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    if v["left_date"] and v["left_date"] < v["joined_date"]:
        raise CellError("She cannot leave before she joined.", "left_date")
    key = ("membership", v["group_code"], v["member_code"])
    open_stored = s.scalar(select(SavingsMembership.id).where(
        SavingsMembership.group_id == v["group_code"], SavingsMembership.member_id == v["member_code"],
        SavingsMembership.left_date.is_(None)))
    if key in lk.seen or open_stored:
        raise CellError("She is already a member of this group.", "member_code")
    lk.seen.add(key)
    return [SavingsMembership(group_id=v["group_code"], member_id=v["member_code"],
                              joined_date=v["joined_date"], left_date=v["left_date"])]


_HOLDER_COLUMN = {RecipientType.MEMBER: "member_code", RecipientType.PEER_EDUCATOR: "pe_code",
                  RecipientType.GATEKEEPER: "gatekeeper_code"}


def check_book(v: Mapping[str, Any]) -> list[tuple[str, str]]:
    column = _HOLDER_COLUMN.get(v["holder_type"])
    if column is None:
        return [("holder_type", "A book is held by a member, a peer_educator or a gatekeeper.")]
    if v.get(column) is None:
        return [(column, f"This cell is required when holder_type is {v['holder_type']}.")]
    others = [c for c in _HOLDER_COLUMN.values() if c != column and v.get(c) is not None]
    return [(c, "Leave this empty: the book has one holder.") for c in others]


def build_book(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    return [SavingsBook(
        book_number=v["book_number"], holder_type=v["holder_type"], member_id=v["member_code"],
        peer_educator_id=v["pe_code"], gatekeeper_id=v["gatekeeper_code"], group_id=v["group_code"],
        issued_date=v["issued_date"],
    )]


def build_deposit(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    issued = s.scalar(select(SavingsBook.issued_date).where(SavingsBook.id == v["book_number"]))
    if issued and v["date"] < issued:
        raise CellError("This date is before the book was issued.", "date")
    return [SavingsTransaction(
        book_id=v["book_number"], transaction_date=v["date"], amount=v["amount"], currency=v["currency"],
        kind=v["kind"] or TransactionKind.DEPOSIT, recorded_by=v["recorded_by"],
    )]


def build_apprenticeship(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    if v["status"] == ApprenticeshipStatus.COMPLETED and v["outcome"] is None:
        raise CellError("A completed apprenticeship needs an outcome (or 'unknown').", "outcome")
    return [Apprenticeship(
        member_id=v["member_code"], workplace_id=v["workplace_code"][0], report_group=v["report_group"],
        start_date=v["start_date"], planned_end_date=v["planned_end_date"], status=v["status"],
        outcome=v["outcome"], business_start_date=v["business_start_date"],
    )]


def build_livelihood(s: Session, v: Mapping[str, Any], lk: Lookups) -> list[Base]:
    if (v["member_code"] is None) == (v["case_code"] is None):
        raise CellError("Give exactly one of member_code or case_code.", "member_code")
    if v["amount"] is not None and v["currency"] is None:
        raise CellError("An amount needs its currency (KHR or USD).", "currency")
    return [LivelihoodSupport(
        member_id=v["member_code"], referral_id=v["case_code"], support_type=v["support_type"],
        report_group=v["report_group"], commune_code=v["commune_code"], grant_source=v["grant_source"],
        support_date=v["date"], amount=v["amount"], currency=v["currency"],
    )]


def case_ref(cell: str, lk: Lookups) -> Any:
    found = lk.referral(cells.code(cell, lk))
    if found is None:
        raise CellError("No case has this code.")
    return found


SAVINGS_KINDS: tuple[Kind, ...] = (
    Kind("savings_groups", (C("group_code", cells.code), C("name", cells.text(200)),
                            C("report_group", cells.choice(ReportGroup)),
                            C("facilitator_pe_code", cells.code, required=False),
                            C("leader_member_code", cells.ref("member", "member"), required=False),
                            C("formed_date", cells.day, required=False),
                            C("commune_code", cells.digits(6), required=False)),
         build_group, unique={"group_code": _exists(SavingsGroup, SavingsGroup.group_code)}),
    Kind("savings_members", (C("group_code", cells.ref("group", "savings group")),
                             C("member_code", cells.ref("member", "member")),
                             C("joined_date", cells.day), C("left_date", cells.day, required=False)),
         build_membership),
    Kind("savings_books", (C("book_number", cells.code), C("holder_type", cells.choice(RecipientType)),
                           C("member_code", cells.ref("member", "member"), required=False),
                           C("pe_code", cells.ref("peer_educator", "peer educator"), required=False),
                           C("gatekeeper_code", cells.ref("gatekeeper", "gatekeeper"), required=False),
                           C("group_code", cells.ref("group", "savings group"), required=False),
                           C("issued_date", cells.day)),
         build_book, unique={"book_number": _exists(SavingsBook, SavingsBook.book_number)},
         check_row=check_book),
    Kind("savings_deposits", (C("book_number", cells.ref("book", "savings book")), C("date", cells.day),
                              C("amount", cells.amount, sensitive=True),
                              C("currency", cells.choice(Currency)),
                              C("kind", cells.choice(TransactionKind), required=False),
                              C("recorded_by", cells.code, required=False)),
         build_deposit),
    Kind("apprenticeships", (C("member_code", cells.ref("member", "member")),
                             C("workplace_code", cells.ref("workplace", "workplace")),
                             C("report_group", cells.choice(ReportGroup)), C("start_date", cells.day),
                             C("planned_end_date", cells.day, required=False),
                             C("status", cells.choice(ApprenticeshipStatus)),
                             C("outcome", cells.choice(ApprenticeshipOutcome), required=False),
                             C("business_start_date", cells.day, required=False)),
         build_apprenticeship),
    Kind("livelihood", (C("member_code", cells.ref("member", "member"), required=False),
                        C("case_code", case_ref, required=False),
                        C("support_type", cells.choice(LivelihoodType)),
                        C("report_group", cells.choice(ReportGroup)), C("date", cells.day),
                        C("grant_source", cells.text(100), required=False),
                        C("amount", cells.amount, required=False, sensitive=True),
                        C("currency", cells.choice(Currency), required=False),
                        C("commune_code", cells.digits(6), required=False)),
         build_livelihood),
)
