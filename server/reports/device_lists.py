"""savings_groups.csv for the phones (member_intake's savings_group question), built from the
savings-group records staff keep: open groups in the collector's communes, plus groups with no
commune recorded. Codes and group labels only (a group label is not a person's name)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.models import Collector, SavingsGroup

SAVINGS_GROUPS_HEADER: tuple[str, ...] = ("name", "label")


def savings_groups_csv(session: Session, collector: Collector) -> bytes:
    stmt = select(SavingsGroup.group_code, SavingsGroup.name).where(SavingsGroup.closed_date.is_(None))
    communes = collector.commune_codes
    area = SavingsGroup.commune_code.is_(None)
    stmt = stmt.where(or_(area, SavingsGroup.commune_code.in_(communes)) if communes else area)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SAVINGS_GROUPS_HEADER)
    writer.writerows(session.execute(stmt.order_by(SavingsGroup.group_code)))
    return out.getvalue().encode("utf-8")
