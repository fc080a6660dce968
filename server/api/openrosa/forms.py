"""Form list, form and media downloads, manifests and the entity-list integrity check.

Which forms a collector may use is decided in server/xforms/catalogue.py; the lists phones
download are built, versioned and hashed in server/sync/lists.py. Entity lists are answered 304
from their version alone (one small read), before anything is built; a full download streams
the body stored for that version (server/sync/list_store.py), built once.
"""

from __future__ import annotations

import mimetypes
import os
from urllib.parse import quote

from flask import Response, request
from lxml import etree
from lxml.builder import ElementMaker
from werkzeug.wsgi import wrap_file

from server import errors
from server.accounts.tokens import hash_token
from server.api.openrosa.protocol import (
    XML_CONTENT_TYPE,
    cache_headers,
    collector,
    conditional,
    database,
    not_modified,
    openrosa,
    session,
    settings,
    token,
    url_prefix,
    xml_response,
)
from server.db.models import MediaKind
from server.sync import list_poll, list_store, lists
from server.xforms import catalogue

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
MAX_INTEGRITY_IDS = 5000  # bounds the work one request can ask for


def _role() -> str:
    return collector().role.value


def _form_url(xml_form_id: str) -> str:
    return f"{url_prefix()}/forms/{quote(xml_form_id, safe='')}"


@openrosa.get("/formList")
def form_list() -> Response:
    """OpenRosa form discovery (protocol.md 1.3). Closing and closed forms are not listed."""
    E = ElementMaker(namespace=XFORMS_LIST_NS, nsmap={None: XFORMS_LIST_NS})
    root = E.xforms()
    for form, version in catalogue.listed_forms(session(), _role(), request.args.get("formID")):
        form_url = _form_url(form.xml_form_id)
        entry = E.xform(
            E.formID(form.xml_form_id),
            E.name(version.title or form.xml_form_id),
            E.version(version.version),
            E.hash(f"md5:{version.md5}"),
            E.downloadUrl(f"{form_url}.xml"),
        )
        if version.media:
            entry.append(E.manifestUrl(f"{form_url}/manifest"))
        root.append(entry)
    return xml_response(root)


@openrosa.get("/forms/<xml_form_id>.xml")
def form_xml(xml_form_id: str) -> Response:
    version = catalogue.current_version(catalogue.usable_form(session(), _role(), xml_form_id))
    # ETag = the md5 announced in formList, which is the MD5 of exactly these bytes.
    return conditional(version.xml, XML_CONTENT_TYPE, etag=version.md5)


@openrosa.get("/forms/<xml_form_id>/versions/<version>.xml")
def form_version_xml(xml_form_id: str, version: str) -> Response:
    row = catalogue.version_of(catalogue.usable_form(session(), _role(), xml_form_id), version)
    return conditional(row.xml, XML_CONTENT_TYPE, etag=row.md5)


@openrosa.get("/forms/<xml_form_id>/manifest")
def manifest(xml_form_id: str) -> Response:
    """OpenRosa manifest (protocol.md 1.5). Media hashes are the MD5 of their bytes; an entity
    list's hash is its version (opaque to Collect, as Central's), so no list is built here."""
    form = catalogue.usable_form(session(), _role(), xml_form_id)
    version = catalogue.current_version(form)
    prefix = f"{_form_url(form.xml_form_id)}/attachments"
    E = ElementMaker(namespace=MANIFEST_NS, nsmap={None: MANIFEST_NS})
    root = E.manifest()
    for media in version.media:
        entry = E.mediaFile(
            E.filename(media.filename),
            E.hash(f"md5:{lists.media_hash(session(), collector(), media)}"),
            E.downloadUrl(f"{prefix}/{quote(media.filename, safe='')}"),
        )
        if media.kind == MediaKind.ENTITY_LIST:
            # Collect keeps offline-created entities until the integrity URL says they are
            # gone; the attribute and the URL are both required for entity lists (OR-list).
            entry.set("type", "entityList")
            dataset = quote(catalogue.dataset_name(media.filename), safe="")
            entry.append(E.integrityUrl(f"{url_prefix()}/datasets/{dataset}/integrity"))
        root.append(entry)
    return xml_response(root)


@openrosa.get("/datasets/<dataset>/integrity")
def entity_list_integrity(dataset: str) -> Response:
    """Which of the requested entities are deleted (protocol.md 1.8), for the entity lists of
    the forms this collector can download. Collect asks only about ids it created offline."""
    if dataset not in catalogue.readable_entity_lists(session(), _role()):
        raise lists.list_not_found()
    ids = [i.strip() for i in request.args.get("id", "").split(",") if i.strip()]
    deleted = lists.entity_integrity(session(), dataset, ids[:MAX_INTEGRITY_IDS])
    entities = etree.Element("entities")
    for entity_id, is_deleted in deleted.items():
        entity = etree.SubElement(entities, "entity", id=entity_id)
        etree.SubElement(entity, "deleted").text = "true" if is_deleted else "false"
    root = etree.Element("data")
    root.append(entities)
    return xml_response(root)


@openrosa.get("/forms/<xml_form_id>/attachments/<filename>")
def media_file(xml_form_id: str, filename: str) -> Response:
    if request.if_none_match:
        # Phones poll their entity lists: answer an unchanged one from one read.
        poll = list_poll.poll_entity_list(session(), hash_token(token()), xml_form_id, filename)
        if not poll.collector_active:
            raise errors.CollectorUnknown()
        unchanged = not_modified(poll.etag) if poll.etag is not None else None
        if unchanged is not None:
            return unchanged
    media = catalogue.usable_media(session(), _role(), xml_form_id, filename)
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    content_type = "text/csv; charset=utf-8" if filename.endswith(".csv") else guessed
    if media.kind == MediaKind.ENTITY_LIST:
        etag = lists.media_hash(session(), collector(), media)
        unchanged = not_modified(etag)
        if unchanged is not None:
            return unchanged
        return _stored_list(media.filename, etag, content_type)
    return conditional(lists.media_bytes(session(), collector(), media), content_type)


def _stored_list(filename: str, etag: str, content_type: str) -> Response:
    """The entity list's body, built once per ETag (server/sync/list_store.py), streamed."""
    account = collector()

    def build() -> bytes:
        # Built in one transaction (on PostgreSQL room to sort in memory), after the version
        # was read: a change committed in between is in the body too and only makes the next
        # poll fetch again; a body is never older than its ETag.
        with database().session() as tx:
            return lists.build_list(tx, account, filename)

    body = list_store.open_body(settings().instance_dir, filename, account.id, etag, build)
    response = Response(
        wrap_file(request.environ, body), status=200, content_type=content_type,
        direct_passthrough=True,
    )
    response.content_length = body.seek(0, os.SEEK_END)
    body.seek(0)
    return cache_headers(response, etag)
