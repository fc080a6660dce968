"""Submission answers, review, comments and feed:

- GET  /submissions/<instance_id>/answers?lang=km|en[&version=<instanceID>]  (codes and labels)
- POST /submissions/<instance_id>/review  {state, note}  with If-Match (the submission's ETag)
- POST /submissions/review  {instance_ids | filter, state, note}  (bulk: selected or all matching)
- GET|POST /submissions/<instance_id>/comments
- GET  /submissions/<instance_id>/feed?lang=  (versions with field diffs, reviews, comments)

Answers, notes and comments are personal data: case roles, or admin with a reason in
X-Sahakum-Reason (audited); the `me` role gets 403. Reviewing and commenting: case roles.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth
from server.api import casework_schemas as cs
from server.api.rest import staff_blueprint
from server.api.submissions import load_submission, to_filter
from server.casework import listing, submission_review
from server.casework.submission_answers import submission_answers
from server.db.models import Submission

IF_MATCH = {
    "in": "header", "name": "If-Match", "required": True, "schema": {"type": "string", "minLength": 1},
    "description": "The submission's ETag (GET /submissions/<instance_id>), or * for any version",
}

blp = staff_blueprint(
    "submission_review", __name__, "Submission answers, review states, comments and history."
)


def _require_pii() -> str | None:
    pii = auth.pii_access()
    if not pii.granted:
        raise errors.StaffForbidden(
            "Your role does not see answers (admin: give a reason in X-Sahakum-Reason)."
        )
    return auth.stated_reason()


def _etag(submission: Submission) -> str:
    session = auth.db_session()
    return submission_review.review_etag(submission, submission_review.last_review_id(session, submission))


@blp.route("/submissions/<instance_id:instance_id>/answers")
class SubmissionAnswers(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(cs.AnswersQuerySchema, location="query")
    @blp.alt_response(200, schema=cs.AnswersSchema, success=True)
    def get(self, args: dict[str, Any], instance_id: str) -> Any:
        """The answers with the form's labels in Khmer (default) or English: groups, repeats as
        rows, choice codes with their labels, attachment names. Every read is audited."""
        reason = _require_pii()
        submission = load_submission(instance_id)
        version = submission.current_version
        if args.get("version"):
            version = next((v for v in submission.versions if v.instance_id == args["version"]), None)
            if version is None:
                raise errors.NotFound("This submission has no version with this instanceID.")
        nodes = submission_answers(auth.db_session(), auth.current_staff(), submission, args["lang"],
                                   version, reason=reason, request_id=auth.request_id())
        return cs.AnswersSchema().dump({"instance_id": version.instance_id, "lang": args["lang"],
                                        "answers": nodes})


@blp.route("/submissions/<instance_id:instance_id>/review")
class SubmissionReviewResource(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.ReviewArgsSchema)
    @blp.alt_response(200, schema=cs.ReviewResultSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    @blp.doc(parameters=[IF_MATCH])
    @blp.alt_response(412, description="If-Match is not the submission's current ETag")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, args: dict[str, Any], instance_id: str) -> Any:
        """Set the review state (has_issues, approved, rejected) with a note (required for
        has_issues and rejected). Send the submission's ETag in If-Match."""
        session = auth.db_session()
        submission = load_submission(instance_id)
        auth.check_if_match(_etag(submission))
        n = submission_review.set_review_state(session, auth.current_staff(), [submission.id], args["state"],
                                               args.get("note"), request_id=auth.request_id())
        etag = _etag(submission)
        body = {"reviewed": n, "review_state": str(submission.review_state), "etag": etag}
        return cs.ReviewResultSchema().dump(body), 200, {"ETag": etag}


@blp.route("/submissions/review")
class BulkReview(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.BulkReviewArgsSchema)
    @blp.alt_response(200, schema=cs.ReviewResultSchema, success=True)
    def post(self, args: dict[str, Any]) -> Any:
        """Review many submissions at once: the selected `instance_ids`, or every submission
        matching `filter` (as in GET /submissions; at most 10,000). Each one is audited."""
        session = auth.db_session()
        actor = auth.current_staff()
        if "filter" in args:
            n = submission_review.review_matching(session, actor, to_filter(args["filter"]), args["state"],
                                                  args.get("note"), request_id=auth.request_id())
        else:
            ids = []
            for iid in args["instance_ids"]:
                found = listing.get_visible(session, actor.role, iid)
                if found is None:
                    raise errors.NotFound("There is no submission with this instanceID.")
                ids.append(found.id)
            n = submission_review.set_review_state(session, actor, ids, args["state"], args.get("note"),
                                                   request_id=auth.request_id())
        return cs.ReviewResultSchema().dump({"reviewed": n, "review_state": args["state"]})


@blp.route("/submissions/<instance_id:instance_id>/comments")
class SubmissionComments(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=cs.CommentSchema(many=True), success=True)
    def get(self, instance_id: str) -> Any:
        """Staff comments, oldest first (personal data: audited)."""
        reason = _require_pii()
        submission = load_submission(instance_id)
        rows = submission_review.comments(auth.db_session(), submission)
        auth.audit("submission.comments.read", "submission", [submission.id], reason)
        return cs.CommentSchema(many=True).dump([{"actor": c.actor.name, "text": c.body, "at": c.at}
                                                 for c in rows])

    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.CommentArgsSchema)
    @blp.alt_response(201, schema=cs.CommentSchema, success=True)
    def post(self, args: dict[str, Any], instance_id: str) -> Any:
        """Add a comment (no names: it is shown to every case worker)."""
        submission = load_submission(instance_id)
        comment = submission_review.add_comment(auth.db_session(), auth.current_staff(), submission,
                                                args["text"], request_id=auth.request_id())
        body = {"actor": comment.actor.name, "text": comment.body, "at": comment.at}
        return cs.CommentSchema().dump(body), 201


@blp.route("/submissions/<instance_id:instance_id>/feed")
class SubmissionFeed(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(cs.LangSchema, location="query")
    @blp.alt_response(200, schema=cs.FeedEntrySchema(many=True), success=True)
    def get(self, args: dict[str, Any], instance_id: str) -> Any:
        """What happened to the submission, oldest first: received, each edit with the fields it
        changed (old -> new, with labels), review decisions with their notes, comments."""
        reason = _require_pii()
        submission = load_submission(instance_id)
        auth.audit("submission.feed.read", "submission", [submission.id], reason)
        feed = submission_review.submission_feed(auth.db_session(), submission, args["lang"])
        return cs.FeedEntrySchema(many=True).dump(feed)
