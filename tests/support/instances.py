"""Fill the primary instance of a compiled XForm with answers that satisfy the form's own
constraints, as Collect would serialise it (meta/instanceID `uuid:...`).

A small XPath subset is evaluated (comparisons, and/or/not, string-length, regex, today,
count-selected, selected, if, number/int): enough for the programme's constraints and
relevance. An expression outside the subset is treated as satisfied/relevant, and callers
can pin any field with `answers={"field_name": "value"}`.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

XF = "http://www.w3.org/2002/xforms"
H = "http://www.w3.org/1999/xhtml"
JR = "http://openrosa.org/javarosa"
NS = {"xf": XF, "h": H}

_CANDIDATES: dict[str, list[str]] = {
    "int": ["1", "2", "3", "5", "10", "16", "18", "20", "25", "30", "40", "0", "100", "2000"],
    "decimal": ["1.5", "2", "10", "0.5", "25", "100"],
    "string": ["test", "A1", "0", "012345678", "Test Name", "x"],
    "date": [],
    "dateTime": [],
    "time": ["08:30:00.000+07:00"],
    "geopoint": ["11.5564 104.9282 10 5"],
    "barcode": ["12345"],
}


@dataclass
class FormModel:
    root_template: etree._Element
    binds: dict[str, dict[str, str]]
    choices: dict[str, list[str]] = field(default_factory=dict)  # ref -> item values


def _path(el: etree._Element) -> str:
    parts = []
    while el is not None:
        parts.append(etree.QName(el).localname)
        el = el.getparent()
    return "/" + "/".join(reversed(parts))


def _csv_items(content: bytes) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def load_form(xform: bytes, media: Mapping[str, bytes] | None = None) -> FormModel:
    """`media`: the form's media files as downloaded (CSV lists feed the itemsets)."""
    root = etree.fromstring(xform)
    model = root.find("h:head/xf:model", NS)
    instances = model.findall("xf:instance", NS)
    primary = copy.deepcopy(next(iter(instances[0])))
    secondary = {inst.get("id"): inst for inst in instances[1:] if inst.get("id")}
    binds = {b.get("nodeset"): dict(b.attrib) for b in model.findall("xf:bind", NS)}
    choices: dict[str, list[str]] = {}
    for control in root.find("h:body", NS).iter(f"{{{XF}}}select1", f"{{{XF}}}select"):
        ref = control.get("ref") or ""
        values = [v.text for v in control.findall("xf:item/xf:value", NS) if v.text]
        itemset = control.find("xf:itemset", NS)
        if not values and itemset is not None:
            # instance('name')/root/item[filter]: the items of that secondary instance.
            match = re.match(r"instance\('([^']+)'\)", itemset.get("nodeset") or "")
            value_ref = itemset.find("xf:value", NS)
            key = value_ref.get("ref") if value_ref is not None else "name"
            inst = secondary.get(match.group(1)) if match else None
            if inst is not None and inst.get("src"):
                content = (media or {}).get(inst.get("src", "").rsplit("/", 1)[-1])
                values = [row.get(key) or "" for row in _csv_items(content)] if content else []
            elif inst is not None:
                values = [
                    child.text or ""
                    for item in inst.iter()
                    if isinstance(item.tag, str) and etree.QName(item).localname == "item"
                    for child in item
                    if etree.QName(child).localname == key and child.text
                ]
        choices[ref] = [v for v in values if v]
    return FormModel(primary, binds, choices)


class _Unsupported(Exception):
    pass


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op><=|>=|!=|=|<|>|\+|-|\*|,|\(|\))"
    r"|(?P<name>[A-Za-z_][\w.:-]*(?=\s*\()|div|mod|and|or)|(?P<path>\$\{\w+\}|\.\.?(?:/[\w.:-]+)*|/[\w/.:-]+))"
)


class _Eval:
    """Recursive-descent evaluator for the XPath subset (values are str or float or bool)."""

    def __init__(self, expr: str, current: str, lookup: Mapping[str, str], base_path: str):
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        expr = expr.strip()
        while pos < len(expr):
            m = _TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                raise _Unsupported(expr)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.current = current
        self.lookup = lookup
        self.base = base_path

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def run(self) -> Any:
        value = self.or_()
        if self.i != len(self.tokens):
            raise _Unsupported("trailing")
        return value

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == ("name", "or"):
            self.take()
            right = self.and_()
            left = _bool(left) or _bool(right)
        return left

    def and_(self) -> Any:
        left = self.cmp()
        while self.peek() == ("name", "and"):
            self.take()
            right = self.cmp()
            left = _bool(left) and _bool(right)
        return left

    def cmp(self) -> Any:
        left = self.add()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in {"=", "!=", "<", ">", "<=", ">="}:
            op = self.take()[1]
            right = self.add()
            left = _compare(left, op, right)
        return left

    def add(self) -> Any:
        left = self.mul()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in {"+", "-"}:
            op = self.take()[1]
            right = self.mul()
            left = _num(left) + _num(right) if op == "+" else _num(left) - _num(right)
        return left

    def mul(self) -> Any:
        left = self.unary()
        while (tok := self.peek()) and (tok == ("op", "*") or tok in {("name", "div"), ("name", "mod")}):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                left = _num(left) * _num(right)
            elif op == "div":
                left = _num(left) / _num(right)
            else:
                left = _num(left) % _num(right)
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "-"):
            self.take()
            return -_num(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]
        if kind == "op" and text == "(":
            value = self.or_()
            self.take()
            return value
        if kind == "path":
            return self.resolve(text)
        if kind == "name":
            self.take()  # (
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.or_())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.or_())
            self.take()  # )
            return _call(text, args)
        raise _Unsupported(text)

    def resolve(self, path: str) -> str:
        if path == ".":
            return self.current
        if path.startswith("${"):
            name = path[2:-1]
            return self.lookup.get(name, "")
        if path.startswith("/"):
            return self.lookup.get(path.rsplit("/", 1)[-1], "")
        if path.startswith(".."):
            return self.lookup.get(path.rsplit("/", 1)[-1], "")
        raise _Unsupported(path)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v != ""
    return bool(v)


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in {"=", "!="}:
        if isinstance(left, bool) or isinstance(right, bool):
            equal = _bool(left) == _bool(right)
        elif isinstance(left, float) or isinstance(right, float):
            equal = _num(left) == _num(right)
        else:
            equal = str(left) == str(right)
        return equal if op == "=" else not equal
    a, b = left, right
    if isinstance(a, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", a):
        a = date.fromisoformat(a).toordinal() - date(1970, 1, 1).toordinal()
    if isinstance(b, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", b):
        b = date.fromisoformat(b).toordinal() - date(1970, 1, 1).toordinal()
    x, y = _num(a), _num(b)
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _call(name: str, args: list[Any]) -> Any:
    epoch_days = date.today().toordinal() - date(1970, 1, 1).toordinal()
    if name == "string-length":
        return float(len(str(args[0])))
    if name == "regex":
        return re.search(str(args[1]), str(args[0])) is not None
    if name == "not":
        return not _bool(args[0])
    if name in {"today", "now"}:
        return float(epoch_days)
    if name in {"number", "int", "decimal-date-time"}:
        return float(int(_num(args[0]))) if name == "int" else _num(args[0])
    if name == "string":
        return str(args[0])
    if name == "if":
        return args[1] if _bool(args[0]) else args[2]
    if name == "selected":
        return str(args[1]) in str(args[0]).split()
    if name == "count-selected":
        return float(len(str(args[0]).split()))
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "date":
        v = args[0]
        if isinstance(v, str):
            return float(date.fromisoformat(v[:10]).toordinal() - date(1970, 1, 1).toordinal())
        return _num(v)
    if name == "coalesce":
        return next((a for a in args if _bool(a)), "")
    raise _Unsupported(name)


def evaluate(expr: str, current: str, lookup: Mapping[str, str], base_path: str = "") -> bool:
    """True when satisfied; expressions outside the subset count as satisfied."""
    try:
        return _bool(_Eval(expr, current, lookup, base_path).run())
    except (_Unsupported, IndexError, ValueError, ZeroDivisionError, KeyError):
        return True


def _candidates(kind: str, ref: str, model: FormModel) -> list[str]:
    if ref in model.choices:
        return model.choices[ref] or ["1"]
    today = date.today()
    if kind == "date":
        return [
            today.isoformat(),
            date(today.year - 25, 1, 15).isoformat(),
            date(today.year - 1, 6, 1).isoformat(),
            date(2000, 1, 1).isoformat(),
        ]
    if kind == "dateTime":
        return [datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+07:00")]
    return _CANDIDATES.get(kind, _CANDIDATES["string"])


def build_instance(
    xform: bytes,
    answers: Mapping[str, str] | None = None,
    media: Mapping[str, bytes] | None = None,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    *,
    xml_declaration: bool = True,
) -> bytes:
    """Fill every relevant leaf so its constraint holds; JavaRosa-like serialisation."""
    model = load_form(xform, media)
    answers = dict(answers or {})
    root = copy.deepcopy(model.root_template)
    # Repeat templates: keep one plain copy of each repeat.
    for el in list(root.iter()):
        if el.get(f"{{{JR}}}template") is not None:
            parent = el.getparent()
            twins = [s for s in parent if s.tag == el.tag and s is not el]
            if twins:
                parent.remove(el)
            else:
                del el.attrib[f"{{{JR}}}template"]
    values: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or len(el):
            continue
        ref = _path(el)
        name = etree.QName(el).localname
        bind = model.binds.get(ref, {})
        if "/meta/" in ref:
            continue
        if name in answers:
            el.text = answers[name]
            values[name] = el.text
            continue
        if bind.get("calculate") or bind.get("readonly") == "true()":
            if el.text:
                values[name] = el.text
            continue
        relevant = bind.get("relevant")
        if relevant and not evaluate(relevant, "", values, ref):
            el.text = None
            continue
        kind = (bind.get("type") or "string").split(":")[-1]
        if kind == "binary":
            continue
        constraint = bind.get("constraint")
        chosen = None
        for candidate in _candidates(kind, ref, model):
            if not constraint or evaluate(constraint, candidate, values, ref):
                chosen = candidate
                break
        el.text = chosen if chosen is not None else _candidates(kind, ref, model)[0]
        values[name] = el.text
    ns = etree.QName(root).namespace

    def tag(name: str) -> str:
        return f"{{{ns}}}{name}" if ns else name

    meta = next((c for c in root if etree.QName(c).localname == "meta"), None)
    if meta is None:
        meta = etree.SubElement(root, tag("meta"))
    for child in list(meta):
        if etree.QName(child).localname in {"instanceID", "deprecatedID"}:
            meta.remove(child)
    instance_el = etree.SubElement(meta, tag("instanceID"))
    instance_el.text = instance_id or f"uuid:{uuid.uuid4()}"
    if deprecated_id:
        dep = etree.SubElement(meta, tag("deprecatedID"))
        dep.text = deprecated_id
    for el in root.iter():
        if el.tail is not None and not el.tail.strip():
            el.tail = None
        if len(el) and el.text is not None and not el.text.strip():
            el.text = None
    return etree.tostring(root, xml_declaration=xml_declaration, encoding="UTF-8")


def instance_id_of(xml: bytes) -> str:
    root = etree.fromstring(xml)
    return next(el.text for el in root.iter() if etree.QName(el).localname == "instanceID")
