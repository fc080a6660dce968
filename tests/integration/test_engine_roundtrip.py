# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""The whole path a phone takes: download forms and media as Collect does, fill them in ODK's
web form engine with the lists this server generated, send, resend, and find the cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db.models import (
    Member,
    MemberPhone,
    MonitoringVisit,
    Referral,
    Submission,
    SubmissionState,
    SubmissionVersion,
    VillageReport,
    Workplace,
)
from server.db.session import Database
from server.sync import cases
from tests.support.collect import CollectClient
from tests.support.engine import fill, needs_engine
from tests.support.fixtures import accounts, pe, village  # noqa: F401

pytestmark = [needs_engine, pytest.mark.usefixtures("published_forms")]


def _download(client: CollectClient, form_id: str, media_dir: Path) -> bytes:
    """Form and every media file, checking hashes, into media_dir (what Collect stores)."""
    entry = next(e for e in client.form_list() if e.form_id == form_id)
    media_dir.mkdir(parents=True, exist_ok=True)
    for media in client.manifest(entry):
        (media_dir / media.filename).write_bytes(client.download_media(media))
    return client.download_form(entry)


def _send_twice(client: CollectClient, xml: bytes) -> None:
    for _ in range(2):  # the second is Collect resending after a lost reply
        (response,) = client.submit(xml)
        assert response.status_code == 201, response.data


def _count(db: Database, model: type) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_workplace_visit__filled_by_web_engine__stored_once_and_merged(
    db: Database, pe: CollectClient, tmp_path: Path
) -> None:
    with db.transaction() as s:
        wp = cases.create_workplace(
            s, name_latin="Moonlight KTV", type="karaoke", village_code="18010101", actor="t"
        ).id
    form = _download(pe, "workplace_visit", tmp_path / "media")
    xml = fill(
        form,
        {
            "/data/collector": "PE07",
            "/data/workplace_in_list": "yes",
            "/data/workplace": str(wp),
            "/data/visit_type": "routine",
            "/data/access": "inside_freely",
            "/data/n_workers_est": 12,
            "/data/n_met": 5,
            "/data/n_members_present": 2,
            "/data/u18_suspected": "no",
            "/data/fl_seen": ["none"],
            "/data/locked_in": "no",
            "/data/forced_drinking": "yes",
            "/data/shift_known": "yes",
            "/data/shift_hours": 14,
            "/data/days_off": "dont_know",
            "/data/pay_type": "salary",
            "/data/pe_safety": "safe",
        },
        tmp_path / "media",
        tmp_path / "work",
    )
    _send_twice(pe, xml)
    assert _count(db, SubmissionVersion) == 1
    with db.sessionmaker() as s:
        assert s.scalar(select(Submission)).state == SubmissionState.MERGED
        workplace = s.get(Workplace, wp)
        assert workplace.version == 2 and workplace.workers_est == 12
        assert workplace.has_conflict is False  # baseVersion came from the list we served
        visit = s.scalar(select(MonitoringVisit))
        assert visit.workplace_id == wp
        # Forced drinking and a 14-hour shift: two "other" indicators (FL-2, domain.md 3.4).
        referral = s.scalar(select(Referral))
        assert referral.category.value == "forced_labour" and "FL-2" in referral.triggers


def test_member_intake__filled_by_web_engine__member_created_once(
    db: Database, pe: CollectClient, tmp_path: Path
) -> None:
    # Her home village is asked by name (issue 9 item 1): conftest seeds commune 140401.
    form = _download(pe, "member_intake", tmp_path / "media")
    xml = fill(
        form,
        {
            "/data/collector": "PE07",
            "/data/consent": "yes",
            "/data/g_main/consent_referral": "yes",
            "/data/g_main/dob_known": "yes",
            "/data/g_main/dob": "2000-05-17",
            "/data/g_main/age_source": "id_card",
            "/data/g_main/g_identity/member_code": "7K3Q9M-H",
            "/data/g_main/g_identity/given_name_km": "សុខា",
            "/data/g_main/workplace_in_list": "no",
            "/data/g_main/workplace_new_name": "Star KTV",
            "/data/g_main/workplace_new_type": "karaoke",
            "/data/g_main/workplace_new_commune": "180101",
            "/data/g_main/workplace_new_village": "18010101",
            "/data/g_main/workplace_new_landmark": "opposite the market",
            "/data/g_main/g_adult/sector": "karaoke",
            "/data/g_main/g_adult/recruited_via": "friend",
            "/data/g_main/g_adult/origin_province": "14",
            "/data/g_main/g_adult/origin_district": "1404",
            "/data/g_main/g_adult/origin_commune": "140401",
            "/data/g_main/g_adult/origin_village_text": "មានជ័យ",
            "/data/g_main/g_adult/phone_owner": "own",
            "/data/g_main/g_adult/phone": "០១២ ៣៤៥-៦៧៨",
            "/data/g_main/g_adult/id_card": "yes",
            "/data/g_main/g_adult/fl_screen": ["none"],
            "/data/g_main/g_adult/health_now": "no",
            "/data/g_main/g_adult/legal_now": "no",
        },
        tmp_path / "media",
        tmp_path / "work",
    )
    _send_twice(pe, xml)
    with db.sessionmaker() as s:
        assert s.scalar(select(Submission)).state == SubmissionState.MERGED
        (member,) = s.scalars(select(Member)).all()
        assert member.member_code == "7K3Q9M-H"
        assert member.given_name_km == "សុខា"
        # Typed by name, found by the server among the commune's villages.
        assert member.origin_village_code == "14040101"
        # Typed in Khmer digits with a space and a dash: stored normalised (item 5).
        phones = s.scalars(select(MemberPhone.phone_e164).where(
            MemberPhone.member_id == member.id)).all()
        assert phones == ["+85512345678"]
        # The new workplace has its place (item 3): it reaches that commune's phones.
        workplace = s.get(Workplace, member.current_workplace_id)
        assert (workplace.commune_code, workplace.village_code) == ("180101", "18010101")
        assert workplace.landmark_text == "opposite the market"
    # The member now reaches the peer educator's phone as a code, never a name.
    members_csv = tmp_path / "members_again.csv"
    entry = next(e for e in pe.form_list() if e.form_id == "workplace_visit")
    media = next(m for m in pe.manifest(entry) if m.filename == "members.csv")
    members_csv.write_bytes(pe.download_media(media))
    text = members_csv.read_text(encoding="utf-8")
    assert "7K3Q9M-H" in text and "សុខា" not in text
    workplaces = pe.download_media(
        next(m for m in pe.manifest(entry) if m.filename == "workplaces.csv")).decode()
    assert "Star KTV" in workplaces


def test_village_data__filled_by_web_engine__report_stored_once(
    db: Database, village: CollectClient, tmp_path: Path
) -> None:
    form = _download(village, "village_data", tmp_path / "media")
    xml = fill(
        form,
        {
            "/data/collector": "V18010101",
            "/data/reporter_role": "village_chief",
            "/data/period": "2026-10-01",
            "/data/commune": "180101",
            "/data/village": "18010101",
            "/data/n_left": 3,
            "/data/n_left_women_15_24": 2,
            "/data/n_left_under18": 1,
            "/data/destinations": ["phnom_penh"],
            "/data/n_left_via_broker": 0,
            "/data/n_returned": 0,
            "/data/n_children_working_away": 0,
            "/data/n_venues": 2,
            "/data/n_new_venues": 0,
            "/data/any_concern": "no",
        },
        tmp_path / "media",
        tmp_path / "work",
    )
    _send_twice(village, xml)
    assert _count(db, SubmissionVersion) == 1
    with db.sessionmaker() as s:
        assert s.scalar(select(Submission)).state == SubmissionState.MERGED
        report = s.scalar(select(VillageReport))
        assert (report.village_code, report.period_ym) == ("18010101", "2026-10")
        # One under-18 left the village: a child-protection follow-up (U18-V).
        referral = s.scalar(select(Referral))
        assert referral.category.value == "child_protection" and "U18-V" in referral.triggers
