"""In Chromium: a case worker decides a possible duplicate visit ("same visit, count once") and
accepts a village-report correction, from the menu, in Khmer; axe on each screen; no
instanceID in any URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.db.models import DuplicateVisitStatus, PossibleDuplicateVisit, VillageReport, VillageReportStatus
from server.db.session import Database
from tests.support.browser import UrlRecorder, assert_accessible, sign_in
from tests.support.casework import submit, village_answers, visit_answers, workplace
from tests.support.web import make_staff_account


def test_decide_a_duplicate_visit_and_a_village_correction(
    db: Database, page: Any, base_url: str, recorder: UrlRecorder, published_forms: Any
):
    wp = workplace(db, "Moonlight KTV", "18010101", "180101")
    instance_ids = [submit(db, "workplace_visit", visit_answers(wp)) for _ in range(2)]
    instance_ids += [submit(db, "village_data", village_answers(n_left_women_15_24=n), by="V18010101")
                     for n in ("2", "6")]
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    menu = page.get_by_role("navigation", name="ម៉ឺនុយមេ")
    menu.get_by_role("link", name="ការចុះស្ទួន").click()
    assert page.locator("h1").inner_text() == "ការចុះដែលអាចស្ទួន"
    assert_accessible(page)
    page.get_by_role("link", name="ប្រៀបធៀប").click()
    assert_accessible(page)
    page.get_by_role("button", name="ការចុះដដែល៖ រាប់តែម្ដង").click()
    assert "រាប់តែម្ដង" in page.get_by_role("status").inner_text()
    with db.transaction() as s:
        assert s.scalar(select(PossibleDuplicateVisit)).status == DuplicateVisitStatus.SAME

    page.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="របាយការណ៍ភូមិ").click()
    assert_accessible(page)
    page.get_by_role("link", name="បើក").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="ទទួលយកការកែតម្រូវ៖ វាជំនួសតួលេខចាស់").click()
    assert "ប្រវត្តិ" in page.get_by_role("status").inner_text()
    with db.transaction() as s:
        statuses = [r.status for r in s.scalars(select(VillageReport).order_by(VillageReport.created_at))]
    assert statuses == [VillageReportStatus.SUPERSEDED, VillageReportStatus.ACCEPTED]
    recorder.assert_free_of([i.removeprefix("uuid:") for i in instance_ids])
