"""Generated vocabulary for the task suite: person names, city names and words drawn from a space of
millions of syllable combinations, so a model must copy them rather than recall a list.

Every value belongs to the training vocabulary or to the held-out vocabulary, decided once by the
SHA-256 of its lowercase form (`heldout_value`): a fifth is held out. Generators draw with
`draw(kind, rng, heldout)` and never return a value of the other side. A multi-word value (a full
name, "Port Avelin") is held out when any of its words is, so a held-out word never reaches
training inside a longer value.

Standard library only; every draw comes from the caller's seeded random.Random.
"""
import hashlib

ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
          "br", "ch", "cl", "dr", "fl", "gr", "kr", "pr", "sh", "st", "th", "tr", "qu", ""]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "y"]
CODAS = ["", "", "", "", "n", "r", "l", "s", "m", "th", "nd", "rt", "x", "k"]
# Accented letters the character tokenizer learns from training text (each occurs in training
# values, so no held-out value needs a character that training never showed).
ACCENTS = {"a": ["á", "à", "ä"], "e": ["é", "è", "ë"], "i": ["í", "ï"], "o": ["ó", "ö", "ø"],
           "u": ["ú", "ü"], "n": ["ñ"], "c": ["ç"]}
SURNAME_PREFIXES = ["Mc", "Mac", "De", "Van", "O'", "Di", "La"]
CITY_PREFIXES = ["San ", "Port ", "New ", "Lake ", "Saint ", "Fort ", "Mount "]
CITY_SUFFIXES = ["burg", "ville", "ton", "port", "field", "grad", "polis", "stad", "mouth", "ford"]
HELDOUT_SHARE = 5  # one value in five is held out


def heldout_value(value):
    """True if `value` (any case) belongs to the held-out vocabulary."""
    words = value.replace("'", " ").split()
    return any(hashlib.sha256(("vocab|" + w.lower()).encode()).digest()[0] % HELDOUT_SHARE == 0
               for w in words)


def syllables(rng, lo, hi):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                   for _ in range(rng.randint(lo, hi)))


def accented(rng, word, p):
    """`word` with one letter accented, with probability p."""
    spots = [i for i, ch in enumerate(word) if ch in ACCENTS and i > 0]  # never a capital
    if not spots or rng.random() >= p:
        return word
    i = rng.choice(spots)
    return word[:i] + rng.choice(ACCENTS[word[i]]) + word[i + 1:]


def capitalized(word):
    return word[:1].upper() + word[1:]


def given_name(rng):
    while True:
        word = syllables(rng, 1, 3)
        if 3 <= len(word) <= 9:
            return capitalized(accented(rng, word, 0.1))


def surname(rng):
    word = capitalized(accented(rng, syllables(rng, 2, 3), 0.1))
    if rng.random() < 0.15:  # mixed case: McArdle, DeVoss, O'Brea
        word = rng.choice(SURNAME_PREFIXES) + word
    return word


def person(rng):
    """A given name, or in a third of draws a given name and a surname."""
    return given_name(rng) + (" " + surname(rng) if rng.random() < 0.33 else "")


def city(rng):
    core = capitalized(accented(rng, syllables(rng, 1, 3), 0.1))
    r = rng.random()
    if r < 0.25:
        core += rng.choice(CITY_SUFFIXES)
    elif r < 0.4:
        core = rng.choice(CITY_PREFIXES) + core
    return core if len(core) >= 3 else core + rng.choice(CITY_SUFFIXES)


def word(rng, lo=3, hi=8):
    """A pronounceable lowercase word of lo..hi letters (a string to reverse, a thing to name)."""
    while True:
        w = syllables(rng, 1, 4)
        if lo <= len(w) <= hi:
            return w


KINDS = {"person": person, "city": city, "word": word}


def draw(kind, rng, heldout, **kwargs):
    """A value of `kind` from the held-out vocabulary (heldout=True) or from training's."""
    make = KINDS[kind]
    for _ in range(10000):
        value = make(rng, **kwargs)
        if heldout_value(value) == heldout:
            return value
    raise RuntimeError(f"vocab: no {'held-out' if heldout else 'training'} {kind} in 10000 draws")
