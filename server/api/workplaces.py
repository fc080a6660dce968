"""GET /api/v1/workplaces[/<id>]. Workplace names are not personal data; the referrals listed
with a workplace are filtered by role (child-protection cases only for that role)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api.rest import PAGE, page_of, staff_blueprint
from server.casework import queries
from server.db.models.cases import EntityType
from server.sync import review

blp = staff_blueprint("workplaces", __name__, "Workplaces (bars, karaoke, massage, ...) and their history.")


@blp.route("/workplaces")
class Workplaces(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(schemas.WorkplaceQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.WorkplaceSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """List workplaces by code (filter by status, village, commune)."""
        rows, total = queries.list_workplaces(
            auth.db_session(),
            page_of(pagination_parameters),
            status=args.get("status"),
            village=args.get("village"),
            commune=args.get("commune"),
            include_merged=args["include_merged"],
        )
        pagination_parameters.item_count = total
        return schemas.WorkplaceSchema(many=True).dump(rows)


@blp.route("/workplaces/<string:workplace_id>")
class WorkplaceDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=schemas.WorkplaceDetailSchema, success=True)
    def get(self, workplace_id: str) -> Any:
        """One workplace with its names over time, visits, visible referrals and provenance."""
        session = auth.db_session()
        workplace = queries.get_workplace(session, workplace_id)
        if workplace is None:
            raise errors.NotFound("There is no workplace with this id.")
        view = schemas.WithFields(
            workplace,
            referrals=queries.workplace_referrals(session, workplace, auth.current_staff().role),
            visits=queries.workplace_visits(session, workplace),
            conflicts=queries.entity_conflicts(session, EntityType.WORKPLACE, workplace.id),
            provenance=queries.provenance(session, EntityType.WORKPLACE, workplace.id),
        )
        return schemas.WorkplaceDetailSchema().dump(view)


@blp.route("/workplaces/<string:workplace_id>/conflicts/resolve")
class WorkplaceConflictsResolve(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(schemas.ReviewNoteSchema, required=False)
    @blp.alt_response(200, schema=schemas.ConflictsResolvedSchema, success=True)
    def post(self, args: dict[str, Any], workplace_id: str) -> Any:
        """Mark the workplace's open update conflicts as checked. Visits are never rejected for a
        conflict; this only clears the flag once staff have looked at the result."""
        workplace = queries.get_workplace(auth.db_session(), workplace_id)
        if workplace is None:
            raise errors.NotFound("There is no workplace with this id.")
        count = review.resolve_workplace_conflicts(
            auth.db_session(), workplace.id, auth.current_staff().name
        )
        auth.audit("workplace.conflicts.resolve", "workplace", [workplace.id], (args or {}).get("note"))
        return {"resolved": count}
