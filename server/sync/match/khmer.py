"""Khmer-aware name similarity: a phonetic skeleton, a distance over it, and a romanisation.

Two spellings of one Khmer name often still differ after the 4.3 normalisation (issue 12):
a final consonant doubled by a subscript (ល័ក / ល័ក្ខ), a doubled subscript (វណា / វណ្ណា), a
long or short vowel (ុ / ូ, ិ / ី), a register mark (ម៉ៅ / មៅ). The **skeleton** writes a token
as sounds, so such variants become equal:

* consonants → their place of articulation, aspiration and register folded
  (ក ខ គ ឃ → ``K``; ច ឆ ជ ឈ → ``C``; ដ ឌ → ``D``; ត ថ ទ ធ ឋ ឍ → ``T``; ណ ន → ``N``;
  ប ផ ព ភ → ``P``; ល ឡ → ``L``; ស ឝ ឞ → ``S``);
* a subscript of the same class as the consonant it hangs under is dropped (ណ្ណ, ក្ខ, ល្ល);
  a subscript that ends the token is dropped too (final cluster: ល័ក្ខ → ល័ក);
* final consonants fold by how they sound unreleased: stops by place (ក ខ គ ឃ → ``K``,
  ច ជ ត ថ ទ ធ ដ → ``T``, ប ផ ព ភ → ``P``); a final រ is silent and dropped; a consonant
  silenced by ៍ (toandakhiat) is dropped;
* vowel length folded (ិ ី → ``i``; ុ ូ → ``u``; ឹ ឺ → ``e``; ួ ូ ↔ ``u``; េ ែ → ``e``;
  ោ ៅ → ``o``); register and shortening marks (៉ ៊ ់ ័ ៏ ៌) dropped;
* repeated sounds collapse.

It is **not** the same as equal: សុភា and សុភាព still differ by a final ព (example 3), which
the skeleton keeps, so an edit distance of 1 is "close", not "equal". The combiner weighs the
levels separately (equal key, equal skeleton, one edit apart).

:func:`romanise` turns a Khmer token into informal Latin with a documented table (domain 6:
no maintained offline package does personal names; ``khmer-latin-name-transformer`` needs
420 MB of pynini). Consonants take their common informal spelling; a vowel sign has one
spelling for each consonant series (a-series / o-series, flipped by ៉ and ៊), e.g. ា is
``a`` after ក and ``ea`` after ន. The result is compared through the Latin phonetic keys and a
consonant frame (:func:`latin_frame`), never as strong evidence.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

_COENG = "\u17d2"
# consonant → (skeleton class, onset Latin, final Latin, series 1 = a / 2 = o)
CONSONANTS: dict[str, tuple[str, str, str, int]] = {
    "ក": ("K", "k", "k", 1), "ខ": ("K", "kh", "k", 1), "គ": ("K", "k", "k", 2),
    "ឃ": ("K", "kh", "k", 2), "ង": ("G", "ng", "ng", 2), "ច": ("C", "ch", "ch", 1),
    "ឆ": ("C", "chh", "ch", 1), "ជ": ("C", "ch", "ch", 2), "ឈ": ("C", "chh", "ch", 2),
    "ញ": ("Y", "nh", "nh", 2), "ដ": ("D", "d", "t", 1), "ឋ": ("T", "th", "t", 1),
    "ឌ": ("D", "d", "t", 2), "ឍ": ("T", "th", "t", 2), "ណ": ("N", "n", "n", 1),
    "ត": ("T", "t", "t", 1), "ថ": ("T", "th", "t", 1), "ទ": ("T", "t", "t", 2),
    "ធ": ("T", "th", "t", 2), "ន": ("N", "n", "n", 2), "ប": ("P", "b", "p", 1),
    "ផ": ("P", "ph", "p", 1), "ព": ("P", "p", "p", 2), "ភ": ("P", "ph", "p", 2),
    "ម": ("M", "m", "m", 2), "យ": ("J", "y", "y", 2), "រ": ("R", "r", "", 2),
    "ល": ("L", "l", "l", 2), "វ": ("V", "v", "v", 2), "ឝ": ("S", "s", "s", 1),
    "ឞ": ("S", "s", "s", 1), "ស": ("S", "s", "s", 1), "ហ": ("H", "h", "h", 1),
    "ឡ": ("L", "l", "l", 1), "អ": ("", "", "", 1),
}  # fmt: skip
#: Final consonants as heard (unreleased stops fold by place; final រ is silent).
FINAL_CLASS: dict[str, str] = {"K": "K", "C": "T", "D": "T", "T": "T", "P": "P", "R": ""}
# vowel sign → (skeleton class, Latin after an a-series, after an o-series consonant)
VOWELS: dict[str, tuple[str, str, str]] = {
    "ា": ("a", "a", "ea"), "ិ": ("i", "e", "i"), "ី": ("i", "ei", "i"),
    "ឹ": ("e", "oe", "eu"), "ឺ": ("e", "eu", "eu"), "ុ": ("u", "o", "u"),
    "ូ": ("u", "ou", "u"), "ួ": ("u", "uo", "uo"), "ើ": ("e", "aeu", "eu"),
    "ឿ": ("e", "oea", "oea"), "ៀ": ("i", "ie", "ie"), "េ": ("e", "e", "e"),
    "ែ": ("e", "ae", "ae"), "ៃ": ("a", "ai", "ey"), "ោ": ("o", "ao", "o"),
    "ៅ": ("o", "ao", "ov"), "ំ": ("m", "am", "um"), "ះ": ("", "ah", "eah"),
    "ៈ": ("", "a", "ea"),
}  # fmt: skip
# independent vowels (treated as a vowel with no consonant)
INDEPENDENT: dict[str, str] = {
    "ឥ": "e", "ឦ": "ei", "ឧ": "o", "ឩ": "ou", "ឪ": "au", "ឫ": "rue", "ឬ": "rue",
    "ឭ": "lue", "ឮ": "lue", "ឯ": "ae", "ឰ": "ai", "ឱ": "ao", "ឲ": "ao", "ឳ": "au",
    "ឣ": "a", "ឤ": "a",
}  # fmt: skip
_SERIES_FLIP = "\u17c9\u17ca"  # ៉ muusikatoan, ៊ triisap
_SILENCER = "\u17cd"  # ៍ toandakhiat: the consonant under it is not pronounced
_ROBAT = "\u17cc"
_INHERENT = ("a", "o")


@functools.lru_cache(maxsize=8192)
def khmer_skeleton(token: str) -> str:
    """Phonetic skeleton of one normalised Khmer token (see the module docstring)."""
    out: list[str] = []
    last_cons = ""  # class of the last consonant written (for doubled subscripts)
    i, n = 0, len(token)
    while i < n:
        ch = token[i]
        if ch == _COENG and i + 1 < n:
            sub = CONSONANTS.get(token[i + 1])
            i += 2
            if sub is None or sub[0] == last_cons or i >= n:
                continue  # doubled, or a final cluster
            out.append(sub[0])
            last_cons = sub[0]
            continue
        if ch in CONSONANTS:
            cls = CONSONANTS[ch][0]
            nxt = token[i + 1] if i + 1 < n else ""
            if nxt == _SILENCER:
                i += 2
                continue
            final = i == n - 1 or (nxt in "\u17cb\u17cc\u17ce\u17cf\u17d0" and i == n - 2)
            if final and out:
                cls = FINAL_CLASS.get(cls, cls)
            out.append(cls)
            last_cons = cls
        elif ch in VOWELS:
            out.append(VOWELS[ch][0])
            last_cons = ""
        elif ch in INDEPENDENT:
            out.append(INDEPENDENT[ch][0])
            last_cons = ""
        elif not ("\u17c9" <= ch <= "\u17d3"):
            out.append(ch)  # digits, Latin typed in a Khmer field: kept as they are
        i += 1
    return re.sub(r"(.)\1+", r"\1", "".join(out))


def skeleton_key(tokens: Sequence[str]) -> str:
    """Skeleton of a multi-token name, tokens sorted (family-name order is free)."""
    return " ".join(sorted(khmer_skeleton(t) for t in tokens))


def skeleton_distance(a: str, b: str) -> int:
    """Edit distance between two skeletons (0 = the variants above, 1 = one sound apart)."""
    return int(Levenshtein.distance(a, b))


# --- romanisation -----------------------------------------------------------------------------


def _clusters(token: str) -> list[tuple[str, list[str], str]]:
    """(base consonant, subscript consonants, signs) of each written cluster."""
    out: list[tuple[str, list[str], str]] = []
    i, n = 0, len(token)
    while i < n:
        ch = token[i]
        i += 1
        if ch not in CONSONANTS and ch not in INDEPENDENT:
            if out:
                base, subs, signs = out[-1]
                out[-1] = (base, subs, signs + ch)
            continue
        subs: list[str] = []
        signs = ""
        while i + 1 < n and token[i] == _COENG and token[i + 1] in CONSONANTS:
            subs.append(token[i + 1])
            i += 2
        while i < n and "\u17b6" <= token[i] <= "\u17d1" and token[i] != _COENG:
            signs += token[i]
            i += 1
        out.append((ch, subs, signs))
    return out


def _series(base: str, signs: str) -> int:
    series = CONSONANTS[base][3] if base in CONSONANTS else 1
    return 3 - series if any(c in _SERIES_FLIP for c in signs) else series


def _vowel(signs: str, series: int) -> str:
    """Latin of the vowel signs after a consonant of ``series`` (1 = a, 2 = o)."""
    vowels = [VOWELS[c][series] for c in signs if c in VOWELS]
    if "ុ" in signs and "ំ" in signs:  # ុំ reads om / um
        return "om" if series == 1 else "um"
    if "ា" in signs and "ំ" in signs:  # ាំ reads am / oam
        return "am" if series == 1 else "oam"
    if "័" in signs and not vowels:  # samyok sannya: a short a / ea
        return "a" if series == 1 else "ea"
    return "".join(vowels)


def _syllables(token: str) -> list[str]:
    """Onset+vowel syllables with codas attached: a vowelless consonant after an open syllable
    closes it (unless a subscript cluster follows, which it then starts: សុគន្ធា = so+kun+thea);
    a subscript cluster's base closes an open syllable before it (ចន្ធូ = chan+thou)."""
    parts: list[list[str]] = []  # [onset, vowel, coda]
    clusters = _clusters(token)
    for idx, (base, subs, signs) in enumerate(clusters):
        if base in INDEPENDENT:
            parts.append(["", INDEPENDENT[base], ""])
            continue
        if _SILENCER in signs:
            continue
        has_vowel = any(c in VOWELS or c == "័" for c in signs)
        prev_open = bool(parts) and not parts[-1][2]
        last = idx == len(clusters) - 1
        nxt_subs = not last and bool(clusters[idx + 1][1])
        if not has_vowel and prev_open and ((not subs and not nxt_subs) or last):
            parts[-1][2] = CONSONANTS[base][2]
            continue
        onset_chars = [base, *subs]
        if subs and prev_open and subs[0] not in "រលវយ":
            parts[-1][2] = CONSONANTS[base][2]
            onset_chars = subs
        onset = "".join(CONSONANTS[c][1] for c in onset_chars)
        series = _series(onset_chars[0], signs)
        vowel = _vowel(signs, series) if has_vowel or "ំ" in signs else _INHERENT[series - 1]
        parts.append([onset, vowel, ""])
    return ["".join(p) for p in parts]


@functools.lru_cache(maxsize=8192)
def romanise(token: str) -> str:
    """Informal Latin of one normalised Khmer token (module docstring), lower case."""
    if not any(c in CONSONANTS or c in INDEPENDENT for c in token):
        return token.casefold()
    latin = "".join(_syllables(token))
    latin = re.sub(r"(nh|ng|ch|kh|th|ph)\1", r"\1", latin)
    return re.sub(r"([a-z])\1+", r"\1", latin)


_FRAME_RULES: tuple[tuple[str, str], ...] = (
    (r"chh", "ch"), (r"([tpk])h", r"\1"), (r"(?<=[aeiou])r\b", ""),
    # A final v/w after a vowel is the glide of ែវ / ៅ, written or not: Keo / Kaev, Pov / Po.
    (r"(?<=[aeiou])[vw]\b", ""),
    (r"[aeiouy]+", "a"), (r"(.)\1+", r"\1"),
)  # fmt: skip
_FRAME = tuple((re.compile(p), r) for p, r in _FRAME_RULES)


@functools.lru_cache(maxsize=8192)
def latin_frame(word: str) -> str:
    """Consonant frame of a Latin spelling: aspiration dropped, each vowel run one ``a``.

    Romanisations of one Khmer name disagree mostly on vowels (Sokunthea / Sokonthea,
    Keo / Kaev, Phalla / Phallea) and agree on consonants; Sophea / Sopheap still differ.
    One word at a time: a final glide is only final in a word (:func:`name_frames` joins).
    """
    out = word.casefold()
    for pattern, repl in _FRAME:
        out = pattern.sub(repl, out)
    return out


def name_frames(tokens: Sequence[str], *, whole: bool = False) -> frozenset[str]:
    """Frames of a name's tokens and of every ordered join of them (only joins of all of them
    when ``whole``), each token framed alone first (its word-final rules apply) and the join
    collapsed again: "Sok Kha" meets "Sokha", "Keo Kanha" meets "Kanha Kaev". At most four
    tokens; frames shorter than two letters are left out."""
    return _name_frames(tuple(tokens)[:4], whole)


@functools.lru_cache(maxsize=8192)
def _name_frames(tokens: tuple[str, ...], whole: bool) -> frozenset[str]:
    frames = [latin_frame(t) for t in tokens]
    out: set[str] = set()
    for n in range(len(frames) if whole else 1, len(frames) + 1):
        for perm in itertools.permutations(frames, n):
            joined = re.sub(r"(.)\1+", r"\1", "".join(perm))
            if len(joined) >= 2:
                out.add(joined)
    return frozenset(out)
