"""Public display names: their grammar, their look-alike skeleton, and generated ones.

A player logs in with a username that nobody else ever sees; everything public (the tape, the
leaderboard, pushes) shows their display name instead, so a leaderboard never hands an attacker half
of a credential. Two names that a person could mistake for each other must not both be shown, and a
display name must not look like any account's username, so each name is reduced to a *skeleton*
(``skeleton``) and skeletons are compared, never the names.

The skeleton is stored (``players.display_skeleton``, unique; ``players.username_skeleton``), so
changing ``skeleton`` changes what the database holds: it needs a migration that recomputes both.
"""

# ruff: noqa: RUF001 (the look-alike table below is made of the ambiguous letters RUF001 flags)
from __future__ import annotations

import itertools
import secrets
import unicodedata

from .errors import InvalidDisplayName

MIN_LENGTH, MAX_LENGTH = 3, 24
SEPARATORS = frozenset(" _-.")
# long enough for any skeleton of a MAX_LENGTH name: casefolding expands a character to at most 3
SKELETON_LENGTH = 3 * MAX_LENGTH

# Letters of other scripts that render like a Latin letter, mapped before casefolding so that each
# case maps to its own look-alike (Greek capital eta looks like H, its small letter like n).
_HOMOGLYPHS = str.maketrans(
    {
        # Cyrillic
        "А": "A", "а": "a", "В": "B", "в": "b", "Е": "E", "е": "e", "Ѐ": "E", "ѐ": "e",
        "Ё": "E", "ё": "e", "З": "3", "Ѕ": "S", "ѕ": "s", "І": "I", "і": "i", "Ї": "I",
        "ї": "i", "Ј": "J", "ј": "j", "К": "K", "к": "k", "М": "M", "м": "m", "Н": "H",
        "н": "h", "О": "O", "о": "o", "Р": "P", "р": "p", "С": "C", "с": "c", "Т": "T",
        "т": "t", "У": "Y", "у": "y", "Х": "X", "х": "x", "Ь": "b", "ь": "b", "Ԁ": "D",
        "ԁ": "d", "Һ": "H", "һ": "h", "Ӏ": "l", "ӏ": "l", "Ԛ": "Q", "ԛ": "q", "Ԝ": "W",
        "ԝ": "w", "Ү": "Y", "ү": "y", "Ɡ": "G", "ɡ": "g", "ɑ": "a",
        # Greek
        "Α": "A", "α": "a", "Β": "B", "β": "b", "γ": "y", "Ε": "E", "ε": "e",
        "Ζ": "Z", "Η": "H", "η": "n", "Ι": "I", "ι": "i", "Κ": "K", "κ": "k", "Μ": "M",
        "Ν": "N", "ν": "v", "Ο": "O", "ο": "o", "Ρ": "P", "ρ": "p", "Τ": "T", "τ": "t",
        "Υ": "Y", "υ": "u", "Χ": "X", "χ": "x", "ω": "w", "Ϲ": "C", "ϲ": "c", "ϳ": "j",
        "Ά": "A", "ά": "a", "Έ": "E", "έ": "e", "Ή": "H", "Ί": "I", "ί": "i", "Ό": "O",
        "ό": "o", "Ύ": "Y", "ύ": "u",
    }
)  # fmt: skip
# After casefolding: digits and letters that read alike in the fonts names are shown in.
_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s"})
# Pairs that read as one letter once the separators between them are gone ("r n" reads as "m").
_PAIRS = (("rn", "m"), ("vv", "w"))

# Never shown as anyone's name: they would pose as the game or its staff.
RESERVED = frozenset(
    {
        "admin", "administrator", "cash", "house", "martingale", "moderator", "none", "null",
        "official", "root", "staff", "support", "system", "test", "usd",
    }
)  # fmt: skip

# Generated names: no character that looks like another (no 0/O, 1/I/L, 5/S, V), so a generated
# name survives being read aloud or copied by eye.
_ALPHABET = "2346789ABCDEFGHJKMNPQRTUWXYZ"
_PREFIX = "Trader-"
# what a deleted account is shown as (account_deletion.py): no player may choose a name like it
DELETED_LABEL = "Deleted player"


def skeleton(name: str) -> str:
    """What ``name`` looks like: equal skeletons mean a person could take one name for the other.

    NFKC (fullwidth, ligatures, compatibility forms), Cyrillic and Greek homoglyphs to Latin,
    accents dropped, casefolded, 0/o 1/l/i 5/s and rn/m vv/w folded, separators ignored.
    """
    text = unicodedata.normalize("NFKC", name).translate(_HOMOGLYPHS)
    text = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    text = "".join(c for c in text.translate(_LOOKALIKES) if c not in SEPARATORS)
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return text


def parse_display_name(value: object) -> str:
    """A display name as it will be shown (NFKC, outer spaces removed); each problem its message."""
    if not isinstance(value, str):
        raise InvalidDisplayName("display name must be a string")
    name = unicodedata.normalize("NFKC", value).strip()
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise InvalidDisplayName(
            f"display name must be {MIN_LENGTH} to {MAX_LENGTH} characters long"
        )
    bad = next((c for c in name if not (_is_word(c) or c in SEPARATORS)), None)
    if bad is not None:
        # by code point unless plain ASCII: a mark or an invisible character cannot be shown alone
        shown = repr(bad) if bad.isascii() and bad.isprintable() else f"U+{ord(bad):04X}"
        raise InvalidDisplayName(
            f"display name may hold only letters, digits, spaces and _ - . (not {shown})"
        )
    if not (_is_word(name[0]) and _is_word(name[-1])):
        raise InvalidDisplayName("display name must start and end with a letter or a digit")
    if any(a in SEPARATORS and b in SEPARATORS for a, b in itertools.pairwise(name)):
        raise InvalidDisplayName("display name must not have two spaces or _ - . in a row")
    if skeleton(name) in _RESERVED_SKELETONS or skeleton(name).startswith(_DELETED_SKELETON):
        raise InvalidDisplayName("that display name is reserved")
    return name


def generated_name() -> str:
    """A friendly random name, e.g. ``Trader-7F3K2``: nothing in it comes from the username."""
    return _PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(5))


def _is_word(c: str) -> bool:
    # letters of any script and decimal digits; marks, symbols, controls and invisibles are not
    return unicodedata.category(c)[0] == "L" or c.isdecimal()


_RESERVED_SKELETONS = frozenset(skeleton(n) for n in RESERVED)
_DELETED_SKELETON = skeleton(DELETED_LABEL)
