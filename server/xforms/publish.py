"""Publish compiled XLSForms as versioned rows. Versions are rows, never overwrites."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import Blob, Form, FormMedia, FormState, FormVersion, MediaKind
from server.xforms.compile import CompiledForm, FormCompileError, compile_xlsform

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

# Which collector roles see which form in their form list (domain.md 1.1).
FORM_ROLES: dict[str, str] = {
    "member_intake": "peer_educator",
    "workplace_visit": "peer_educator",
    "village_data": "village",
}

# Lists the server builds per collector from the case database instead of a static file.
GENERATED_MEDIA: dict[str, MediaKind] = {
    "members.csv": MediaKind.ENTITY_LIST,
    "workplaces.csv": MediaKind.ENTITY_LIST,
    "collectors.csv": MediaKind.COLLECTOR_LIST,
    # The account's area (server.sync.area_lists).
    "area_communes.csv": MediaKind.COLLECTOR_LIST,
    "area_villages.csv": MediaKind.COLLECTOR_LIST,
}


class PublishStatus(enum.StrEnum):
    CREATED = "created"
    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    MEDIA_UPDATED = "media_updated"


@dataclass(frozen=True)
class PublishResult:
    xml_form_id: str
    version: str
    status: PublishStatus


def version_key(version: str) -> tuple[int, int, str]:
    """YYYYMMDDNN versions compare as numbers; anything else as text, after all numbers."""
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def default_form_paths(forms_dir: Path = FORMS_DIR) -> list[Path]:
    return sorted(p for p in forms_dir.glob("*.xlsx") if not p.name.startswith("~$"))


def _blob(session: Session, content: bytes) -> Blob:
    sha = hashlib.sha256(content).hexdigest()
    blob = session.get(Blob, sha)
    if blob is None:
        blob = Blob(
            sha256=sha,
            md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
            size=len(content),
            content=content,
        )
        session.add(blob)
    return blob


def _media_rows(session: Session, compiled: CompiledForm, media_dir: Path) -> list[FormMedia]:
    rows = []
    for filename in compiled.media_files:
        kind = GENERATED_MEDIA.get(filename)
        if kind is not None:
            rows.append(FormMedia(filename=filename, kind=kind))
            continue
        path = media_dir / filename
        if not path.is_file():
            raise errors.FormInvalid(f"{compiled.form_id}: media file {filename} is missing from {media_dir}")
        rows.append(
            FormMedia(filename=filename, kind=MediaKind.STATIC, blob=_blob(session, path.read_bytes()))
        )
    return rows


def _same_media(version: FormVersion, rows: list[FormMedia]) -> bool:
    old = {(m.filename, m.kind, m.blob_sha256) for m in version.media}
    new = {(m.filename, m.kind, m.blob.sha256 if m.blob else None) for m in rows}
    return old == new


def publish_compiled(
    session: Session, compiled: CompiledForm, media_dir: Path, source_sha256: str = ""
) -> PublishResult:
    """Store `compiled` as a new version if it changed. Flushes; the caller commits."""
    form = session.scalars(
        select(Form).where(Form.xml_form_id == compiled.form_id).with_for_update()
    ).one_or_none()
    media = _media_rows(session, compiled, media_dir)
    if form is None:
        form = Form(
            xml_form_id=compiled.form_id,
            title=compiled.title,
            state=FormState.OPEN,
            roles=FORM_ROLES.get(compiled.form_id, ""),
        )
        session.add(form)
        status = PublishStatus.CREATED
    else:
        latest = form.current_version
        if latest is not None and latest.md5 == compiled.md5:
            if _same_media(latest, media):
                return PublishResult(form.xml_form_id, latest.version, PublishStatus.UNCHANGED)
            # Same form, new list content: Collect re-downloads media by hash, no new version.
            latest.media.clear()
            session.flush()
            latest.media.extend(media)
            session.flush()
            return PublishResult(form.xml_form_id, latest.version, PublishStatus.MEDIA_UPDATED)
        known = {v.version for v in form.versions}
        if latest is not None and (
            compiled.version in known or version_key(compiled.version) <= version_key(latest.version)
        ):
            raise errors.FormVersionNotIncreased(
                f"{compiled.form_id}: the form changed but version {compiled.version} is not "
                f"greater than the published {latest.version}. Raise `version` in the settings sheet."
            )
        form.title = compiled.title
        status = PublishStatus.NEW_VERSION
    form.versions.append(
        FormVersion(
            version=compiled.version,
            title=compiled.title,
            xml=compiled.xml,
            md5=compiled.md5,
            source_sha256=source_sha256 or hashlib.sha256(compiled.xml).hexdigest(),
            media=media,
        )
    )
    session.flush()
    return PublishResult(form.xml_form_id, compiled.version, status)


def publish_xlsform(session: Session, path: Path, media_dir: Path | None = None) -> PublishResult:
    try:
        compiled = compile_xlsform(path)
    except FormCompileError as exc:
        raise errors.FormInvalid(str(exc)) from None
    source_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return publish_compiled(session, compiled, media_dir or path.parent / "media", source_sha)


def set_form_state(session: Session, xml_form_id: str, state: FormState) -> Form:
    form = session.scalars(select(Form).where(Form.xml_form_id == xml_form_id)).one_or_none()
    if form is None:
        raise errors.FormUnknown(f"No form {xml_form_id!r} is published.")
    form.state = state
    session.flush()
    return form
