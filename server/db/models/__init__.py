"""All SQLAlchemy models; importing this module registers every table on Base.metadata."""

from server.db.models.base import Base, UTCDateTime, new_uuid, utcnow
from server.db.models.collectors import Collector, CollectorRole
from server.db.models.forms import Blob, Form, FormMedia, FormState, FormVersion, MediaKind
from server.db.models.submissions import (
    Attachment,
    RejectedCopy,
    ReviewState,
    Submission,
    SubmissionState,
    SubmissionVersion,
)

__all__ = [
    "Attachment",
    "Base",
    "Blob",
    "Collector",
    "CollectorRole",
    "Form",
    "FormMedia",
    "FormState",
    "FormVersion",
    "MediaKind",
    "RejectedCopy",
    "ReviewState",
    "Submission",
    "SubmissionState",
    "SubmissionVersion",
    "UTCDateTime",
    "new_uuid",
    "utcnow",
]
