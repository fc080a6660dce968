"""GET /api/v1/members[/<id>] and POST /api/v1/members/<id>/unmerge.

Names, nicknames, phones, date of birth and origin are in the response only when
``accounts.access.pii_access`` grants them, and each such read is audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api.member_schemas import MemberPiiHistorySchema
from server.api.rest import PAGE, page_of, staff_blueprint
from server.api.submissions import submission_dicts
from server.casework import duplicates, member_cases, queries
from server.db.models.cases import EntityType, Member

blp = staff_blueprint("members", __name__, "Network members (personal data only for case roles).")


def dump_members(members: list[Member], action: str) -> list[dict[str, Any]]:
    """Members as the current role may see them; audits the PII read (one entry per member)."""
    if auth.pii_access().granted:
        auth.audit(action, "member", [m.id for m in members])
        return schemas.MemberPiiSchema(many=True).dump(members)
    return schemas.MemberSchema(many=True).dump(members)


@blp.route("/members")
class Members(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(schemas.MemberQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.MemberPiiSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """List members by member code. PII fields only for case roles (audited)."""
        session = auth.db_session()
        rows, total = queries.list_members(
            session,
            page_of(pagination_parameters),
            status=args.get("status"),
            code=args.get("code"),
            include_merged=args["include_merged"],
        )
        pagination_parameters.item_count = total
        return dump_members(rows, "member.list")


def load_member(member_id: str) -> Member:
    member = queries.get_member(auth.db_session(), member_id)
    if member is None:
        raise errors.NotFound("There is no member with this id.")
    return member


@blp.route("/members/<string:member_id>")
class MemberDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=MemberPiiHistorySchema, success=True)
    def get(self, member_id: str) -> Any:
        """One member with its submissions, aliases, phones, provenance, every referral and
        visit that names her, her sector history, and merges."""
        session = auth.db_session()
        member = load_member(member_id)
        role = auth.current_staff().role
        related = {
            "submissions": submission_dicts(session, queries.member_submissions(session, member)),
            "referrals": member_cases.member_referrals(session, member, role),
            "merged_from": queries.merged_from(session, member),
            "merge_events": queries.member_merge_events(session, member),
            "provenance": queries.provenance(session, EntityType.MEMBER, member.id),
        }
        if auth.pii_access().granted:
            related["visits"] = member_cases.member_visits(session, member)
            related["sectors"] = member_cases.member_sectors(session, member)
            auth.audit("member.read", "member", [member.id])
            return MemberPiiHistorySchema().dump(schemas.WithFields(member, **related))
        view = schemas.WithFields(member, **related)
        return schemas.MemberDetailSchema().dump(view)


@blp.route("/members/<string:member_id>/unmerge")
class MemberUnmerge(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.ReviewNoteSchema, required=False)
    @blp.alt_response(200, schema=schemas.MergeEventSchema, success=True)
    def post(self, args: dict[str, Any], member_id: str) -> Any:
        """Undo the latest merge this member took part in (as survivor or merged record): both
        records, aliases, phones, referrals and the review pair return to their earlier state."""
        member = load_member(member_id)
        event = duplicates.unmerge_member(
            auth.db_session(), auth.current_staff(), member,
            note=args.get("note") or auth.stated_reason(), request_id=auth.request_id(),
        )
        return schemas.MergeEventSchema().dump(event)
