"""Where attachments live: the local data folder (default) or S3-compatible object storage.

One interface for every place that writes or reads an attachment (intake, the staff download,
backups), so several app servers can share object storage while a single server keeps the
plain folder. Files are streamed both ways: uploads from the temporary file the request was
spooled to (boto3's managed multipart upload, reading each part from disk as it goes),
downloads as a file-like stream read piece by piece.

``SAHAKUM_STORAGE_URL=s3://bucket/prefix`` selects object storage; boto3 reads the endpoint and
credentials from the usual variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``). Object names are the generated
``stored_name`` (never the client's file name), so a key says nothing about anyone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlparse

ATTACHMENTS_DIR = "attachments"
PART_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FileMove:
    source: Path  # the spooled upload (local temporary file)
    stored_name: str  # generated; never the client's name or path


class AttachmentStore(Protocol):
    def place(self, moves: Sequence[FileMove]) -> list[FileMove]:
        """Store the uploads under their generated names; durable when it returns (the rows
        pointing at them are committed next). Returns what was placed, for `unplace`."""

    def unplace(self, placed: Sequence[FileMove]) -> None:
        """The commit failed: undo `place` so a retry (or the cleanup) finds the uploads."""

    def open(self, stored_name: str) -> IO[bytes] | None:
        """A stream of the file (the caller closes it), or None if it is missing."""

    def names(self) -> Iterator[str]:
        """Every stored name (backups)."""

    def fetch(self, stored_name: str, target: Path) -> None:
        """Copy a stored file to a local path (backups), streamed."""

    def restore(self, source: Path, stored_name: str) -> None:
        """Store a local file under its name, keeping the local one (restores)."""


class LocalStore:
    """The data folder: renames the spooled upload into place and fsyncs the folder."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / ATTACHMENTS_DIR

    def place(self, moves: Sequence[FileMove]) -> list[FileMove]:
        self.folder.mkdir(parents=True, exist_ok=True)
        placed = []
        for move in moves:
            os.replace(move.source, self.folder / move.stored_name)
            placed.append(move)
        if placed:
            self._sync_folder()
        return placed

    def _sync_folder(self) -> None:
        # The rows about to be committed must never point at a file a power cut could lose.
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unplace(self, placed: Sequence[FileMove]) -> None:
        for move in placed:
            target = self.folder / move.stored_name
            if target.exists():
                os.replace(target, move.source)

    def open(self, stored_name: str) -> IO[bytes] | None:
        try:
            return open(self.folder / stored_name, "rb")
        except FileNotFoundError:
            return None

    def names(self) -> Iterator[str]:
        if self.folder.is_dir():
            yield from sorted(p.name for p in self.folder.iterdir() if p.is_file())

    def fetch(self, stored_name: str, target: Path) -> None:
        shutil.copy2(self.folder / stored_name, target)

    def restore(self, source: Path, stored_name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, self.folder / stored_name)


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph, Garage, ...) through boto3."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        from boto3.s3.transfer import TransferConfig

        # boto3 reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... from the environment.
        self.client = client or boto3.client("s3")
        # 8 MiB parts, two at a time.
        self.transfer = TransferConfig(
            multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=2
        )

    def key(self, stored_name: str) -> str:
        return f"{self.prefix}{ATTACHMENTS_DIR}/{stored_name}"

    def place(self, moves: Sequence[FileMove]) -> list[FileMove]:
        placed = []
        for move in moves:
            # From the spooled file's path: boto3 then reads each part from disk as it sends it
            # (upload_fileobj would buffer up to ten parts in memory). The temporary file is
            # removed with the request's other uploads once the rows are committed.
            self._upload(move.source, move.stored_name)
            placed.append(move)
        return placed

    def unplace(self, placed: Sequence[FileMove]) -> None:
        for move in placed:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(move.stored_name))

    def open(self, stored_name: str) -> IO[bytes] | None:
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.key(stored_name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        return reply["Body"]  # botocore's StreamingBody: read() in pieces, close()

    def names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = self.key("")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                yield item["Key"][len(start):]

    def fetch(self, stored_name: str, target: Path) -> None:
        self.client.download_file(self.bucket, self.key(stored_name), str(target), Config=self.transfer)

    def restore(self, source: Path, stored_name: str) -> None:
        self._upload(source, stored_name)

    def _upload(self, source: Path, stored_name: str) -> None:
        self.client.upload_file(str(source), self.bucket, self.key(stored_name), Config=self.transfer)


class StorageUrlError(ValueError):
    """SAHAKUM_STORAGE_URL is not usable; the message is one line naming it."""


def parse_storage_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of an s3://bucket/prefix URL."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StorageUrlError(f"SAHAKUM_STORAGE_URL must look like s3://bucket/prefix, got {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def make_store(data_dir: Path, storage_url: str | None) -> AttachmentStore:
    if not storage_url:
        return LocalStore(data_dir)
    bucket, prefix = parse_storage_url(storage_url)
    return S3Store(bucket, prefix)
