"""The request phones repeat all day: an entity list with If-None-Match, answered 304 from one
read.

One statement gives everything the list's ETag and the access rules need: the collector behind
the token (and whether it is revoked), the form's roles and state, the kind of the media file in
the form's current version, and the version of the case data. Building nothing, loading no ORM
objects: the 304 used to take three statements (collector, media, list version) through the
ORM, about two thirds of its CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, true
from sqlalchemy.orm import Session

from server.db.models import (
    CASES_LISTS,
    Collector,
    CollectorRole,
    FormMedia,
    FormState,
    ListVersion,
    MediaKind,
)
from server.sync.lists import entity_list_hash
from server.xforms import catalogue

_MEDIA = catalogue.current_media_select(FormMedia.kind).subquery()
_POLL = (
    select(
        Collector.id, Collector.name, Collector.communes, Collector.role, Collector.revoked_at,
        _MEDIA.c.roles, _MEDIA.c.state, _MEDIA.c.kind,
        select(ListVersion.version).where(ListVersion.name == CASES_LISTS).scalar_subquery(),
    )
    .select_from(Collector)
    .outerjoin(_MEDIA, true())
    .where(Collector.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class Poll:
    collector_active: bool
    etag: str | None  # the entity list's ETag; None when the file is not a usable entity list


def poll_entity_list(session: Session, token_hash: str, xml_form_id: str, filename: str) -> Poll:
    """What a conditional GET of a form's media file needs. Raises the error Collect should
    see when the collector may not use the form; `etag` None sends the caller the long way
    (static media, an unknown file: the catalogue gives the reason)."""
    row = session.execute(
        _POLL, {"token_hash": token_hash, "xml_form_id": xml_form_id, "filename": filename}
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return Poll(collector_active=False, etag=None)
    if row.kind is None or MediaKind(row.kind) != MediaKind.ENTITY_LIST:
        return Poll(collector_active=True, etag=None)
    catalogue.check_use(CollectorRole(row.role).value, row.roles, FormState(row.state))
    version = row[-1] or 0
    return Poll(True, entity_list_hash(filename, version, row.id, row.name, row.communes))
