"""GET /api/v1/referrals[/<id>]: cases, with their timing against the 24-hour target, sources,
history and notes. Child-protection cases (category child_protection or restricted) exist only
for the child_protection role: other roles get them neither in lists, nor in counts, nor by id
(404, not 403, so their existence is not revealed). Notes and the reporter's code are personal
data: case roles, or admin with a reason (audited); never the `me` role."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from server import errors
from server.accounts import access
from server.api import auth
from server.api import casework_schemas as cs
from server.api.rest import PAGE, page_of, staff_blueprint
from server.casework import queries, referrals
from server.db.models import StaffUser, utcnow
from server.db.models.cases import Referral

blp = staff_blueprint("referrals", __name__, "Referrals (cases): list, detail and case management.")


def _hours(delta: Any) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def referral_row(referral: Referral, names: dict[int, str]) -> Any:
    t = referrals.referral_timing(referral, utcnow())
    timing = {"age_hours": _hours(t.age), "target_hours": t.target_hours,
              "hours_to_acknowledge": _hours(t.time_to_acknowledge), "overdue": t.overdue}
    from server.api.schemas import WithFields

    return WithFields(referral, timing=timing, etag=referrals.etag(referral),
                      assigned_to=names.get(referral.assigned_to_id or 0))


def staff_names(ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    stmt = select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(wanted))
    return dict(auth.db_session().execute(stmt).all())


def load_referral(referral_id: str) -> Referral:
    referral = queries.get_referral(auth.db_session(), referral_id, auth.current_staff().role)
    if referral is None:
        raise errors.NotFound("There is no referral with this id.")
    return referral


def referral_case(referral: Referral) -> Any:
    """The full case; notes and the reporter only with PII access (audited)."""
    session = auth.db_session()
    actor = auth.current_staff()
    pii = auth.pii_access().granted
    auth.audit("referral.read", "referral", [referral.id])
    sources = referrals.referral_sources(session, actor, referral, with_reporter=pii,
                                         reason=auth.stated_reason(), request_id=auth.request_id())
    events = referrals.history(session, referral)
    history = [{"id": e.id, "kind": e.kind.value, "from_status": e.from_status, "to_status": e.to_status,
                "note": e.note if pii else None, "detail": e.detail, "actor": e.actor.name, "at": e.at}
               for e in events]
    row = referral_row(referral, staff_names([referral.assigned_to_id]))
    from server.api.schemas import WithFields

    out = WithFields(row, sources=sources, history=history, pii_included=pii,
                     next_steps=[s.value for s in referrals.allowed_steps(referral)])
    return cs.ReferralCaseSchema().dump(out)


@blp.route("/referrals")
class Referrals(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(cs.ReferralFilterSchema, location="query")
    @blp.alt_response(200, schema=cs.ReferralRowSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """The referrals this role may see: open before closed, urgent first, oldest first.
        Filter by status, category, priority, assignee (`me` for yourself) and overdue."""
        session = auth.db_session()
        staff = auth.current_staff()
        assigned_to = None
        if args.get("assigned_to"):
            name = args["assigned_to"]
            if name == "me":
                assigned_to = staff.id
            else:
                assigned_to = session.scalar(select(StaffUser.id).where(StaffUser.name == name)) or -1
        rows, total = queries.list_referrals(
            session, page_of(pagination_parameters), staff.role, category=args.get("category"),
            status=args.get("status"), priority=args.get("priority"), assigned_to=assigned_to,
            overdue=args.get("overdue"),
        )
        pagination_parameters.item_count = total
        restricted = [r.id for r in rows if access.is_restricted_referral(r.category, r.restricted)]
        if restricted:
            auth.audit("referral.list", "referral", restricted)
        names = staff_names([r.assigned_to_id for r in rows])
        return cs.ReferralRowSchema(many=True).dump([referral_row(r, names) for r in rows])


@blp.route("/referrals/<string:referral_id>")
class ReferralDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, referral_id: str) -> Any:
        """One referral with its sources, history and next steps (404 when the role may not see
        it). Every read is audited; its ETag goes into If-Match of the actions."""
        referral = load_referral(referral_id)
        return referral_case(referral), 200, {"ETag": referrals.etag(referral)}
