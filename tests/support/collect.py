"""A client that talks to the OpenRosa endpoints the way ODK Collect does (protocol.md 0-1):
`deviceID` on every URL, `X-OpenRosa-Version` and a 12-hour-clock `Date` on every request,
HEAD before POST, and uploads split by the advertised budget with `*isIncomplete*` = yes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask.testing import FlaskClient
from lxml import etree
from werkzeug.test import TestResponse

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
DEFAULT_BUDGET = 10_000_000  # Collect's default when the HEAD gives no budget
MAX_FILES_PER_POST = 100


def collect_date(now: datetime | None = None) -> str:
    # Collect: SimpleDateFormat("E, dd MMM yyyy hh:mm:ss zz") - a 12-hour clock, no AM/PM.
    return (now or datetime.now(UTC)).strftime("%a, %d %b %Y %I:%M:%S GMT")


@dataclass(frozen=True)
class FormEntry:
    form_id: str
    name: str
    version: str
    hash: str
    download_url: str
    manifest_url: str | None


@dataclass(frozen=True)
class MediaEntry:
    filename: str
    hash: str
    download_url: str
    type: str | None = None


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class CollectClient:
    def __init__(self, client: FlaskClient, server_url: str, device_id: str = "collect:T3stD3v1ce"):
        self.client = client
        self.server_url = server_url.rstrip("/")
        self.device_id = device_id
        self.responses: list[TestResponse] = []

    # -- plumbing --
    def headers(self, **extra: str) -> dict[str, str]:
        headers = {
            "X-OpenRosa-Version": "1.0",
            "Date": collect_date(),
            "User-Agent": "Dalvik/2.1.0 (Linux; Android 14) org.odk.collect.android/v2025.2.3",
            "Accept-Encoding": "gzip,deflate",
        }
        headers.update(extra)
        return headers

    def url(self, url: str) -> str:
        if not urlsplit(url).scheme:
            url = f"{self.server_url}/{url.lstrip('/')}"
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}{urlencode({'deviceID': self.device_id})}"

    def request(self, method: str, url: str, **kwargs: object) -> TestResponse:
        headers = kwargs.pop("headers", None) or self.headers()
        # buffered: the body is read and the WSGI iterable closed, as a real server does
        # (that is when after-submission hooks run).
        response = self.client.open(self.url(url), method=method, headers=headers, buffered=True, **kwargs)
        self.responses.append(response)
        return response

    # -- forms --
    def form_list(self) -> list[FormEntry]:
        response = self.request("GET", "formList")
        assert response.status_code == 200, response.data
        root = etree.fromstring(response.data)
        entries = []
        for xform in root.iter(f"{XFORMS_LIST}xform"):

            def text(tag: str, xform: etree._Element = xform) -> str | None:
                el = xform.find(f"{XFORMS_LIST}{tag}")
                return el.text if el is not None else None

            entries.append(
                FormEntry(
                    form_id=text("formID") or "",
                    name=text("name") or "",
                    version=text("version") or "",
                    hash=text("hash") or "",
                    download_url=text("downloadUrl") or "",
                    manifest_url=text("manifestUrl"),
                )
            )
        return entries

    def download_form(self, entry: FormEntry) -> bytes:
        response = self.request("GET", entry.download_url)
        assert response.status_code == 200, response.data
        # Collect identifies installed forms by this MD5 (protocol.md 0.7).
        assert entry.hash == f"md5:{md5(response.data)}"
        return response.data

    def manifest(self, entry: FormEntry) -> list[MediaEntry]:
        if not entry.manifest_url:
            return []
        response = self.request("GET", entry.manifest_url)
        assert response.status_code == 200, response.data
        root = etree.fromstring(response.data)
        return [
            MediaEntry(
                filename=m.findtext(f"{MANIFEST}filename") or "",
                hash=m.findtext(f"{MANIFEST}hash") or "",
                download_url=m.findtext(f"{MANIFEST}downloadUrl") or "",
                type=m.get("type"),
            )
            for m in root.iter(f"{MANIFEST}mediaFile")
        ]

    def download_media(self, media: MediaEntry) -> bytes:
        response = self.request("GET", media.download_url)
        assert response.status_code == 200, response.data
        if media.type == "entityList":
            # Opaque to Collect (Central's is not an MD5 of the bytes either): it must be the
            # list's version as served, i.e. the ETag of the download (protocol.md 1.5).
            assert media.hash == "md5:" + response.headers["ETag"].strip('"')
        else:
            assert media.hash == f"md5:{md5(response.data)}"
        return response.data

    # -- submission --
    def head(self) -> TestResponse:
        return self.request("HEAD", "submission")

    def budget(self) -> int:
        response = self.head()
        assert response.status_code == 204, response.status_code
        return int(response.headers.get("X-OpenRosa-Accept-Content-Length") or DEFAULT_BUDGET)

    def post(
        self,
        xml: bytes,
        files: dict[str, bytes] | None = None,
        incomplete: bool = False,
        instance_file: str = "instance.xml",
    ) -> TestResponse:
        data: dict[str, object] = {
            "xml_submission_file": (io.BytesIO(xml), instance_file, "text/xml"),
        }
        for name, content in (files or {}).items():
            data[name] = (io.BytesIO(content), name, "application/octet-stream")
        if incomplete:
            data["*isIncomplete*"] = "yes"
        return self.request("POST", "submission", data=data, content_type="multipart/form-data")

    def submit(
        self, xml: bytes, files: dict[str, bytes] | None = None, budget: int | None = None
    ) -> list[TestResponse]:
        """HEAD, then POST in chunks that fit the budget; stops at the first non-201/202."""
        limit = budget or self.budget()
        chunks: list[dict[str, bytes]] = []
        current: dict[str, bytes] = {}
        size = len(xml)
        for name, content in (files or {}).items():
            if current and (size + len(content) > limit or len(current) >= MAX_FILES_PER_POST):
                chunks.append(current)
                current, size = {}, len(xml)
            current[name] = content
            size += len(content)
        chunks.append(current)
        responses = []
        for index, chunk in enumerate(chunks):
            response = self.post(xml, chunk, incomplete=index < len(chunks) - 1)
            responses.append(response)
            if response.status_code not in (201, 202):
                break
        return responses


def message(response: TestResponse) -> str:
    """The first <message> of an OpenRosaResponse, namespace-agnostic, as Collect reads it."""
    root = etree.fromstring(response.data)
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "message":
            return el.text or ""
    return ""
