"""A common name forms one cluster for staff, not a pair per two records."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from server.db.models import CandidatePair, EntityType, PairStatus
from server.db.session import Database
from server.sync import clusters, match, review
from tests.integration.test_merge_visit import submit, visit

pytestmark = pytest.mark.usefixtures("published_forms")


def new_golden_star(db: Database) -> None:
    submit(db, visit(None, workplace_in_list="no", wp_new_name_latin="Golden Star KTV",
                     wp_new_type="karaoke", wp_commune="180101", wp_village="18010101"))


def test_same_name_registered_six_times__one_cluster_of_five_pairs(db: Database) -> None:
    for _ in range(6):
        new_golden_star(db)
    with db.sessionmaker() as s:
        pairs = s.scalars(select(CandidatePair)).all()
        # Six records, each joining the cluster once: 5 pairs, not 15.
        assert len(pairs) == 5
        assert len({p.cluster_id for p in pairs}) == 1
        found, total = clusters.list_clusters(s)
        assert total == 1
        (cluster,) = found
        assert cluster.entity_type == EntityType.WORKPLACE
        assert len(cluster.record_ids) == 6 and cluster.pending_pairs == 5
        scores = [p.score for p in clusters.cluster_pairs(s, cluster.cluster_id)]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)


def test_record_matching_two_clusters__unites_them(db: Database) -> None:
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))
    result = match.MatchResult(score=0.7, band=match.BAND_POSSIBLE, evidence=("name_equal",))
    with db.transaction() as s:
        first = clusters.propose(s, EntityType.WORKPLACE, b, [clusters.Proposal(a, result)])
        second = clusters.propose(s, EntityType.WORKPLACE, d, [clusters.Proposal(c, result)])
        assert len(first) == len(second) == 1
        # e looks like a, b (one cluster) and c (another): one pair per cluster, then one cluster.
        added = clusters.propose(s, EntityType.WORKPLACE, e, [
            clusters.Proposal(a, result), clusters.Proposal(b, result), clusters.Proposal(c, result)
        ])
        assert len(added) == 2
        assert s.scalar(select(func.count(func.distinct(CandidatePair.cluster_id)))) == 1


def test_rejected_pair_is_never_proposed_again(db: Database) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    result = match.MatchResult(score=0.7, band=match.BAND_POSSIBLE, evidence=("name_equal",))
    with db.transaction() as s:
        (pair_id,) = clusters.propose(s, EntityType.WORKPLACE, b, [clusters.Proposal(a, result)])
        review.reject_pair(s, pair_id, "staff-1")
        assert clusters.propose(s, EntityType.WORKPLACE, b, [clusters.Proposal(a, result)]) == []
        assert s.get(CandidatePair, pair_id).status == PairStatus.REJECTED


def test_plan_pairs__best_proposal_first_then_one_per_cluster() -> None:
    new, x, y, z = (uuid.uuid4() for _ in range(4))
    cl = uuid.uuid4()

    def prop(other: uuid.UUID, score: float) -> clusters.Proposal:
        return clusters.Proposal(other, match.MatchResult(score=score, band="possible", evidence=()))

    plan = clusters.plan_pairs(EntityType.MEMBER, new, [prop(x, 0.4), prop(y, 0.9), prop(z, 0.5)],
                               cluster_of={x: cl, y: cl}, decided=set())
    others = [{r["a_id"], r["b_id"]} - {new} for r in plan.rows]
    assert others == [{y}, {z}]
    assert {r["cluster_id"] for r in plan.rows} == {cl}


def test_plan_pairs__same_card_pair_is_kept_even_inside_a_joined_cluster() -> None:
    new, x, card = (uuid.uuid4() for _ in range(3))
    cl = uuid.uuid4()
    best = match.MatchResult(score=0.9, band="strong", evidence=())
    weak = match.MatchResult(score=0.2, band="possible", evidence=())
    plan = clusters.plan_pairs(EntityType.MEMBER, new, [
        clusters.Proposal(card, weak, ("same_member_code_disagreeing",), pinned=True),
        clusters.Proposal(x, best), clusters.Proposal(card, best),
    ], cluster_of={x: cl, card: cl}, decided=set())
    assert len(plan.rows) == 1
    (row,) = plan.rows
    assert card in (row["a_id"], row["b_id"])
    assert "same_member_code_disagreeing" in row["evidence"]["codes"]
