"""The duplicate review queue: GET /api/v1/duplicates[/<id>], POST .../<id>/merge and .../reject.

Reviewing needs the personal data of both records, so only the case roles may use it (every
member shown is audited). Decisions carry the pair's ETag in If-Match, so two reviewers cannot
decide the same pair on stale information (412), and a decision without it is refused (428).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api.fast_dump import FastDump
from server.api.rest import PAGE, ErrorSchema, page_of, staff_blueprint
from server.casework import duplicates, queries
from server.casework.record_lists import RecordLists, record_lists
from server.db.models.cases import CandidatePair, EntityType
from server.sync import clusters

blp = staff_blueprint("duplicates", __name__, "Probable duplicate members and workplaces for staff review.")


def pair_etag(pair: CandidatePair) -> str:
    return f'"pair-{pair.id.hex}-{pair.row_version}"'


# Built once: a schema instance (and its nested ones) is reusable, and building one per pair
# cost more than the page's queries. A page dumps about 3,500 fields: FastDump gives the
# schemas' output without marshmallow's per-field overhead.
_MEMBER_PII = FastDump(schemas.MemberPiiSchema())
_MEMBER = FastDump(schemas.MemberSchema())
_WORKPLACE = FastDump(schemas.WorkplaceSchema())
_PAIR = FastDump(schemas.PairSchema())


def pair_view(pair: CandidatePair, lists: RecordLists | None = None) -> dict[str, Any]:
    """A pair with both records dumped; members with PII (the caller audits them). `lists`:
    the records' lists read for a whole page (record_lists), else each record loads its own."""
    a, b = queries.pair_records(auth.db_session(), pair)
    if pair.entity_type == EntityType.MEMBER:
        record_schema: Any = _MEMBER_PII if auth.pii_access().granted else _MEMBER
    else:
        record_schema = _WORKPLACE

    def dump(record: Any) -> dict[str, Any] | None:
        if record is None:
            return None
        if lists is not None and record.id in lists:
            record = schemas.WithFields(record, **lists[record.id])
        return record_schema.dump(record)

    return _PAIR.dump(schemas.WithFields(pair, etag=pair_etag(pair), a=dump(a), b=dump(b)))


def audit_pairs(pairs: list[CandidatePair], action: str) -> None:
    member_ids = [i for p in pairs if p.entity_type == EntityType.MEMBER for i in (p.a_id, p.b_id)]
    if member_ids and auth.pii_access().granted:
        auth.audit(action, "member", member_ids)


def load_pair(pair_id: str) -> CandidatePair:
    pair = queries.get_pair(auth.db_session(), pair_id)
    if pair is None:
        raise errors.NotFound("There is no candidate pair with this id.")
    return pair


IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The pair's ETag, from GET /duplicates/{pair_id}",
}


def documents_if_match(func: Any) -> Any:
    """The If-Match header and the two answers about it, in the OpenAPI document."""
    func = blp.doc(parameters=[IF_MATCH_PARAMETER])(func)
    func = blp.alt_response(412, schema=ErrorSchema, description="The pair changed: reload it")(func)
    return blp.alt_response(428, schema=ErrorSchema, description="If-Match is missing")(func)


def check_if_match(pair: CandidatePair) -> None:
    sent = request.headers.get("If-Match")
    if not sent:
        raise errors.PreconditionRequired()
    if sent.strip() not in {pair_etag(pair), "W/" + pair_etag(pair)}:
        raise errors.PreconditionFailed()


@blp.route("/duplicates")
class Duplicates(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.PairQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.PairSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """Candidate pairs (default: pending), best score first, with both records and evidence."""
        rows, total = queries.list_pairs(
            auth.db_session(),
            page_of(pagination_parameters),
            status=args.get("status", "pending"),
            entity_type=args.get("entity_type"),
            cluster_id=args.get("cluster_id"),
        )
        pagination_parameters.item_count = total
        audit_pairs(rows, "duplicate.list")
        lists = record_lists(auth.db_session(), rows)
        return [pair_view(p, lists) for p in rows]


@blp.route("/duplicates/clusters")
class DuplicateClusters(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.ClusterQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.ClusterSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """Records proposed together (one common name, one place), best score first: ids and
        counts only; their pairs are GET /duplicates?cluster_id=."""
        page = page_of(pagination_parameters)
        found, total = clusters.list_clusters(
            auth.db_session(), entity_type=args.get("entity_type"), offset=page.offset,
            limit=page.limit,
        )
        pagination_parameters.item_count = total
        return schemas.ClusterSchema(many=True).dump(found)


@blp.route("/duplicates/<string:pair_id>")
class DuplicateDetail(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.alt_response(200, schema=schemas.PairSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, pair_id: str) -> Any:
        """One candidate pair; its ETag goes into If-Match of merge or reject."""
        pair = load_pair(pair_id)
        audit_pairs([pair], "duplicate.read")
        return pair_view(pair), 200, {"ETag": pair_etag(pair)}


def _decided(pair: CandidatePair, event: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    body = schemas.DecisionSchema().dump(
        {"pair": schemas.WithFields(pair, etag=pair_etag(pair)), "merge_event": event}
    )
    return body, 200, {"ETag": pair_etag(pair)}


@blp.route("/duplicates/<string:pair_id>/merge")
class DuplicateMerge(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.MergeArgsSchema, required=False)
    @blp.alt_response(200, schema=schemas.DecisionSchema, success=True)
    @documents_if_match
    def post(self, args: dict[str, Any], pair_id: str) -> Any:
        """Merge the two records (If-Match: the pair's ETag). The survivor is the oldest record
        unless `survivor_id` names one of the two. Undo with POST /members/<id>/unmerge."""
        pair = load_pair(pair_id)
        check_if_match(pair)
        event = duplicates.merge_pair(
            auth.db_session(), auth.current_staff(), pair, survivor_id=args.get("survivor_id"),
            note=args.get("note") or auth.stated_reason(), request_id=auth.request_id(),
        )
        return _decided(pair, event)


@blp.route("/duplicates/<string:pair_id>/reject")
class DuplicateReject(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.ReviewNoteSchema, required=False)
    @blp.alt_response(200, schema=schemas.DecisionSchema, success=True)
    @documents_if_match
    def post(self, args: dict[str, Any], pair_id: str) -> Any:
        """Mark the pair "not the same" (If-Match: the pair's ETag); it is never proposed again."""
        pair = load_pair(pair_id)
        check_if_match(pair)
        pair = duplicates.reject_pair(
            auth.db_session(), auth.current_staff(), pair,
            note=args.get("note") or auth.stated_reason(), request_id=auth.request_id(),
        )
        return _decided(pair, None)
