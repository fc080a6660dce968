"""Duplicate review through the staff API: list, merge, reject, unmerge; ETags; roles; audit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.db.models import AuditEntry
from server.db.models.cases import CandidatePair, EntityType, Member, PairStatus
from server.db.session import Database
from server.sync.cases import ordered_pair
from tests.support.staff_api import StaffClient, make_member, make_referral, make_workplace, staff  # noqa: F401


def make_pair(s, a, b, entity_type=EntityType.MEMBER, score=0.91) -> CandidatePair:
    a_id, b_id = ordered_pair(a.id, b.id)
    pair = CandidatePair(entity_type=entity_type, a_id=a_id, b_id=b_id, score=score, band="strong",
                         evidence={"codes": ["khmer_given_name_equal", "phone_equal"]})
    s.add(pair)
    s.flush()
    return pair


def setup_member_pair(db: Database) -> dict[str, str]:
    with db.transaction() as s:
        old = make_member(s, "AAAAAA-1")
        new = make_member(s, "BBBBBB-2", phone="+85599887766", nickname="Srey")
        ref = make_referral(s, "C-0001", "health", member_id=new.id)
        pair = make_pair(s, old, new)
        return {"old": str(old.id), "new": str(new.id), "pair": str(pair.id), "ref": str(ref.id)}


def test_duplicates__list_shows_both_records_score_evidence_and_audits(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    ids = setup_member_pair(db)
    r = staff["case"].get("/api/v1/duplicates")
    assert r.status_code == 200, r.data
    (pair,) = r.get_json()
    assert pair["id"] == ids["pair"] and pair["score"] == 0.91 and pair["band"] == "strong"
    assert pair["evidence"]["codes"] == ["khmer_given_name_equal", "phone_equal"]
    assert {pair["a"]["id"], pair["b"]["id"]} == {ids["old"], ids["new"]}
    assert pair["a"]["given_name_km"] == "សុភា"  # reviewing needs the names
    assert pair["etag"]
    with db.transaction() as s:
        audited = {(a.action, a.object_id) for a in s.scalars(select(AuditEntry))}
    assert audited == {("duplicate.list", ids["old"]), ("duplicate.list", ids["new"])}


def test_duplicates__only_case_roles(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    ids = setup_member_pair(db)
    for role in ("me", "admin"):
        assert staff[role].get("/api/v1/duplicates").status_code == 403
        assert staff[role].get(f"/api/v1/duplicates/{ids['pair']}").status_code == 403
        r = staff[role].post(f"/api/v1/duplicates/{ids['pair']}/merge", json={})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "auth.forbidden"
        assert staff[role].post(f"/api/v1/members/{ids['old']}/unmerge", json={}).status_code == 403
    assert staff["child_protection"].get("/api/v1/duplicates").status_code == 200


def test_merge__needs_if_match_then_merges_and_unmerge_restores(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    ids = setup_member_pair(db)
    case = staff["case"]
    url = f"/api/v1/duplicates/{ids['pair']}"
    r = case.post(f"{url}/merge", json={})
    assert r.status_code == 428 and r.get_json()["error"]["code"] == "precondition_required"
    r = case.post(f"{url}/merge", json={}, headers={"If-Match": '"stale"'})
    assert r.status_code == 412 and r.get_json()["error"]["code"] == "precondition_failed"
    etag = case.get(url).headers["ETag"]
    r = case.post(f"{url}/merge", json={"note": "same card photo"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert body["pair"]["status"] == "merged" and body["pair"]["etag"] != etag
    event = body["merge_event"]
    assert (event["survivor_id"], event["loser_id"]) == (ids["old"], ids["new"])  # oldest survives
    # Deciding again with the old ETag: 412; with the new one: already decided (409).
    assert case.post(f"{url}/reject", headers={"If-Match": etag}).status_code == 412
    r = case.post(f"{url}/reject", headers={"If-Match": body["pair"]["etag"]})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "review.pair_decided"
    survivor = case.get(f"/api/v1/members/{ids['old']}").get_json()
    assert "Srey" in [a["value"] for a in survivor["aliases"]]
    assert "+85599887766" in [p["phone_e164"] for p in survivor["phones"]]
    assert [x["id"] for x in survivor["referrals"]] == [ids["ref"]]
    assert survivor["merged_from"] == [ids["new"]]
    loser = case.get(f"/api/v1/members/{ids['new']}").get_json()
    assert loser["merged_into_member_id"] == ids["old"] and loser["status"] == "merged"

    r = case.post(f"/api/v1/members/{ids['new']}/unmerge", json={"note": "two sisters"})
    assert r.status_code == 200, r.data
    assert r.get_json()["undone_at"]
    with db.transaction() as s:
        new = s.get(Member, uuid.UUID(ids["new"]))
        assert new.merged_into_member_id is None and new.status == "active"
        pair = s.get(CandidatePair, uuid.UUID(ids["pair"]))
        assert pair.status == PairStatus.PENDING
        entries = list(s.scalars(select(AuditEntry)))
        actions = [(a.action, a.actor_id) for a in entries]
        reasons = {a.action: a.reason for a in entries}
    assert reasons["duplicate.merge"] == "same card photo"
    assert reasons["member.unmerge"] == "two sisters"
    assert ("duplicate.merge", case.staff_id) in actions
    assert ("member.merge", case.staff_id) in actions
    assert ("member.unmerge", case.staff_id) in actions
    r = case.post(f"/api/v1/members/{ids['new']}/unmerge", json={})
    assert r.status_code in (404, 409) and r.get_json()["error"]["code"]


def test_merge__survivor_can_be_named_and_must_belong_to_the_pair(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    ids = setup_member_pair(db)
    case = staff["case"]
    url = f"/api/v1/duplicates/{ids['pair']}"
    etag = case.get(url).headers["ETag"]
    r = case.post(f"{url}/merge", json={"survivor_id": str(uuid.uuid4())}, headers={"If-Match": etag})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "request.invalid"
    r = case.post(f"{url}/merge", json={"survivor_id": "nope"}, headers={"If-Match": etag})
    assert r.status_code == 422
    r = case.post(f"{url}/merge", json={"survivor_id": ids["new"]}, headers={"If-Match": etag})
    assert r.status_code == 200, r.data
    assert r.get_json()["merge_event"]["survivor_id"] == ids["new"]


def test_reject__marks_not_the_same(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    ids = setup_member_pair(db)
    case = staff["child_protection"]
    url = f"/api/v1/duplicates/{ids['pair']}"
    etag = case.get(url).headers["ETag"]
    r = case.post(f"{url}/reject", headers={"If-Match": etag})
    assert r.status_code == 200, r.data
    assert r.get_json()["pair"]["status"] == "rejected" and r.get_json()["merge_event"] is None
    assert case.get("/api/v1/duplicates").get_json() == []
    assert [p["id"] for p in case.get("/api/v1/duplicates?status=rejected").get_json()] == [ids["pair"]]


def test_workplace_pair__listed_and_merged(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    with db.transaction() as s:
        a = make_workplace(s, "W0001", "Golden Star KTV")
        b = make_workplace(s, "W0002", "Golden Star Karaoke")
        pid = str(make_pair(s, a, b, EntityType.WORKPLACE, 0.8).id)
    case = staff["case"]
    (pair,) = case.get("/api/v1/duplicates?entity_type=workplace").get_json()
    assert {pair["a"]["workplace_code"], pair["b"]["workplace_code"]} == {"W0001", "W0002"}
    r = case.post(f"/api/v1/duplicates/{pid}/merge", headers={"If-Match": pair["etag"]})
    assert r.status_code == 200, r.data
    assert r.get_json()["pair"]["status"] == "merged"


def test_duplicates__clusters_list_records_and_filter_pairs(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    from server.sync import clusters, match

    result = match.MatchResult(score=0.6, band="possible", evidence=("name_equal",))
    with db.transaction() as s:
        wps = [make_workplace(s, f"Happy KTV {i}") for i in range(4)]
        for i in range(1, 4):
            clusters.propose(s, EntityType.WORKPLACE, wps[i].id,
                             [clusters.Proposal(w.id, result) for w in wps[:i]])
    r = staff["case"].get("/api/v1/duplicates/clusters")
    assert r.status_code == 200, r.data
    (cluster,) = r.get_json()
    assert cluster["entity_type"] == "workplace" and cluster["pending_pairs"] == 3
    assert set(cluster["record_ids"]) == {str(w.id) for w in wps}
    pairs = staff["case"].get(f"/api/v1/duplicates?cluster_id={cluster['cluster_id']}").get_json()
    assert len(pairs) == 3 and {p["cluster_id"] for p in pairs} == {cluster["cluster_id"]}
    assert staff["me"].get("/api/v1/duplicates/clusters").status_code == 403


def _statements(db: Database) -> Any:
    from sqlalchemy import event

    seen: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", count)


def test_duplicates__a_page_shows_each_record_as_its_detail_does_in_a_fixed_number_of_queries(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        for k in range(6):
            a = make_member(s, f"A{k:05d}-1", nickname=f"Nick{k}", phone=f"+8551200000{k}")
            b = make_member(s, f"B{k:05d}-2", nickname=None, phone=None)
            make_pair(s, a, b, score=0.5 + k / 100)
        w1, w2 = make_workplace(s, "W0001", "Golden Star KTV"), make_workplace(s, "W0002", "Golden Star")
        make_pair(s, w1, w2, EntityType.WORKPLACE, 0.4)
    case = staff["case"]
    case.get("/api/v1/duplicates?per_page=1")  # the staff session and caches are warm
    seen, stop = _statements(db)
    try:
        small = case.get("/api/v1/duplicates?per_page=1")
        n_small = len(seen)
        seen.clear()
        full = case.get("/api/v1/duplicates")
        n_full = len(seen)
    finally:
        stop()
    assert small.status_code == 200 and full.status_code == 200
    pairs = full.get_json()
    assert len(pairs) == 7
    # No query per pair or per record: a page of 7 pairs (both kinds) costs at most the
    # statements of a page of 1 plus one per kind of record and list.
    assert n_full <= n_small + 3, (n_small, n_full)
    for pair in pairs:
        detail = case.get(f"/api/v1/duplicates/{pair['id']}").get_json()
        assert pair == detail  # the page's lists (nicknames, phones, names) are the record's own
    shown = {p["a"]["member_code"]: p["a"] for p in pairs if p["entity_type"] == "member"}
    shown |= {p["b"]["member_code"]: p["b"] for p in pairs if p["entity_type"] == "member"}
    assert [a["value"] for a in shown["A00003-1"]["aliases"]] == ["Nick3"]
    assert [p["phone_e164"] for p in shown["A00003-1"]["phones"]] == ["+85512000003"]
    assert shown["B00003-2"]["aliases"] == [] and shown["B00003-2"]["phones"] == []
