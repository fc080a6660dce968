"""A stored submission's answers, labelled, with the labels of CSV and entity lists looked up.

Reading answers is reading personal data (names, phones, dates of birth in member_intake): the
caller must have checked the role (``access.pii_access``); every read is audited here, so the
web page and the JSON API cannot forget it.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.staff import audit
from server.casework.answers import AnswerNode, read_answers, split_bilingual, walk_fields
from server.db.models import Blob, FormMedia, FormVersion, MediaKind, StaffUser, Submission, SubmissionVersion
from server.db.models.cases import Member, Workplace
from server.sync import area_lists


def _csv_labels(session: Session, form_version_id: int, instance: str, lang: str,
                codes: set[str]) -> dict[str, str]:
    if f"{instance}.csv" in area_lists.AREA_LISTS:  # generated per account from the gazetteer
        area = area_lists.labels(f"{instance}.csv", codes)
        return {name: split_bilingual(label, lang) for name, label in area.items()}
    sha = session.scalar(
        select(FormMedia.blob_sha256)
        .where(FormMedia.form_version_id == form_version_id, FormMedia.filename == f"{instance}.csv",
               FormMedia.kind == MediaKind.STATIC)
    )
    if sha is None:
        return {}
    labels = _csv_file_labels(sha, session.scalar(select(Blob.content).where(Blob.sha256 == sha))
                              if sha not in _csv_cache else None)
    return {name: split_bilingual(label, lang) for name, label in labels.items() if name in codes}


# Parsed label columns of list CSVs by content hash. Blobs are immutable, so an entry never goes
# stale; parsing the villages list (14,000 rows) on every detail page cost ~400 ms.
_csv_cache: dict[str, dict[str, str]] = {}
_CSV_CACHE_MAX = 32


def _csv_file_labels(sha: str, content: bytes | None) -> dict[str, str]:
    cached = _csv_cache.get(sha)
    if cached is not None:
        return cached
    labels = {
        row["name"]: row["label"]
        for row in csv.DictReader(io.StringIO((content or b"").decode("utf-8-sig")))
        if row.get("name") and row.get("label")
    }
    if len(_csv_cache) >= _CSV_CACHE_MAX:
        _csv_cache.pop(next(iter(_csv_cache), ""), None)  # oldest; safe if another thread won
    _csv_cache[sha] = labels
    return labels


def _uuids(codes: Iterable[str]) -> list[uuid.UUID]:
    out = []
    for code in codes:
        try:
            out.append(uuid.UUID(code))
        except ValueError:
            continue
    return out


def _entity_labels(session: Session, instance: str, codes: set[str]) -> dict[str, str]:
    """Workplaces by entity id -> code and sign name; members -> their pseudonymous code only."""
    ids = _uuids(codes)
    if not ids:
        return {}
    if instance == "workplaces":
        return {str(w.id): f"{w.workplace_code} {w.display_name}"
                for w in session.scalars(select(Workplace).where(Workplace.id.in_(ids)))}
    if instance == "members":
        return {str(mid): code for mid, code in session.execute(
            select(Member.id, Member.member_code).where(Member.id.in_(ids))) if code}
    return {}


def label_external(session: Session, form_version_id: int, nodes: list[AnswerNode], lang: str) -> None:
    """Fill `value_label` of answers chosen from a CSV file or an entity list."""
    wanted: dict[str, set[str]] = {}
    fields = [f for f in walk_fields(nodes) if f.options_from and f.value]
    for f in fields:
        wanted.setdefault(f.options_from or "", set()).update((f.value or "").split())
    labels = {
        instance: _entity_labels(session, instance, codes)
        or _csv_labels(session, form_version_id, instance, lang, codes)
        for instance, codes in wanted.items()
    }
    for f in fields:
        found = labels.get(f.options_from or "", {})
        parts = [found.get(code) for code in (f.value or "").split()]
        if any(parts):
            f.value_label = ", ".join(p or c for p, c in zip(parts, (f.value or "").split(), strict=True))


def version_answers(session: Session, version: SubmissionVersion, lang: str) -> list[AnswerNode]:
    """Answers of one version, no audit (for diffs inside an already audited read)."""
    form_xml = session.scalar(select(FormVersion.xml).where(FormVersion.id == version.form_version_id))
    if form_xml is None or version.encrypted:
        return []
    nodes = read_answers(form_xml, version.xml, lang)
    label_external(session, version.form_version_id, nodes, lang)
    return nodes


def submission_answers(
    session: Session,
    actor: StaffUser,
    submission: Submission,
    lang: str,
    version: SubmissionVersion | None = None,
    reason: str | None = None,
    request_id: str | None = None,
) -> list[AnswerNode]:
    """The answers of the current (or the given) version, in `lang`; audited as a read."""
    version = version or submission.current_version
    audit(session, actor, "submission.read", "submission", [submission.id], reason=reason,
          request_id=request_id)
    return version_answers(session, version, lang)
