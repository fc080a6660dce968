# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""The phones' savings_groups.csv comes from the savings-group records staff keep."""

from __future__ import annotations

import csv
import io
from datetime import date

from server.db.models import ReportGroup, SavingsGroup
from server.db.session import Database
from server.reports.device_lists import SAVINGS_GROUPS_HEADER
from server.xforms.publish import FORMS_DIR
from tests.support.fixtures import accounts, pe  # noqa: F401


def test_savings_groups_csv__open_groups_of_the_collectors_area(published_forms, db: Database, pe) -> None:
    with db.transaction() as s:
        s.add_all([
            SavingsGroup(group_code="SG01", name="Lekh Muoy karaoke", report_group=ReportGroup.KARAOKE,
                         commune_code="180101"),
            SavingsGroup(group_code="SG02", name="Anywhere", report_group=ReportGroup.PROSTITUTION),
            SavingsGroup(group_code="SG03", name="Prey Nob", report_group=ReportGroup.KARAOKE,
                         commune_code="180201"),
            SavingsGroup(group_code="SG04", name="Closed", report_group=ReportGroup.KARAOKE,
                         commune_code="180101", closed_date=date(2026, 10, 1)),
        ])
    entry = next(e for e in pe.form_list() if e.form_id == "member_intake")
    media = {m.filename: m for m in pe.manifest(entry)}
    body = pe.download_media(media["savings_groups.csv"])  # asserts the manifest hash
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert rows == [{"name": "SG01", "label": "Lekh Muoy karaoke"}, {"name": "SG02", "label": "Anywhere"}]


def test_savings_groups_csv__header_matches_the_form_media_placeholder() -> None:
    placeholder = (FORMS_DIR / "media" / "savings_groups.csv").read_text(encoding="utf-8").splitlines()[0]
    assert placeholder.split(",") == list(SAVINGS_GROUPS_HEADER)
