"""Maintain the km and en message catalogues: ``python -m server.web.catalogs``.

Extracts every ``_()``/``gettext``/``lazy_gettext``/``_l`` string from ``server/`` (Python and
the Jinja templates), merges the new ones into ``translations/{km,en}/LC_MESSAGES/messages.po``
(translations already there are kept), compiles the ``.mo`` files next to them (they are
committed, so an installed copy needs no build step) and lists the strings still without a
Khmer translation (the test suite fails while any are left).
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

WEB_DIR = Path(__file__).parent
SERVER_DIR = WEB_DIR.parent
TRANSLATIONS = WEB_DIR / "translations"
LANGUAGES = ("km", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("**.py", "python"), ("web/templates/**.html", "jinja2")]


def extract() -> list[str]:
    """Every message id in the code and templates, sorted."""
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SERVER_DIR), METHODS, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return sorted(i for i in ids if i)


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="Sahakum")
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def compiled(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> list[str]:
    """Merge, write and compile both catalogues; returns ids lacking a Khmer translation."""
    ids = extract()
    missing: list[str] = []
    for lang in LANGUAGES:
        old = read_catalog(lang)
        new = Catalog(locale=lang, project="Sahakum", version="0.1")
        for msgid in ids:
            previous = old.get(msgid)
            text = previous.string if previous is not None and isinstance(previous.string, str) else ""
            new.add(msgid, text)
            if lang == "km" and not text:
                missing.append(msgid)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, new, no_location=True, sort_output=True, width=100)
        with path.open("rb") as fh:
            path.with_suffix(".mo").write_bytes(compiled(read_po(fh, locale=lang)))
    return missing


def main() -> int:
    missing = update()
    for msgid in missing:
        print(f"no Khmer translation yet: {msgid!r}", file=sys.stderr)
    print(f"catalogues updated; {len(missing)} string(s) without a Khmer translation")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
