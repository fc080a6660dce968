"""GET /api/v1/referrals[/<id>]: cases. Child-protection cases (category child_protection or
restricted) exist only for the child_protection role: other roles get them neither in lists,
nor in counts, nor by id (404, not 403, so their existence is not revealed)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api.rest import PAGE, page_of, staff_blueprint
from server.casework import queries

blp = staff_blueprint("referrals", __name__, "Referrals (cases), filtered by role.")


@blp.route("/referrals")
class Referrals(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(schemas.ReferralQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.ReferralSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """List the referrals this role may see, newest first. Restricted reads are audited."""
        role = auth.current_staff().role
        rows, total = queries.list_referrals(
            auth.db_session(),
            page_of(pagination_parameters),
            role,
            category=args.get("category"),
            status=args.get("status"),
            priority=args.get("priority"),
        )
        pagination_parameters.item_count = total
        restricted = [r.id for r in rows if access.is_restricted_referral(r.category, r.restricted)]
        if restricted:
            auth.audit("referral.list", "referral", restricted)
        return schemas.ReferralSchema(many=True).dump(rows)


@blp.route("/referrals/<string:referral_id>")
class ReferralDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=schemas.ReferralSchema, success=True)
    def get(self, referral_id: str) -> Any:
        """One referral (404 when the role may not see it). Every read is audited."""
        referral = queries.get_referral(auth.db_session(), referral_id, auth.current_staff().role)
        if referral is None:
            raise errors.NotFound("There is no referral with this id.")
        auth.audit("referral.read", "referral", [referral.id])
        return schemas.ReferralSchema().dump(referral)
