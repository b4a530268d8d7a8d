"""Seeded generators for Tessera's task suite: six skills whose answers can be checked exactly.

Every case is a dict {"id", "skill", "prompt", "answer", "split"}. `prompt` is the exact text a
model is given (the request followed by a newline) and `answer` the exact text it must generate.

Held-out cases are disjoint from training *by construction*: each skill draws its problems from a
key space (the operands of a sum, the calendar date, the name/age/city triple, ...) and a key's
SHA-256 decides once and for all whether it belongs to training or to evaluation, so no phrasing
of an evaluation problem is ever trained on.
"""
import hashlib
import random

SKILLS = ["arith", "date", "unit", "extract", "sentiment", "reverse"]

# Bucket of a problem key: 0-7 training, 8 validation (early stopping), 9 evaluation.
def bucket(skill, key):
    digest = hashlib.sha256(f"{skill}|{key}".encode()).digest()
    return digest[0] % 10


def split_of(skill, key):
    b = bucket(skill, key)
    return "eval" if b == 9 else "val" if b == 8 else "train"


# --- arithmetic -----------------------------------------------------------------------------

ARITH_TEMPLATES = {
    "+": ["{a}+{b}=", "{a} + {b} =", "what is {a} plus {b}?", "add {a} and {b}", "sum of {a} and {b}"],
    "-": ["{a}-{b}=", "{a} - {b} =", "what is {a} minus {b}?", "subtract {b} from {a}"],
}


def arith(rng, digits):
    lo, hi = (0, 99) if digits == 2 else (100, 999)
    a, b = rng.randint(lo, hi), rng.randint(lo, hi)
    op = rng.choice("+-")
    if op == "-" and b > a:
        a, b = b, a
    value = a + b if op == "+" else a - b
    request = rng.choice(ARITH_TEMPLATES[op]).format(a=a, b=b)
    # The answer restates the normalised equation before its value: one exact, checkable
    # string that shows what was computed (and lines the operands up for a tiny model).
    return f"{a}{op}{b}", request, f"{a}{op}{b}={value}"


# --- dates ------------------------------------------------------------------------------------

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def ordinal(d):
    suffix = "th" if 10 <= d % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


def date_forms(y, m, d):
    name, abbr = MONTHS[m - 1], MONTHS[m - 1][:3]
    return [
        f"{name} {d}, {y}", f"{d} {name} {y}", f"{ordinal(d)} of {name}, {y}",
        f"{abbr} {d} {y}", f"{d}-{abbr}-{y}", f"{name} {ordinal(d)} {y}",
        f"{m}/{d}/{y}", f"{y}.{m:02d}.{d:02d}", f"{d}.{m}.{y}",
    ]


DATE_TEMPLATES = ["normalize the date: {x}", "{x} in ISO format", "date: {x}", "ISO date for {x}",
                  "convert {x} to YYYY-MM-DD"]


def date(rng):
    y, m = rng.randint(1950, 2049), rng.randint(1, 12)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    d = rng.randint(1, DAYS_IN_MONTH[m - 1] + (1 if m == 2 and leap else 0))
    request = rng.choice(DATE_TEMPLATES).format(x=rng.choice(date_forms(y, m, d)))
    iso = f"{y:04d}-{m:02d}-{d:02d}"
    return iso, request, iso


# --- units --------------------------------------------------------------------------------------

# (bigger, smaller, factor) pairs of one quantity; answers are exact decimals.
UNIT_PAIRS = [("km", "m", 1000), ("m", "cm", 100), ("cm", "mm", 10), ("m", "mm", 1000),
              ("kg", "g", 1000), ("g", "mg", 1000), ("l", "ml", 1000), ("km", "cm", 100000)]
UNIT_TEMPLATES = ["convert {v} {u} to {w}", "{v} {u} in {w}", "how many {w} is {v} {u}?",
                  "{v} {u} = ? {w}"]


def decimal_text(numerator, denominator):
    """numerator/denominator as the shortest exact decimal (denominator a power of ten)."""
    whole, rest = divmod(numerator, denominator)
    if rest == 0:
        return str(whole)
    digits = len(str(denominator)) - 1
    frac = str(rest).rjust(digits, "0").rstrip("0")
    return f"{whole}.{frac}"


def unit(rng):
    big, small, factor = rng.choice(UNIT_PAIRS)
    if rng.random() < 0.5:  # bigger to smaller: multiply
        v = rng.randint(1, 999)
        key, src, dst, answer = f"{v}{big}>{small}", big, small, str(v * factor)
    else:  # smaller to bigger: divide, the value chosen so the result has <= 3 decimals
        v = rng.randint(1, 999) * max(1, factor // 1000)
        key, src, dst, answer = f"{v}{small}>{big}", small, big, decimal_text(v, factor)
    request = rng.choice(UNIT_TEMPLATES).format(v=v, u=src, w=dst)
    return key, request, answer


# --- extraction ---------------------------------------------------------------------------------

NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack",
         "Karen", "Leo", "Maria", "Nina", "Oscar", "Paul", "Quinn", "Rosa", "Sam", "Tina", "Uma",
         "Victor", "Wendy", "Xavier", "Yara", "Zoe", "Liam", "Olivia", "Noah", "Ava", "Ethan",
         "Mia", "Lucas", "Sofia", "Mason", "Chloe", "Omar", "Leila", "Hugo", "Ines"]
CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Lisbon", "Vienna", "Prague", "Oslo", "Dublin",
          "Athens", "Warsaw", "Zurich", "Boston", "Denver", "Austin", "Seattle", "Chicago",
          "Toronto", "Sydney", "Tokyo", "Seoul", "Lima", "Cairo", "Nairobi", "Mumbai", "Delhi",
          "Milan", "Munich", "Porto", "Krakow"]
EXTRACT_TEMPLATES = [
    "{n} is {a} and lives in {c}.", "{n}, aged {a}, lives in {c}.", "Meet {n} ({a}) from {c}.",
    "Living in {c}, {a}-year-old {n} loves tea.", "{n} moved to {c} at the age of {a}.",
    "In {c} lives {n}, who is {a} years old.", "{a}-year-old {n} works in {c}.",
]


def extract(rng):
    n, a, c = rng.choice(NAMES), rng.randint(18, 90), rng.choice(CITIES)
    sentence = rng.choice(EXTRACT_TEMPLATES).format(n=n, a=a, c=c)
    request = f"extract name, age, city: {sentence}"
    return f"{n}|{a}|{c}", request, f'{{"name":"{n}","age":{a},"city":"{c}"}}'


# --- sentiment ----------------------------------------------------------------------------------

SUBJECTS = ["the food", "the service", "the movie", "this phone", "the hotel", "the book",
            "the staff", "the room", "the app", "the coffee", "the show", "the shoes",
            "the battery", "the delivery", "the game", "the music", "the price", "the screen"]
POSITIVE = ["great", "excellent", "wonderful", "amazing", "fantastic", "lovely", "superb",
            "delightful", "perfect", "brilliant", "good", "pleasant", "impressive", "friendly"]
NEGATIVE = ["terrible", "awful", "horrible", "poor", "bad", "disappointing", "dreadful",
            "boring", "broken", "rude", "slow", "noisy", "useless", "overpriced"]
INTENS = ["", "really ", "very ", "truly ", "quite ", "so "]
SENTIMENT_TEMPLATES = ["{s} was {i}{w}", "{s} is {i}{w}", "i found {s} {i}{w}",
                       "honestly, {s} was {i}{w}", "{s} felt {i}{w} to me"]
NEGATED = ["{s} was not {w}", "{s} is not {w} at all"]
TAILS = ["", ".", "!", " and i would say so again.", ", as expected.", " overall."]


def sentiment(rng):
    s = rng.choice(SUBJECTS)
    positive = rng.random() < 0.5
    if rng.random() < 0.2:  # negation flips the adjective's polarity
        w = rng.choice(NEGATIVE if positive else POSITIVE)
        text = rng.choice(NEGATED).format(s=s, w=w)
    else:
        w = rng.choice(POSITIVE if positive else NEGATIVE)
        text = rng.choice(SENTIMENT_TEMPLATES).format(s=s, i=rng.choice(INTENS), w=w)
    if rng.random() < 0.3:  # a second clause of the same polarity
        w2 = rng.choice(POSITIVE if positive else NEGATIVE)
        text += f" and {rng.choice(SUBJECTS)} was {w2}"
    text += rng.choice(TAILS)
    request = f"review: {text}"
    return text, request, "positive" if positive else "negative"


# --- string transform -----------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
REVERSE_TEMPLATES = ["reverse: {w}", "reverse the word {w}", "spell {w} backwards",
                     "write {w} in reverse"]


def reverse(rng, hard):
    length = rng.randint(9, 12) if hard else rng.randint(3, 8)
    w = "".join(rng.choice(LETTERS) for _ in range(length))
    return w, rng.choice(REVERSE_TEMPLATES).format(w=w), w[::-1]


# --- drawing cases ------------------------------------------------------------------------------

def draw(skill, rng, hard=False):
    if skill == "arith":
        return arith(rng, 3 if hard else 2)
    if skill == "reverse":
        return reverse(rng, hard)
    return {"date": date, "unit": unit, "extract": extract, "sentiment": sentiment}[skill](rng)


HARD_SKILLS = ["arith", "reverse"]


def cases(skill, split, n, seed, hard=False, unique=True):
    """n cases of `skill` from the "train", "val" or "eval" part of its key space.

    unique=True: no key twice (evaluation sets); training streams repeat keys freely.
    """
    rng = random.Random(f"{seed}|{skill}|{split}|{hard}")
    seen, out = set(), []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 100000:
            raise RuntimeError(f"{skill}/{split}: key space too small for {n} cases")
        key, request, answer = draw(skill, rng, hard)
        if split_of(skill, key) != split or (unique and key in seen):
            continue
        seen.add(key)
        name = f"{skill}{'-hard' if hard else ''}"
        out.append({"id": f"{name}-{split}-{len(out):05d}", "skill": skill,
                    "prompt": request + "\n", "answer": answer,
                    "split": f"{split}{'-hard' if hard else ''}"})
    return out


# --- routing ------------------------------------------------------------------------------------

COUNTRIES = ["France", "Japan", "Brazil", "Kenya", "Canada", "Norway", "Peru", "India", "Egypt",
             "Chile", "Spain", "Italy", "Mexico", "Ghana", "Nepal", "Iceland"]
THINGS = ["cats", "the sea", "autumn", "robots", "coffee", "mountains", "friendship", "rain",
          "bicycles", "the moon", "trains", "gardens"]
OOD_TEMPLATES = [
    "what is the capital of {country}?", "write a poem about {thing}", "tell me a joke about {thing}",
    "what is the weather in {city} tomorrow?", "translate {word} into French",
    "who is the president of {country}?", "recommend a book about {thing}",
    "how do i cook rice?", "play some music by {name}", "set an alarm for {h} am",
    "what time is it in {city}?", "summarize the news about {country}", "call {name}",
    "is it going to rain in {city}?", "write an email to {name} about {thing}",
    "how tall is mount everest?", "explain how {thing} work", "what does {word} mean?",
    "send a message to {name}", "book a table for {h} in {city}",
]
OOD_WORDS = ["apple", "window", "happiness", "journey", "river", "castle", "dream", "silver"]


def ood(rng):
    template = rng.choice(OOD_TEMPLATES)
    text = template.format(country=rng.choice(COUNTRIES), thing=rng.choice(THINGS),
                           city=rng.choice(CITIES), word=rng.choice(OOD_WORDS),
                           name=rng.choice(NAMES), h=rng.randint(1, 12))
    return text, text, "none"


def routing_cases(split, n_per_skill, n_none, seed):
    """Requests of every skill labelled with their skill, plus out-of-domain ones labelled none."""
    out = []
    for skill in SKILLS:
        for c in cases(skill, split, n_per_skill, seed + 1):
            out.append({"skill": "route", "prompt": "route: " + c["prompt"], "answer": skill,
                        "split": f"{split}:{skill}", "source": skill})
    rng = random.Random(f"{seed}|ood|{split}")
    seen = set()
    attempts = 0
    while sum(1 for c in out if c["answer"] == "none") < n_none:
        attempts += 1
        if attempts > 1000 * n_none:
            raise RuntimeError(f"routing/{split}: out-of-domain key space too small")
        key, text, label = ood(rng)
        if split_of("ood", key) != split or (split != "train" and key in seen):
            continue
        seen.add(key)
        out.append({"skill": "route", "prompt": "route: " + text + "\n", "answer": label,
                    "split": f"{split}:none", "source": "none"})
    random.Random(f"{seed}|shuffle|{split}").shuffle(out)
    for i, c in enumerate(out):
        c["id"] = f"route-{split}-{i:05d}"
    return [{k: c[k] for k in ("id", "skill", "prompt", "answer", "split", "source")} for c in out]
