"""A submission's answers with the form's own labels, in Khmer or English. Pure: bytes in, values out.

The compiled XForm carries everything needed (ODK XForms spec): ``itext`` translations per
language (``Khmer (km)``, ``English (en)``), ``bind`` types, and the body's controls, groups and
repeats with their labels; choice lists are inline secondary instances (``instance('yes_no')``
items with an ``itextId``) or static ``<item>`` lists. Lists read from a CSV file
(``jr://file-csv/villages.csv``) or an entity list are not in the form: such answers carry
``options_from`` (the instance id) so the caller can look their labels up.

The walk follows the primary instance template, so fields without a control (calculates,
``start``) keep their place; ``meta`` is left out (its ids are shown elsewhere), and so are
notes (read-only texts with no value) and groups with nothing answered in them.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field

from lxml import etree

from server.sync.parse import safe_parser

XF = "http://www.w3.org/2002/xforms"
H = "http://www.w3.org/1999/xhtml"
JR = "http://openrosa.org/javarosa"
_ITEXT_REF = re.compile(r"jr:itext\(\s*'([^']+)'\s*\)")
_INSTANCE_REF = re.compile(r"instance\(\s*'([^']+)'\s*\)")
_CONTROLS = {"input", "select1", "select", "upload", "range", "trigger", "rank"}
LANGUAGES = ("km", "en")


@dataclass
class AnswerNode:
    kind: str  # "field" | "group" | "repeat"
    name: str
    path: str  # /data/g/field; repeat rows numbered from 1: /data/g/r[2]/field
    label: str | None
    value: str | None = None  # the raw answer: a code, codes separated by spaces, text
    value_label: str | None = None  # choice label(s) in the language, ", "-joined
    type: str = "string"  # bind type (string, int, date, select1, select, binary, ...)
    media: str | None = None  # attachment file name for image/audio/file questions
    options_from: str | None = None  # external list (CSV or entity list) the labels come from
    children: list[AnswerNode] = field(default_factory=list)
    rows: list[list[AnswerNode]] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        if self.kind == "field":
            return bool(self.value)
        if self.kind == "repeat":
            return bool(self.rows)
        return any(c.answered for c in self.children)


@dataclass(frozen=True)
class _Control:
    tag: str
    label: dict[str, str]  # lang -> text
    choices: dict[str, dict[str, str]]  # lang -> {code: label}
    options_from: str | None


@dataclass(frozen=True)
class FormSpec:
    template: etree._Element  # the primary instance's root element
    types: dict[str, str]  # bind nodeset -> type
    readonly_notes: frozenset[str]  # read-only fields without a calculate: notes
    controls: dict[str, _Control]  # ref/nodeset -> control, group or repeat


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _lang_code(lang_attr: str) -> str:
    """'Khmer (km)' -> 'km'; a bare 'en' stays 'en'."""
    m = re.search(r"\(([A-Za-z-]+)\)\s*$", lang_attr)
    return (m.group(1) if m else lang_attr).lower()


def _flat_text(el: etree._Element) -> str:
    """Label text with <output/> references shown as '…' (their values are elsewhere)."""
    parts = [el.text or ""]
    for child in el:
        if _local(child) == "output":
            parts.append("…")
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _itext(model: etree._Element) -> tuple[dict[str, dict[str, str]], str | None]:
    """lang code -> {text id: plain text}, and the default language."""
    out: dict[str, dict[str, str]] = {}
    default = None
    for tr in model.iter(f"{{{XF}}}translation"):
        code = _lang_code(tr.get("lang", ""))
        if tr.get("default"):
            default = code
        texts = out.setdefault(code, {})
        for text in tr.iter(f"{{{XF}}}text"):
            for value in text.iter(f"{{{XF}}}value"):
                if value.get("form") is None:  # image/audio forms are media, not text
                    texts[text.get("id", "")] = _flat_text(value)
    return out, default


def _label(el: etree._Element, itext: dict[str, dict[str, str]]) -> dict[str, str]:
    label = el.find(f"{{{XF}}}label")
    if label is None:
        return {}
    ref = label.get("ref") or ""
    m = _ITEXT_REF.search(ref)
    if m:
        return {lang: texts[m.group(1)] for lang, texts in itext.items() if m.group(1) in texts}
    text = _flat_text(label)
    return {lang: text for lang in (*itext, *LANGUAGES)} if text else {}


def _secondary_choices(
    model: etree._Element, itext: dict[str, dict[str, str]]
) -> dict[str, dict[str, dict[str, str]]]:
    """Inline secondary instances: instance id -> lang -> {code: label}."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for inst in model.iter(f"{{{XF}}}instance"):
        iid = inst.get("id")
        if not iid or inst.get("src"):
            continue
        by_lang: dict[str, dict[str, str]] = {lang: {} for lang in itext}
        for item in inst.iter(f"{{{XF}}}item"):
            name = item.findtext(f"{{{XF}}}name")
            text_id = item.findtext(f"{{{XF}}}itextId")
            plain = item.findtext(f"{{{XF}}}label")
            if name is None:
                continue
            for lang, texts in itext.items():
                by_lang[lang][name] = texts.get(text_id or "", plain or name)
        out[iid] = by_lang
    return out


def _control(
    el: etree._Element,
    itext: dict[str, dict[str, str]],
    secondary: dict[str, dict[str, dict[str, str]]],
) -> _Control:
    choices: dict[str, dict[str, str]] = {}
    options_from = None
    for item in el.findall(f"{{{XF}}}item"):
        value = item.findtext(f"{{{XF}}}value") or ""
        for lang, text in _label(item, itext).items():
            choices.setdefault(lang, {})[value] = text
    itemset = el.find(f"{{{XF}}}itemset")
    if itemset is not None:
        m = _INSTANCE_REF.search(itemset.get("nodeset", ""))
        if m and m.group(1) in secondary:
            choices = secondary[m.group(1)]
        elif m:
            options_from = m.group(1)
    return _Control(_local(el), _label(el, itext), choices, options_from)


def _walk_body(
    parent: etree._Element,
    itext: dict[str, dict[str, str]],
    secondary: dict[str, dict[str, dict[str, str]]],
    controls: dict[str, _Control],
) -> None:
    for el in parent:
        tag = _local(el)
        ref = el.get("ref") or el.get("nodeset")
        if tag in _CONTROLS and ref:
            controls[ref] = _control(el, itext, secondary)
        elif tag in ("group", "repeat"):
            if ref:
                # pyxform wraps a repeat in a group with the same ref that carries the label.
                outer = controls.get(ref)
                label = _label(el, itext) or (outer.label if outer else {})
                controls[ref] = _Control(tag, label, {}, None)
            _walk_body(el, itext, secondary, controls)


@functools.lru_cache(maxsize=32)
def _spec_cached(digest: str, form_xml: bytes) -> FormSpec:
    root = etree.fromstring(form_xml, parser=safe_parser())
    model = root.find(f".//{{{XF}}}model")
    body = root.find(f"{{{H}}}body")
    if model is None or body is None:
        raise ValueError("not an XForm: no model or body")
    itext, _default = _itext(model)
    if not itext:
        itext = {lang: {} for lang in LANGUAGES}
    primary = next(inst for inst in model.iter(f"{{{XF}}}instance") if inst.get("id") is None)
    template = next(iter(primary))
    types: dict[str, str] = {}
    notes: set[str] = set()
    for bind in model.iter(f"{{{XF}}}bind"):
        nodeset = bind.get("nodeset", "")
        types[nodeset] = bind.get("type", "string")
        if bind.get("readonly") == "true()" and not bind.get("calculate"):
            notes.add(nodeset)
    controls: dict[str, _Control] = {}
    _walk_body(body, itext, _secondary_choices(model, itext), controls)
    return FormSpec(template, types, frozenset(notes), controls)


def form_spec(form_xml: bytes) -> FormSpec:
    """The parsed form, cached by content (forms are immutable once published)."""
    return _spec_cached(hashlib.sha256(form_xml).hexdigest(), form_xml)


def _pick(texts: dict[str, str], lang: str) -> str | None:
    return texts.get(lang) or next(iter(texts.values()), None)


def _choice_label(control: _Control | None, value: str | None, type_: str, lang: str) -> str | None:
    if control is None or not value or not control.choices:
        return None
    choices = control.choices.get(lang) or next(iter(control.choices.values()))
    codes = value.split() if control.tag == "select" or type_ == "select" else [value]
    return ", ".join(choices.get(code, code) for code in codes)


class _Reader:
    def __init__(self, spec: FormSpec, lang: str) -> None:
        self.spec = spec
        self.lang = lang

    def children(self, tpl: etree._Element, data: etree._Element | None, tpl_path: str,
                 data_path: str) -> list[AnswerNode]:
        nodes: list[AnswerNode] = []
        seen: set[str] = set()
        for child_tpl in tpl:
            name = _local(child_tpl)
            if not name or name in seen or (tpl_path.count("/") == 1 and name == "meta"):
                continue
            seen.add(name)
            path, dpath = f"{tpl_path}/{name}", f"{data_path}/{name}"
            found = [] if data is None else [c for c in data if _local(c) == name]
            node = self.node(child_tpl, found, path, dpath, name)
            if node is not None:
                nodes.append(node)
        return nodes

    def node(self, tpl: etree._Element, found: list[etree._Element], path: str, dpath: str,
             name: str) -> AnswerNode | None:
        control = self.spec.controls.get(path)
        label = _pick(control.label, self.lang) if control else None
        if control is not None and control.tag == "repeat":
            rows = [self.children(tpl, row, path, f"{dpath}[{i}]") for i, row in enumerate(found, 1)]
            return AnswerNode("repeat", name, dpath, label, rows=rows)
        if len(tpl) > 0:
            group = AnswerNode("group", name, dpath, label,
                               children=self.children(tpl, found[0] if found else None, path, dpath))
            return group if group.answered else None
        if path in self.spec.readonly_notes and control is not None:
            return None
        value = (found[0].text or "").strip() or None if found else None
        if control is None and value is None:
            return None
        type_ = self.spec.types.get(path, "string")
        if control is not None and control.tag == "select":
            type_ = "select"
        elif control is not None and control.tag == "select1":
            type_ = "select1"
        media = value if (type_ == "binary" or (control and control.tag == "upload")) else None
        return AnswerNode("field", name, dpath, label, value, _choice_label(control, value, type_, self.lang),
                          type_, media, control.options_from if control else None)


def read_answers(form_xml: bytes, instance_xml: bytes, lang: str) -> list[AnswerNode]:
    """The answers of one submission version as a tree, labelled in `lang` ("km" or "en")."""
    spec = form_spec(form_xml)
    data = etree.fromstring(instance_xml, parser=safe_parser())
    root_path = "/" + _local(spec.template)
    return _Reader(spec, lang).children(spec.template, data, root_path, root_path)


def walk_fields(nodes: list[AnswerNode]) -> list[AnswerNode]:
    """Every field in document order, repeat rows included (for diffs and label lookups)."""
    out: list[AnswerNode] = []
    for node in nodes:
        if node.kind == "field":
            out.append(node)
        elif node.kind == "group":
            out.extend(walk_fields(node.children))
        else:
            for row in node.rows:
                out.extend(walk_fields(row))
    return out


def split_bilingual(label: str, lang: str) -> str:
    """Static list labels are written "ខ្មែរ / English" (forms/media/*.csv): pick one side."""
    if " / " not in label:
        return label
    km, _, en = label.partition(" / ")
    return en.strip() if lang == "en" else km.strip()
