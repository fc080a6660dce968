"""GET /api/v1/submissions[/<instance_id>]: the filtered submission list and one submission's
record (versions, merge state, review state, cases). Answers are at .../answers (personal data).

Submissions that raised a child-protection referral exist only for the child_protection role
(404 for others, as for the referral itself)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api import casework_schemas as cs
from server.api.rest import PAGE, page_of, staff_blueprint
from server.casework import listing, queries
from server.casework.submission_review import last_review_id, review_etag
from server.db.models import ReviewState, Submission

blp = staff_blueprint(
    "submissions", __name__, "Raw submissions from ODK Collect, their merge and review state."
)


def submission_dict(submission: Submission, form_id: str) -> dict[str, Any]:
    current = submission.current_version if submission.versions else None
    return {
        "id": submission.id,
        "form": form_id,
        "root_instance_id": submission.root_instance_id,
        "instance_id": current.instance_id if current else submission.root_instance_id,
        "state": str(submission.state),
        "review_state": str(submission.review_state),
        "counted_in_reports": submission.review_state != ReviewState.REJECTED,
        "created_at": submission.created_at,
        "updated_at": submission.updated_at,
        "versions_count": len(submission.versions),
    }


def submission_dicts(session: Any, rows: list[Submission]) -> list[dict[str, Any]]:
    forms = queries.form_ids(session, [s.form_id for s in rows])
    return [submission_dict(s, forms[s.form_id]) for s in rows]


def row_dict(row: listing.SubmissionRow) -> dict[str, Any]:
    s = row.submission
    return {
        "id": s.id, "form": row.form_id, "root_instance_id": s.root_instance_id,
        "instance_id": row.instance_id, "state": str(s.state), "review_state": str(s.review_state),
        "counted_in_reports": s.review_state != ReviewState.REJECTED,
        "created_at": s.created_at, "updated_at": s.updated_at,
        "collector": row.collector, "collector_code": row.collector_code, "event_date": row.event_date,
        "commune": row.commune, "has_alert": row.has_alert,
    }


def to_filter(args: dict[str, Any]) -> listing.SubmissionFilter:
    return listing.SubmissionFilter(
        form_id=args.get("form"), collector=args.get("collector"), commune=args.get("commune"),
        event_from=args.get("event_from"), event_to=args.get("event_to"),
        review_state=args.get("review_state"), has_alert=args.get("has_alert"), state=args.get("state"),
        to_correct=args.get("to_correct"),
    )


def load_submission(instance_id: str) -> Submission:
    submission = listing.get_visible(auth.db_session(), auth.current_staff().role, instance_id)
    if submission is None:
        raise errors.NotFound("There is no submission with this instanceID.")
    return submission


@blp.route("/submissions")
class Submissions(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(cs.SubmissionFilterSchema, location="query")
    @blp.alt_response(200, schema=cs.SubmissionRowSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """List submissions, newest first, filtered by form, collector, commune, event date range,
        review state, merge state and alert. The total is capped at 10,000 (`10000` means more)."""
        result = listing.list_submissions(auth.db_session(), auth.current_staff().role, to_filter(args),
                                          page_of(pagination_parameters))
        pagination_parameters.item_count = result.total
        return cs.SubmissionRowSchema(many=True).dump([row_dict(r) for r in result.rows])


@blp.route("/submissions/<instance_id:instance_id>")
class SubmissionDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=schemas.SubmissionDetailSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, instance_id: str) -> Any:
        """One submission by the instanceID of any of its versions: its versions, merge result,
        review state and the cases it created or updated. The ETag goes into If-Match of a review."""
        session = auth.db_session()
        submission = load_submission(instance_id)
        form = queries.form_ids(session, [submission.form_id])[submission.form_id]
        merged = next((v for v in submission.versions if v.id == submission.merged_version_id), None)
        out = submission_dict(submission, form) | {
            "versions": submission.versions,
            "merge": {
                "state": str(submission.state),
                "merged_version_instance_id": merged.instance_id if merged else None,
                "merged_at": submission.merged_at,
                "attempts": submission.merge_attempts,
                "error": submission.merge_error,
            },
            "cases": queries.submission_cases(session, submission, auth.current_staff().role),
        }
        etag = review_etag(submission, last_review_id(session, submission))
        return schemas.SubmissionDetailSchema().dump(out), 200, {"ETag": etag}
