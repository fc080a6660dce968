"""GET /api/v1/submissions[/<instance_id>]: raw submissions, their merge state and the cases
they created or updated. No XML and no answers here: those carry personal data."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth, schemas
from server.api.rest import PAGE, page_of, staff_blueprint
from server.casework import queries
from server.db.models import Submission

blp = staff_blueprint("submissions", __name__, "Raw submissions from ODK Collect and their merge state.")


def submission_dict(submission: Submission, form_id: str) -> dict[str, Any]:
    current = submission.current_version if submission.versions else None
    return {
        "id": submission.id,
        "form": form_id,
        "root_instance_id": submission.root_instance_id,
        "instance_id": current.instance_id if current else submission.root_instance_id,
        "state": str(submission.state),
        "review_state": str(submission.review_state),
        "created_at": submission.created_at,
        "updated_at": submission.updated_at,
        "versions_count": len(submission.versions),
    }


def submission_dicts(session: Any, rows: list[Submission]) -> list[dict[str, Any]]:
    forms = queries.form_ids(session, [s.form_id for s in rows])
    return [submission_dict(s, forms[s.form_id]) for s in rows]


@blp.route("/submissions")
class Submissions(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(schemas.SubmissionQuerySchema, location="query")
    @blp.alt_response(200, schema=schemas.SubmissionSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """List submissions, newest first (filter by form and state)."""
        session = auth.db_session()
        rows, total = queries.list_submissions(
            session, page_of(pagination_parameters), args.get("form"), args.get("state")
        )
        pagination_parameters.item_count = total
        return schemas.SubmissionSchema(many=True).dump(submission_dicts(session, rows))


@blp.route("/submissions/<string:instance_id>")
class SubmissionDetail(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=schemas.SubmissionDetailSchema, success=True)
    def get(self, instance_id: str) -> Any:
        """One submission by the instanceID of any of its versions: its versions, merge result and
        the cases it created or updated (child-protection cases only for that role)."""
        session = auth.db_session()
        submission = queries.get_submission(session, instance_id)
        if submission is None:
            raise errors.NotFound("There is no submission with this instanceID.")
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
        return schemas.SubmissionDetailSchema().dump(out)
