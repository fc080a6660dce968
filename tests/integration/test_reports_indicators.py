# ruff: noqa: F811, E501  (fixtures imported from tests.support are parameters; CSV rows kept whole)
"""The indicator report over a known month (November 2026).

Forms arrive through OpenRosa (intake, visits, village reports, one phone a training account);
staff records arrive through the import API; staff decisions (outcomes, a rejection, a merge, a
status change) are written as the casework screens would. Every figure below is counted by hand
from the data in ``known_month`` (see the comments beside each record).
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from server.accounts.collectors import create_collector
from server.casework import referrals
from server.db.models import (
    CandidatePair,
    CaseChange,
    Collector,
    EntityType,
    Form,
    Member,
    MemberStatus,
    PairStatus,
    Referral,
    ReviewState,
    StaffUser,
    Submission,
    Village,
)
from server.db.session import Database
from server.reports.report import build_report
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_village import report as village_report
from tests.integration.test_merge_visit import visit
from tests.support import staff_api
from tests.support.collect import CollectClient
from tests.support.fixtures import BASE, accounts, pe, village  # noqa: F401
from tests.support.staff_api import StaffClient, make_workplace
from tests.support.submissions import build_xml

pytestmark = pytest.mark.usefixtures("published_forms")
users = staff_api.staff

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def card(body: str) -> str:
    """A member code with its check symbol, as printed on the card."""
    value = 0
    for ch in body:
        value = value * 32 + CROCKFORD.index(ch)
    return f"{body}-{(CROCKFORD + '*~$=U')[value % 37]}"


# Distinct names and phones, so record linkage proposes no pairs of its own.
PEOPLE = {
    # key: (card body, Khmer family, Khmer given, Latin, phone, sector)
    "M1": ("1A2B3C", "សុខ", "ស្រីពៅ", "Sok Sreypov", "0971110001", "karaoke"),
    "M2": ("2B3C4D", "ចាន់", "ធីតា", "Chan Thida", "0971110002", "karaoke"),
    "M3": ("3C4D5E", "លី", "សុភាព", "Ly Sopheap", "0971110003", "karaoke"),
    "M4": ("4D5E6F", "ហេង", "ដាលីន", "Heng Dalin", "0971110004", "karaoke"),
    "M5": ("5E6F7G", "គឹម", "ស្រីនាង", "Kim Sreyneang", "0971110005", "karaoke"),
    "M6": ("6F7G8H", "ពេជ្រ", "មករា", "Pich Makara", "0971110006", "karaoke"),
    "M7": ("7G8H9J", "ញឹម", "សុវណ្ណា", "Nhim Sovanna", "0971110007", "karaoke"),  # merged into M6
    "M8": ("8H9J0K", "អ៊ុំ", "រតនា", "Um Ratana", "0971110008", "karaoke"),  # withdrawn in December
    "M9": ("9J0K1M", "សេង", "ចន្ធូ", "Seng Chanthou", "0971110009", "karaoke"),  # left sector 25 Nov
    "P1": ("AB1C2D", "ម៉ៅ", "ស្រីល័ក្ខ", "Mao Sreyleak", "0971110010", "brothel_based"),
    "P2": ("BC2D3E", "វ៉ាន់", "ស្រីមុំ", "Van Sreymom", "0971110011", "freelance_sex_work"),
    "P3": ("CD3E4F", "ទេព", "បុប្ផា", "Tep Bopha", "0971110012", "brothel_based"),
    "T1": ("DE4F5G", "ខៀវ", "ចរិយា", "Khiev Chariya", "0971110013", "brothel_based"),  # training phone
    "R1": ("EF5G6H", "សួន", "ពិសី", "Suon Pisey", "0971110014", "brothel_based"),  # rejected
    "D1": ("FG6H7J", "យិន", "សុធា", "Yin Sothea", "0971110015", "karaoke"),  # joined in December
}
HEALTH_NOW = {"M1", "P1", "P2", "P3", "T1", "R1"}
ACK_HOURS = {"M1": 2, "P1": 4, "P2": 30, "P3": 50, "T1": 1, "R1": 1}  # T1, R1 are not counted


def _form_xml(db: Database, form_id: str) -> bytes:
    with db.sessionmaker() as s:
        return s.scalar(select(Form).where(Form.xml_form_id == form_id)).versions[-1].xml


def _send(phone: CollectClient, xml: bytes) -> None:
    (response,) = phone.submit(xml)
    assert response.status_code == 201, response.data


def _upload(user: StaffClient, kind: str, text: str) -> dict[str, Any]:
    r = user.client.post(
        f"/api/v1/imports/{kind}", headers={"Authorization": f"Bearer {user.token}"},
        data={"file": (io.BytesIO(text.encode("utf-8")), f"{kind}.csv")}, content_type="multipart/form-data",
    )
    assert r.status_code == 201, (kind, r.json)
    return r.json


def _member_ids(db: Database) -> dict[str, uuid.UUID]:
    with db.sessionmaker() as s:
        codes = dict(s.execute(select(Member.member_code, Member.id)).all())
    return {key: codes[card(p[0])] for key, p in PEOPLE.items() if card(p[0]) in codes}


@pytest.fixture
def known_month(db: Database, client: FlaskClient, pe: CollectClient, village: CollectClient,
                users: dict[str, StaffClient]) -> dict[str, Any]:
    with db.transaction() as s:
        w1 = make_workplace(s, "W1", "Moonlight KTV", commune_code="180101").id
        w2 = make_workplace(s, "W2", "Star KTV", commune_code="180102", village_code="18010201").id
        w3 = make_workplace(s, "W3", "Guesthouse 9", type="brothel", commune_code="180101").id
        make_workplace(s, "BP1", "Beauty One", type="beauty_parlour", commune_code="180101")
        make_workplace(s, "BP2", "Beauty Two", type="beauty_parlour", commune_code="180102")
        for n in range(1, 5):  # four villages in the village collector's commune 180101
            s.add(Village(code=f"1801010{n}", commune_code="180101", district_code="1801", province_code="18",
                          name_km=f"ភូមិ{n}", name_en=f"Phum {n}", gazetteer_version="test"))
        trainee, token = create_collector(s, "TRAIN1", "peer_educator", "180101 180102")
        trainee.training = True
    training_phone = CollectClient(client, f"{BASE}/v1/key/{token}")

    # --- forms through OpenRosa -------------------------------------------------------------
    intake_xml = _form_xml(db, "member_intake")
    for key, (body, fam, given, latin, phone, sector) in PEOPLE.items():
        day = "2026-12-01" if key == "D1" else f"2026-11-{list(PEOPLE).index(key) + 2:02d}"
        answers = intake(
            start=f"{day}T08:00:00.000+07:00", today_calc=day, member_code=card(body), family_name_km=fam,
            given_name_km=given, name_latin=latin, phone=phone, sector=sector,
            health_now="yes" if key in HEALTH_NOW else "no", workplace_in_list="yes",
            workplace=str(w3 if sector != "karaoke" else w1), workplace_new_name=None, workplace_new_type=None,
        )
        xml = build_xml(intake_xml, answers, instance_id=f"uuid:{uuid.uuid4()}")
        _send(training_phone if key == "T1" else pe, xml)

    visit_xml = _form_xml(db, "workplace_visit")

    def send_visit(wp: uuid.UUID, base: int, phone: CollectClient = pe, **over: Any) -> None:
        ent = {"id": str(wp), "baseVersion": str(base), "trunkVersion": str(base), "branchId": ""}
        _send(phone, build_xml(visit_xml, visit(wp, **over), instance_id=f"uuid:{uuid.uuid4()}", entity=ent))

    send_visit(w2, 1, visit_date="2026-10-05", n_leaflets="40")  # October: not counted
    send_visit(w1, 1, visit_date="2026-11-10", activities="leaflets negotiated_with_owner",
               training_allowed="yes", n_leaflets="10")
    send_visit(w1, 2, visit_date="2026-11-20", access="refused")  # W1 ends amber
    send_visit(w2, 2, visit_date="2026-11-12", u18_suspected="yes", n_u18="1",
               activities="negotiated_with_owner", training_allowed="no", n_leaflets="5")  # red, U18
    send_visit(w3, 1, visit_date="2026-11-15", locked_in="yes", pe_safety="threatened")  # red, FL, SEC
    send_visit(w1, 3, phone=training_phone, visit_date="2026-11-16", u18_suspected="yes", n_u18="3",
               n_leaflets="99")  # training phone: not counted

    village_xml = _form_xml(db, "village_data")
    for code, period in (("18010101", "2026-11"), ("18010102", "2026-11"), ("18010103", "2026-10")):
        answers = village_report(village=code, period=f"{period}-01", period_ym=period,
                                 n_left_women_15_24="2", n_new_venues="1")
        _send(village, build_xml(village_xml, answers, instance_id=f"uuid:{uuid.uuid4()}"))

    # --- staff decisions ----------------------------------------------------------------------
    ids = _member_ids(db)
    with db.transaction() as s:
        rejected = s.scalar(select(Member.source_submission_id).where(Member.id == ids["R1"]))
        s.get(Submission, rejected).review_state = ReviewState.REJECTED
        outcomes = {"P1": "service_received", "P2": "service_received", "P3": "service_not_received",
                    "M1": "service_received", "T1": "service_received", "R1": "service_received"}
        worker = s.get(StaffUser, users["case"].staff_id)
        for key, outcome in outcomes.items():
            referral = s.scalar(select(Referral).where(Referral.member_id == ids[key],
                                                       Referral.category == "health"))
            referrals.acknowledge(s, worker, referral)
            referral.acknowledged_at = referral.created_at + timedelta(hours=ACK_HOURS[key])
            referrals.close(s, worker, referral, outcome, outcome_by="health_centre")
        m7, m6 = s.get(Member, ids["M7"]), ids["M6"]
        m7.merged_into_member_id, m7.status = m6, MemberStatus.MERGED
        s.add(CaseChange(entity_type=EntityType.MEMBER, entity_id=ids["M8"], field="status",
                         old_value="active", new_value="withdrawn", actor="staff"))  # now: December
        s.get(Member, ids["M8"]).status = MemberStatus.WITHDRAWN
        s.add(CaseChange(entity_type=EntityType.MEMBER, entity_id=ids["M9"], field="status",
                         old_value="active", new_value="left_sector", actor="staff",
                         at=datetime(2026, 11, 25, 9, tzinfo=UTC)))
        s.get(Member, ids["M9"]).status = MemberStatus.LEFT_SECTOR
        pair = sorted([ids["M1"], ids["M2"]], key=str)
        s.add(CandidatePair(entity_type=EntityType.MEMBER, a_id=pair[0], b_id=pair[1], score=0.8, band="probable"))
        pair = sorted([ids["M3"], ids["M4"]], key=str)
        s.add(CandidatePair(entity_type=EntityType.MEMBER, a_id=pair[0], b_id=pair[1], score=0.8, band="probable",
                            status=PairStatus.REJECTED))
        child_case = s.scalar(select(Referral.case_code).where(Referral.category == "child_protection",
                                                               Referral.workplace_id == w2))

    # --- staff records through the import API -------------------------------------------------
    codes = {k: card(p[0]) for k, p in PEOPLE.items()}
    me, case = users["me"], users["case"]
    _upload(me, "courses", "course_code,title,category\nAW1,Rights,awareness\nPEI,PE initial,pe_initial\n"
                           "PER,PE refresher,pe_refresher\nGKS,Gatekeepers,gatekeeper_sensitisation\n"
                           "VDT,Village data,village_data_training\n")
    _upload(case, "peer_educators", f"pe_code,member_code\nPE07,{codes['M1']}\nPE08,\nPE09,\n")
    _upload(case, "gatekeepers", "gatekeeper_code,organisation_type,commune_code\nG1,police,180101\n"
                                 "G2,village_chief,180101\nG3,ngo,180102\n")
    _upload(me, "sessions", "session_code,course_code,date,target_group,commune_code,anonymous_headcount\n"
                            "S1,AW1,2026-11-03,karaoke_workers,180101,10\n"
                            "S2,AW1,2026-11-10,karaoke_workers,180102,5\n"
                            "S3,AW1,2026-11-12,women_in_prostitution,180101,2\n"
                            "S4,AW1,2026-10-20,karaoke_workers,180101,30\n"
                            "S5,PEI,2026-10-01,pe,180101,\nS6,PEI,2026-11-15,pe,180102,\n"
                            "S7,PER,2026-11-20,pe,180101,\nS8,GKS,2026-11-05,gatekeepers,180101,\n"
                            "S9,VDT,2026-11-06,local_authorities,180101,\n")
    rows = [("S1", "M1"), ("S1", "M2"), ("S1", "M3"), ("S1", "M4"), ("S2", "M1"), ("S2", "M5"),
            ("S2", "M7"),  # M7 is M6 now (merged): a distinct person all the same
            ("S3", "P1"), ("S3", "P2"), ("S4", "M6")]
    _upload(me, "attendance", "session_code,member_code,pe_code,gatekeeper_code\n"
            + "".join(f"{sess},{codes[m]},,\n" for sess, m in rows)
            + "S5,,PE07,\nS5,,PE08,\nS6,,PE09,\nS7,,PE07,\nS8,,,G1\nS8,,,G2\nS9,,,G2\nS9,,,G3\n")
    _upload(case, "meetings", "meeting_code,meeting_type,date,commune_code,anonymous_headcount\n"
                              "MT1,pe_monthly,2026-11-25,180101,0\nMT2,gatekeeper,2026-11-26,180101,3\n"
                              "MT3,pe_monthly,2026-12-02,180101,0\n")
    _upload(case, "meeting_attendance", "meeting_code,pe_code,gatekeeper_code\nMT1,PE07,\nMT1,PE08,\nMT2,,G1\n")
    _upload(case, "savings_groups", "group_code,name,report_group,commune_code\n"
                                    "SG1,Moonlight savers,karaoke,180101\nSG2,Harbour savers,prostitution,180101\n")
    _upload(case, "savings_members", "group_code,member_code,joined_date,left_date\n"
            f"SG1,{codes['M1']},2026-10-01,\nSG1,{codes['M2']},2026-10-01,\nSG1,{codes['M3']},2026-10-01,\n"
            f"SG1,{codes['M4']},2026-11-10,2026-11-20\nSG2,{codes['P1']},2026-11-01,\n"
            f"SG2,{codes['P2']},2026-11-01,\n")
    _upload(case, "savings_books", "book_number,holder_type,member_code,pe_code,gatekeeper_code,group_code,"
            f"issued_date\nB1,member,{codes['M1']},,,SG1,2026-10-01\nB2,member,{codes['M2']},,,SG1,2026-11-02\n"
            f"B3,member,{codes['P1']},,,SG2,2026-11-03\nB4,peer_educator,,PE07,,,2026-11-04\n"
            "B5,gatekeeper,,,G1,,2026-11-05\n")
    _upload(case, "savings_deposits", "book_number,date,amount,currency,kind\nB1,2026-11-05,20000,KHR,deposit\n"
                                      "B2,2026-12-01,5,USD,deposit\nB3,2026-11-06,10000,KHR,deposit\n"
                                      "B3,2026-11-07,10000,KHR,withdrawal\n")
    _upload(case, "apprenticeships", "member_code,workplace_code,report_group,start_date,status,outcome\n"
            f"{codes['M5']},BP1,karaoke,2026-11-01,ongoing,\n{codes['P2']},BP1,prostitution,2026-11-02,completed,"
            f"own_business\n{codes['M6']},BP2,karaoke,2026-09-01,completed,employed\n")
    _upload(case, "livelihood", "member_code,case_code,support_type,report_group,date\n"
            f"{codes['M3']},,grocery,karaoke,2026-11-08\n{codes['M6']},,return_home_business,karaoke,2026-11-09\n"
            f",{child_case},mobile_beauty,other,2026-11-10\n")
    _upload(case, "distributions", "date,item,quantity,recipient_type,commune_code\n"
                                   "2026-11-03,leaflet,100,member,180101\n2026-11-05,guideline_booklet,20,gatekeeper,\n"
                                   "2026-10-01,leaflet,50,member,180101\n")
    _upload(case, "hotline", "date,category,reporter_type,workplace_code\n2026-11-11,trafficking,member,W1\n"
                             "2026-11-12,forced_labour,peer_educator,W2\n2026-11-13,abuse_violence,gatekeeper,\n"
                             "2026-11-14,child_protection,anonymous,W1\n2026-10-01,trafficking,member,\n")
    return {"ids": ids, "w1": w1, "w2": w2, "w3": w3}


def value(report: dict[str, Any], number: int, label: str, breakdown: str = "total") -> Any:
    ind = next(i for i in report["indicators"] if i["number"] == number)
    found = [f["value"] for f in ind["figures"] if f["label"] == label and f["breakdown"] == breakdown]
    assert len(found) == 1, (number, label, breakdown, [(f["label"], f["breakdown"]) for f in ind["figures"]])
    return found[0]


def internal(db: Database, **kw: Any) -> dict[str, Any]:
    with db.sessionmaker() as s:
        return build_report(s, "2026-11", **kw)


def test_report__people_and_training_match_hand_counts(db: Database, known_month: dict) -> None:
    r = internal(db)
    assert [i["number"] for i in r["indicators"]] == list(range(1, 19))
    assert all(i["title"] and i["method"].endswith(".") for i in r["indicators"])
    assert r["possible_duplicates_pending"] == 1  # the M1/M2 pair; the rejected pair does not count
    # 1: M1-M6, M8 (withdrawn only in December), P1-P3; not M7 (merged), M9 (left 25 Nov),
    # T1 (training phone), R1 (rejected), D1 (joined in December).
    assert value(r, 1, "network members at period end") == 10
    assert value(r, 1, "network members at period end", "report_group:karaoke") == 7
    assert value(r, 1, "network members at period end", "report_group:prostitution") == 3
    assert value(r, 1, "network members at period end", "status:active") == 10  # M8 too, in November
    assert value(r, 1, "network members at period end", "commune:180101") == 10
    # 2: PE07 and PE08 trained in October (S5), PE09 in November (S6); one refresher, one PE at it.
    assert value(r, 2, "peer educators trained (initial training by period end)") == 3
    assert value(r, 2, "peer educators trained in the period") == 1
    assert value(r, 2, "refresher sessions") == 1
    assert value(r, 2, "peer educators at refresher sessions") == 1
    # 3: three gatekeepers, G1 and G2 at the sensitisation session.
    assert value(r, 3, "gatekeepers in the network") == 3
    assert value(r, 3, "gatekeepers sensitised") == 2
    assert value(r, 3, "gatekeepers sensitised", "organisation_type:police") == 1
    # 4: S1, S2, S3 (S4 was in October).
    assert value(r, 4, "awareness sessions held") == 3
    assert value(r, 4, "awareness sessions held", "target_group:karaoke_workers") == 2
    assert value(r, 4, "awareness sessions held", "target_group:women_in_prostitution") == 1
    assert value(r, 4, "awareness sessions held", "commune:180101") == 2
    # 5: karaoke: M1-M5 and M6 (as M7) = 6 distinct + 15 heads = 21; rows 7 + 15 = 22.
    # prostitution: P1, P2 + 2 heads = 4. All: 8 + 17 = 25 distinct, 9 + 17 = 26 attendances.
    label5 = "participants: distinct identified members + anonymous headcount"
    assert value(r, 5, label5, "target_group:karaoke_workers") == 21
    assert value(r, 5, label5, "target_group:women_in_prostitution") == 4
    assert value(r, 5, label5) == 25
    assert value(r, 5, "attendances: identified attendance rows + anonymous headcount") == 26
    assert value(r, 5, label5, "commune:180102") == 3 + 5  # S2: M1, M5, M6 + 5 heads
    # 16: MT1 (2 PEs) and MT2 (G1 + 3 heads); MT3 is in December.
    assert value(r, 16, "meetings held") == 2
    assert value(r, 16, "meeting attendances (identified + headcount)", "meeting_type:gatekeeper") == 4
    assert value(r, 16, "meeting attendances (identified + headcount)") == 6


def test_report__savings_livelihood_and_apprenticeships_match_hand_counts(
    db: Database, known_month: dict
) -> None:
    r = internal(db)
    # 7: M3 grocery and M6 return-home business; the child's mobile beauty business apart.
    assert value(r, 7, "livelihood supports given") == 2
    assert value(r, 7, "livelihood supports given", "support_type:grocery") == 1
    assert value(r, 7, "children supported (child-protection cases)") == 1
    # 8: B2-B5 (B1 was issued in October).
    assert value(r, 8, "savings books issued") == 4
    assert value(r, 8, "savings books issued", "holder_type:member") == 2
    assert value(r, 8, "savings books issued", "holder_type:peer_educator") == 1
    # 9: SG1 members at the end M1-M3 (M4 left), M1 saved (M2's deposit is in December);
    # SG2 P1, P2, P1 saved (and withdrew it all).
    savers = "savers: members with at least one deposit by period end"
    assert value(r, 9, "members at period end") == 5
    assert value(r, 9, savers) == 2
    assert value(r, 9, "share of members who saved (%)") == 40.0
    assert value(r, 9, savers, "group:SG1") == 1 and value(r, 9, "members at period end", "group:SG1") == 3
    assert value(r, 9, "savings groups", "report_group:prostitution") == 1
    assert value(r, 9, "members with a balance above 0 at period end (to confirm with KWCD)") == 1
    # 10: M5 and P2 at BP1 (M6's started in September); P2 completed and started a business.
    assert value(r, 10, "host workplaces") == 1
    assert value(r, 10, "women in apprenticeships (distinct)") == 2
    assert value(r, 10, "women in apprenticeships (distinct)", "report_group:prostitution") == 1
    assert value(r, 10, "apprenticeships completed") == 1
    assert value(r, 10, "businesses started") == 1


def test_report__referrals_visits_and_villages_match_hand_counts(db: Database, known_month: dict) -> None:
    r = internal(db)
    # 6: P1 and P2 received the service; P3 did not; M1 is karaoke; T1 and R1 are excluded.
    assert value(r, 6, "women in prostitution who received a health service") == 2
    assert value(r, 6, "women in prostitution who received a health service", "report_group:karaoke") == 1
    # 11: four November calls: member, PE, gatekeeper, anonymous; share from the network 2/4.
    assert value(r, 11, "hotline reports known to KWCD") == 4
    assert value(r, 11, "hotline reports known to KWCD", "reporter_type:member") == 1
    assert value(r, 11, "hotline reports known to KWCD", "reporter_type:other") == 0
    assert value(r, 11, "share reported by members and peer educators (%)") == 50.0
    # 12: health M1, P1, P2, P3 (T1's and R1's are excluded); from visits: U18 at W2,
    # forced labour and PE security at W3; hotline: four. 4 + 3 + 4 = 11.
    assert value(r, 12, "referrals") == 11
    assert value(r, 12, "referrals", "category:health") == 4
    assert value(r, 12, "referrals", "source:hotline") == 4
    assert value(r, 12, "closed referrals") == 4
    assert value(r, 12, "closed referrals", "outcome:service_received") == 3
    # Acknowledged after 2, 4, 30 and 50 hours (M1, P1, P2, P3): median 17; none urgent.
    assert value(r, 12, "median hours from creation to acknowledgement") == 17.0
    assert value(r, 12, "median hours from creation to acknowledgement", "priority:urgent") is None
    # 13: the U18 visit alert (anonymous) and the anonymous hotline call.
    assert value(r, 13, "child-protection cases") == 2
    assert value(r, 13, "anonymous alerts (cannot be deduplicated)") == 2
    assert value(r, 13, "distinct identified children") == 0
    # 14: W1 (twice), W2, W3 in November from the real phone; the training phone's is not counted.
    assert value(r, 14, "workplaces monitored") == 3
    assert value(r, 14, "visits") == 4
    assert value(r, 14, "visits with under-18 suspected") == 1
    assert value(r, 14, "visits with access refused") == 1
    assert value(r, 14, "peer-educator security alerts (threatened)") == 1
    assert value(r, 14, "workplaces with any forced-labour indicator") == 1
    assert value(r, 14, "workplaces red at period end") == 2
    assert value(r, 14, "workplaces amber at period end") == 1
    # 15: two negotiations, training allowed at one.
    assert value(r, 15, "visits where staff negotiated with the owner") == 2
    assert value(r, 15, "share where training was allowed (%)") == 50.0
    # 17: two of four assigned villages reported for November, both on time; G2, G3 trained.
    assert value(r, 17, "villages assigned to village collectors") == 4
    assert value(r, 17, "villages reporting", "month:2026-11") == 2
    assert value(r, 17, "completeness: villages reporting / villages assigned (%)", "month:2026-11") == 50.0
    assert value(r, 17, "on-time rate (%)") == 100.0
    assert value(r, 17, "village chiefs and councillors trained (village data training)") == 2
    assert value(r, 17, "women 15-24 who left") == 4
    # 18: 100 leaflets + 20 booklets in November; visits handed out 10 + 5 leaflets.
    assert value(r, 18, "materials distributed (staff records)") == 120
    assert value(r, 18, "materials distributed (staff records)", "item:leaflet") == 100
    assert value(r, 18, "leaflets handed out on visits (n_leaflets)") == 15


def test_report__external_version_suppresses_small_cells_and_every_child_protection_figure(
    db: Database, known_month: dict
) -> None:
    r = internal(db, external=True)
    assert r["external"] is True
    assert value(r, 1, "network members at period end") == 10
    assert value(r, 1, "network members at period end", "report_group:prostitution") == "<5"
    assert value(r, 5, "participants: distinct identified members + anonymous headcount") == 25
    assert value(r, 9, "share of members who saved (%)") == 40.0  # base 5
    assert value(r, 9, "share of members who saved (%)", "group:SG2") == "<5"  # base 2
    assert value(r, 18, "materials distributed (staff records)") == 120
    assert value(r, 13, "child-protection cases") == "<5"
    assert value(r, 7, "children supported (child-protection cases)") == "<5"
    assert value(r, 14, "visits with under-18 suspected") == "<5"
    assert r["possible_duplicates_pending"] == "<5"
    for ind in r["indicators"]:
        for f in ind["figures"]:
            assert f["value"] is None or f["value"] == "<5" or f["value"] >= 5, (ind["number"], f)
    big = internal(db, external=True, child_visible=True)
    assert value(big, 13, "child-protection cases") == "<5"  # always, even if 5 or more


def test_report_api__me_role_reads_it_without_child_cases_and_audited(
    db: Database, known_month: dict, users: dict[str, StaffClient]
) -> None:
    r = users["me"].get("/api/v1/reports/indicators?period=2026-11")
    assert r.status_code == 200
    assert set(r.json) == {"period", "external", "possible_duplicates_pending", "indicators"}
    assert value(r.json, 13, "child-protection cases") == "<5"
    assert value(r.json, 12, "referrals") == 9  # the two child-protection referrals are not shown
    assert value(r.json, 11, "hotline reports known to KWCD") == 3
    names = [p[3] for p in PEOPLE.values()] + [p[1] for p in PEOPLE.values()]
    assert not any(n in r.get_data(as_text=True) for n in names)
    child = users["child_protection"].get("/api/v1/reports/indicators?period=2026-11").json
    assert value(child, 13, "child-protection cases") == 2
    with db.sessionmaker() as s:
        from server.db.models import AuditEntry

        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "report.read").limit(1))


def test_report_api__csv_has_bom_and_xlsx_round_trips_khmer(
    db: Database, known_month: dict, users: dict[str, StaffClient]
) -> None:
    r = users["me"].get("/api/v1/reports/indicators?period=2026-11&format=csv&external=true&lang=km")
    assert r.status_code == 200 and r.data.startswith("\ufeff".encode())
    text = r.data.decode("utf-8-sig")
    assert "សមាជិកបណ្ដាញ" in text and "<5" in text
    x = users["me"].get("/api/v1/reports/indicators?period=2026-11&lang=km",
                        headers={"Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    book = load_workbook(io.BytesIO(x.data), read_only=True)
    cells = [c for row in book["Indicators"].iter_rows(values_only=True) for c in row]
    assert "ការបញ្ជូនករណី" in cells and 10 in cells
    assert users["me"].get("/api/v1/reports/indicators?period=2026-13").status_code == 422
    km = users["me"].get("/api/v1/reports/indicators?period=2026-11&lang=km").json
    assert km["indicators"][0]["method"].startswith("សមាជិក") and km["indicators"][0]["title"] == "សមាជិកបណ្ដាញ"
    khmer = lambda text: any("\u1780" <= ch <= "\u17ff" for ch in text)  # noqa: E731
    assert all(khmer(f["label"]) and khmer(i["method"]) for i in km["indicators"] for f in i["figures"])


def test_snapshot__unchanged_after_new_data_and_hash_checked(
    db: Database, known_month: dict, users: dict[str, StaffClient]
) -> None:
    me = users["me"]
    made = me.client.post("/api/v1/reports/snapshots", headers={"Authorization": f"Bearer {me.token}"},
                          json={"period": "2026-11", "external": True})
    assert made.status_code == 201
    snap_id, sha = made.json["id"], made.json["sha256"]
    _upload(users["case"], "distributions", "date,item,quantity,recipient_type\n2026-11-20,leaflet,500,public\n")
    now = me.get("/api/v1/reports/indicators?period=2026-11&external=true").json
    assert value(now, 18, "materials distributed (staff records)") == 620
    again = me.get(f"/api/v1/reports/snapshots/{snap_id}").json
    assert again["sha256"] == sha and again["report"] == made.json["report"]
    assert value(again["report"], 18, "materials distributed (staff records)") == 120
    canonical = json.dumps(again["report"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert __import__("hashlib").sha256(canonical.encode()).hexdigest() == sha
    with db.transaction() as s:
        from server.db.models import ReportSnapshot

        s.get(ReportSnapshot, uuid.UUID(snap_id)).content = canonical.replace("120", "121")
    assert me.get(f"/api/v1/reports/snapshots/{snap_id}").status_code == 409


def test_cli_report__period_external_csv_to_file(db: Database, known_month: dict, tmp_path: Any,
                                                 monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("SAHAKUM_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path))
    out = tmp_path / "nov.csv"
    result = CliRunner().invoke(main, ["report", "indicators", "--period", "2026-11", "--external",
                                       "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert "network members at period end,total,10," in text
    result = CliRunner().invoke(main, ["report", "indicators", "--period", "2026-11"])
    assert json.loads(result.output)["indicators"][0]["figures"][0]["value"] == 10


def test_training_collector_flag__defaults_to_false(db: Database) -> None:
    with db.transaction() as s:
        c, _ = create_collector(s, "PE55", "peer_educator", "180101")
        s.flush()
        assert s.get(Collector, c.id).training is False
