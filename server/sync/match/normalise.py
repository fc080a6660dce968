"""Name and phone normalisation (domain brief 4.3): pure string functions, memoised.

Khmer names become matching tokens (zero-width and punctuation split, DA→TA, known spelling
variants, honorifics dropped); Latin names become phonetic tokens and joined keys in every
order; phones become E.164. Nothing here knows about records or the database.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from anyascii import anyascii

#: Names come from a small vocabulary, so the pure string functions below
#: (regex phonetic rules, permutations) are memoised: a bounded per-process
#: cache of immutable results, the same answer as recomputing.
_TOKEN_CACHE = 8192

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Commas and full stops appear when collectors type several names in one box.
_KHMER_SPLIT_RE = re.compile(r"[\s" + _ZERO_WIDTH + r",;/.()\"'\u17d4\u17d5]+")
_SUBSCRIPT_DA = "\u17d2\u178a"
_SUBSCRIPT_TA = "\u17d2\u178f"
KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")

#: Known spelling variants, variant → canonical. Applied as substring
#: replacements after the DA→TA mapping. Grow it from staff merges; the
#: gazetteer itself spells Chamkar Luong both ways (commune 180401 vs village
#: 18040101).
KHMER_VARIANTS: tuple[tuple[str, str], ...] = (("ហ្លួង", "ហ្លូង"),)

#: Honorifics dropped from the front of a name, but only while another token
#: remains: កញ្ញា is both "Miss" and the given name Kanha.
KHMER_HONORIFICS: frozenset[str] = frozenset({"អ្នកស្រី", "នាង", "កញ្ញា"})

_KHMER_SREY = "ស្រី"
KHMER_RE = re.compile(r"[\u1780-\u17ff]")


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def khmer_tokens(text: str | None) -> tuple[str, ...]:
    """Matching tokens of a Khmer name, in typed order (4.3 steps 1-5)."""
    if not text:
        return ()
    text = unicodedata.normalize("NFC", text)
    tokens: list[str] = []
    for raw in _KHMER_SPLIT_RE.split(text):
        if not raw:
            continue
        tok = raw.replace(_SUBSCRIPT_DA, _SUBSCRIPT_TA).translate(KHMER_DIGITS)
        for variant, canonical in KHMER_VARIANTS:
            tok = tok.replace(variant, canonical)
        tokens.append(tok)
    while len(tokens) > 1 and tokens[0] in KHMER_HONORIFICS:
        tokens.pop(0)
    return tuple(tokens)


def strip_khmer_srey(tokens: Sequence[str]) -> tuple[str, ...]:
    """Remove the "Srey" (female) prefix, which records may omit (4.3)."""
    out: list[str] = []
    for tok in tokens:
        if tok == _KHMER_SREY:
            continue
        if tok.startswith(_KHMER_SREY) and len(tok) > len(_KHMER_SREY):
            tok = tok[len(_KHMER_SREY) :]
        out.append(tok)
    return tuple(out) if out else tuple(tokens)


def junction_join(tokens: Sequence[str]) -> str:
    """Join tokens, dropping a letter doubled across a token boundary only.

    "សុខ ខា" typed with a space is a segmentation of សុខា, the Khmer mirror of
    "Sok Kha" ↔ "Sokha". This is deliberately *not* a general collapse of
    doubled letters: Khmer spellings that differ inside a word stay different.
    """
    out = ""
    for tok in tokens:
        if out and tok and out[-1] == tok[0]:
            tok = tok[1:]
        out += tok
    return out


# --- Latin ------------------------------------------------------------------------------------

#: Per-token phonetic rules, applied in order. Order matters: ``ey``/``ay``
#: must become ``ei`` before the final ``y`` rule, and doubles collapse last.
LATIN_PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    (r"gn", "nh"),  # Kagna → Kanha
    (r"j", "ch"),  # Jenda → Chenda
    (r"w", "v"),  # Wanna → Vanna
    (r"oeu", "eu"),  # Choeun → Cheun
    (r"[ea]y", "ei"),  # Srey/Srei, Chay/Chei
    (r"ie$", "i"),
    (r"y$", "i"),
    (r"ia", "ea"),  # Pia → Pea
    (r"(?<=[aeiou])r$", ""),  # Sokhar → Sokha, Sophear → Sophea
    (r"(.)\1+", r"\1"),  # Phalla → Phala
)

#: Coarse rules on top of the phonetic key, used only for candidate
#: generation (Thida ↔ Tida, Ouk ↔ Uk).
LATIN_COARSE_RULES: tuple[tuple[str, str], ...] = (
    (r"chh", "ch"),
    (r"th", "t"),
    (r"ph", "p"),
    (r"kh", "k"),
    (r"ou", "u"),
    (r"(.)\1+", r"\1"),
)

_PHONETIC = tuple((re.compile(p), r) for p, r in LATIN_PHONETIC_RULES)
_COARSE = tuple((re.compile(p), r) for p, r in LATIN_COARSE_RULES)
NON_LETTER_RE = re.compile(r"[^a-z]+")
_DOUBLE_RE = re.compile(r"(.)\1+")
_LATIN_SREY = "srei"
_MAX_NAME_TOKENS = 4


def _apply(rules: Iterable[tuple[re.Pattern[str], str]], text: str) -> str:
    for pattern, repl in rules:
        text = pattern.sub(repl, text)
    return text


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def latin_tokens(text: str | None) -> tuple[str, ...]:
    """Phonetic tokens of a Latin name, typed order kept (4.3 steps 1-2).

    Khmer letters in the input are transliterated by anyascii, which is only a
    weak cross-script key (section 6).
    """
    if not text:
        return ()
    ascii_text = anyascii(unicodedata.normalize("NFC", text)).casefold()
    raw = NON_LETTER_RE.split(ascii_text)
    return tuple(tok for tok in (_apply(_PHONETIC, r) for r in raw if r) if tok)


def latin_joined_keys(tokens: Sequence[str]) -> frozenset[str]:
    """Tokens joined in every order, doubles collapsed *after* joining.

    Collapsing after joining is what makes "Sok Kha" (sokkha → sokha) meet
    "Sokha". Names have at most four tokens; extra tokens are ignored.
    """
    return _joined_keys(tuple(tokens)[:_MAX_NAME_TOKENS])


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def _joined_keys(toks: tuple[str, ...]) -> frozenset[str]:
    if not toks:
        return frozenset()
    return frozenset(_DOUBLE_RE.sub(r"\1", "".join(p)) for p in itertools.permutations(toks))


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def latin_coarse_key(key: str) -> str:
    """Coarse form of a phonetic token or joined key (drops aspiration, ou/u)."""
    return _apply(_COARSE, key)


def coarse_parts(tokens: Sequence[str]) -> frozenset[str]:
    """Coarse joined keys of every non-empty subset of the tokens, any order.

    Lets "Sok Kha" meet "Sokha Chan" when one record omits the family name.
    """
    return _coarse_parts_of(tuple(tokens)[:_MAX_NAME_TOKENS])


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def _coarse_parts_of(toks: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for n in range(1, len(toks) + 1):
        for combo in itertools.combinations(toks, n):
            out.update(latin_coarse_key(k) for k in latin_joined_keys(combo))
    return frozenset(out)


def strip_latin_srey(tokens: Sequence[str]) -> tuple[str, ...]:
    """Give "Srey" no weight: drop it as a token or as a prefix."""
    out: list[str] = []
    for tok in tokens:
        if tok == _LATIN_SREY:
            continue
        if tok.startswith(_LATIN_SREY) and len(tok) > len(_LATIN_SREY) + 1:
            tok = tok[len(_LATIN_SREY) :]
        out.append(tok)
    return tuple(out) if out else tuple(tokens)


# --- phones -----------------------------------------------------------------------------------

_PHONE_OK_RE = re.compile(r"^0[1-9][0-9]{7,8}$")
_NON_DIGIT_RE = re.compile(r"[^0-9]+")


def normalise_phone(raw: str | None) -> str | None:
    """Cambodian phone → E.164 ``+855…``, or None when it does not validate."""
    if not raw:
        return None
    digits = _NON_DIGIT_RE.sub("", raw.translate(KHMER_DIGITS))
    for prefix in ("00855", "855"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not digits.startswith("0"):
        digits = "0" + digits
    if not _PHONE_OK_RE.match(digits):
        return None
    return "+855" + digits[1:]
