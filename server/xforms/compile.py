"""Compile an XLSForm with pyxform, treating every warning as an error."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

XF = "http://www.w3.org/2002/xforms"
HTML = "http://www.w3.org/1999/xhtml"
ENTITIES_NS = "http://www.opendatakit.org/xforms/entities"
ODK_VALIDATE_JAR = (
    Path(__import__("pyxform").__file__).parent / "validators/odk_validate/bin/ODK_Validate.jar"
)


class FormCompileError(Exception):
    """The XLSForm does not compile cleanly; the message says why."""


@dataclass(frozen=True)
class EntityDeclaration:
    dataset: str
    create: bool
    update: bool
    properties: tuple[str, ...]


@dataclass(frozen=True)
class CompiledForm:
    form_id: str
    version: str
    title: str
    xml: bytes
    media_files: tuple[str, ...]
    entities: tuple[EntityDeclaration, ...] = field(default=())
    encrypted: bool = False

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml, usedforsecurity=False).hexdigest()


def compile_xlsform(path: Path | str) -> CompiledForm:
    """XLSForm file -> compiled XForm. pyxform warnings are errors (domain.md 1.3)."""
    path = Path(path)
    warnings: list[str] = []
    try:
        result = convert(xlsform=str(path), warnings=warnings, pretty_print=True)
    except PyXFormError as exc:
        raise FormCompileError(f"{path.name}: {exc}") from None
    if warnings:
        raise FormCompileError(f"{path.name}: pyxform warnings: " + "; ".join(warnings))
    return inspect_xform(result.xform.encode("utf-8"))


def inspect_xform(xml: bytes) -> CompiledForm:
    """Read identity, media and entity declarations out of a compiled XForm."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"h": HTML, "xf": XF, "e": ENTITIES_NS}
    title_el = root.find("h:head/h:title", ns)
    model = root.find("h:head/xf:model", ns)
    if model is None:
        raise FormCompileError("not an XForm: no model")
    instances = model.findall("xf:instance", ns)
    primary = next(iter(instances[0]), None) if instances else None
    if primary is None:
        raise FormCompileError("not an XForm: no primary instance")
    form_id = primary.get("id") or ""
    version = primary.get("version") or ""
    media: list[str] = []
    for inst in instances[1:]:
        src = inst.get("src") or ""
        if src.startswith("jr://file-csv/") or src.startswith("jr://file/"):
            media.append(src.rsplit("/", 1)[-1])
    # Images and audio referenced from translations (jr://images/x.png, jr://audio/x.mp3).
    for value in root.iter(f"{{{XF}}}value"):
        text = (value.text or "").strip()
        if value.get("form") in {"image", "audio", "video", "big-image"} and text.startswith("jr://"):
            media.append(text.rsplit("/", 1)[-1])
    entities: list[EntityDeclaration] = []
    # The primary instance is in the XForms default namespace, so the tag is {XF}entity.
    for ent in primary.iter(f"{{{XF}}}entity", "entity"):
        dataset = ent.get("dataset") or ""
        props = tuple(
            sorted(
                {
                    b.get(f"{{{ENTITIES_NS}}}saveto") or ""
                    for b in model.findall("xf:bind", ns)
                    if b.get(f"{{{ENTITIES_NS}}}saveto")
                }
            )
        )
        entities.append(
            EntityDeclaration(
                dataset=dataset,
                create=ent.get("create") is not None,
                update=ent.get("update") is not None,
                properties=props,
            )
        )
    submission = model.find("xf:submission", ns)
    encrypted = submission is not None and bool(submission.get("base64RsaPublicKey"))
    return CompiledForm(
        form_id=form_id,
        version=version,
        title=(title_el.text or form_id) if title_el is not None else form_id,
        xml=xml,
        media_files=tuple(dict.fromkeys(media)),
        entities=tuple(entities),
        encrypted=encrypted,
    )


def odk_validate(xml: bytes, timeout: float = 120) -> None:
    """Run ODK Validate (JavaRosa, the engine inside Collect). Raises FormCompileError."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as fh:
        fh.write(xml)
        fh.flush()
        proc = subprocess.run(
            ["java", "-Djava.awt.headless=true", "-jar", str(ODK_VALIDATE_JAR), fh.name],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise FormCompileError("ODK Validate failed: " + (proc.stderr or proc.stdout).strip())
