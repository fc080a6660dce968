"""Collector accounts: URL tokens (stored hashed), lookup, revocation, Collect set-up QR codes.

Collect is configured with a server URL that carries the token in its path (Central's app-user
style, protocol.md 0.8): no password prompt on shared phones. An unknown or revoked token gets
403, never 401 (a 401 would make Collect ask for a user name and password).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server import errors
from server.accounts.tokens import NAME_RE, generate_token, hash_token, well_formed
from server.db.models import Collector, CollectorRole, utcnow

PROJECT_NAME = "Sahakum"


def parse_communes(raw: str | None) -> str:
    """'010203, 010204 010205' -> '010203 010204 010205'."""
    return " ".join(dict.fromkeys(c for c in re.split(r"[\s,]+", raw or "") if c))


def _checked_area(communes: str) -> str:
    """The account's area (issue 9 item 1): its lists are cut to it, so none is refused."""
    from server.sync.area_lists import unknown_communes

    codes = parse_communes(communes)
    if not codes:
        raise errors.CollectorAreaMissing()
    unknown = unknown_communes(codes.split())
    if unknown:
        raise errors.CollectorCommuneUnknown(
            f"Unknown commune code {unknown[0]}: use the 6-digit codes of "
            "forms/media/communes.csv.")
    return codes


def create_collector(
    session: Session, name: str, role: str, communes: str = "", *, replace: bool = False
) -> tuple[Collector, str]:
    """A new account and its token (returned once, never stored in clear).

    With `replace`, an existing account of that name gets a new token instead (the old phone
    set-up stops working at once); its past submissions stay linked to the same account."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise errors.CollectorNameInvalid()
    existing = session.scalars(select(Collector).where(Collector.name == name)).one_or_none()
    if existing is not None and replace and not parse_communes(communes):
        communes = existing.communes  # re-enrolling a phone keeps the account's area
    communes = _checked_area(communes)
    token = generate_token()
    if existing is not None:
        if not replace:
            raise errors.CollectorNameTaken()
        existing.role = CollectorRole(role)
        existing.token_hash = hash_token(token)
        existing.communes = parse_communes(communes)
        existing.revoked_at = None
        session.flush()
        return existing, token
    collector = Collector(
        name=name,
        role=CollectorRole(role),
        token_hash=hash_token(token),
        communes=parse_communes(communes),
    )
    session.add(collector)
    session.flush()
    return collector, token


# Built once (every Collect request runs it); never cached by result: a revoked or replaced
# token must stop working on the next request.
_BY_TOKEN_HASH = select(Collector).where(Collector.token_hash == bindparam("token_hash"))


def find_active_collector(session: Session, token: str) -> Collector | None:
    """The active account for a URL token, or None (unknown, malformed or revoked)."""
    if not well_formed(token):
        return None
    collector = session.scalars(_BY_TOKEN_HASH, {"token_hash": hash_token(token)}).one_or_none()
    if collector is None or not collector.active:
        return None
    return collector


def revoke_collector(session: Session, name: str) -> Collector:
    collector = session.scalars(select(Collector).where(Collector.name == name)).one_or_none()
    if collector is None:
        raise errors.CollectorNotFound()
    if collector.revoked_at is None:
        collector.revoked_at = utcnow()
        session.flush()
    return collector


def list_collectors(session: Session) -> list[Collector]:
    return list(session.scalars(select(Collector).order_by(Collector.name)))


def server_url(base_url: str, token: str) -> str:
    """What Collect is given: it appends /formList and /submission itself."""
    return f"{base_url.rstrip('/')}/v1/key/{token}"


@dataclass(frozen=True)
class CollectSettings:
    server_url: str
    project_name: str = PROJECT_NAME

    def as_dict(self) -> dict[str, Any]:
        """Collect's settings JSON. Key names from getodk/collect `ProjectKeys.kt`,
        `ProtectedProjectKeys.kt` and the project keys (`name`, `icon`, `color`)."""
        return {
            "general": {
                "server_url": self.server_url,
                "protocol": "odk_default",
                # Safe defaults for shared phones: nothing personal lingers after sending.
                "delete_send": True,
                "form_update_mode": "match_exactly",
                "periodic_form_updates_check": "every_fifteen_minutes",
                "autosend": "wifi_and_cellular",
                "constraint_behavior": "on_swipe",
                "analytics": False,
            },
            "admin": {
                "edit_saved": False,
                "view_sent": False,
                "change_server": False,
                "change_autosend": False,
                "delete_after_send": False,
                "change_form_metadata": False,
                "form_update_mode": False,
            },
            "project": {"name": self.project_name, "icon": "S", "color": "#1f6f5c"},
        }

    def qr_payload(self) -> str:
        """Collect's QR format: base64 of zlib-deflated JSON."""
        raw = json.dumps(self.as_dict(), separators=(",", ":")).encode("utf-8")
        return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode_qr_payload(payload: str) -> dict[str, Any]:
    return json.loads(zlib.decompress(base64.b64decode(payload)))
