"""The problems of each skill: a key that identifies the problem, the values a wording is filled
with, and the exact answer. Wordings are not chosen here (see suite.py and templates.py).

Every function takes the caller's seeded random.Random and, where the skill has vocabulary, a
`heldout` flag that picks the side of the generated vocabulary (vocab.py); its values then hold
"vocab", the generated values the request carries (the tests check their side).
"""
import datetime
from fractions import Fraction

import vocab

# --- arithmetic -------------------------------------------------------------------------------------

# (digits of a, digits of b) with their weights, per operator.
ARITH_SIZES = {
    "+": [((1, 1), 1), ((2, 1), 1), ((1, 2), 1), ((2, 2), 3), ((3, 2), 2), ((2, 3), 2), ((3, 3), 3),
          ((4, 3), 1), ((3, 4), 1), ((4, 4), 2)],
    "*": [((1, 1), 2), ((2, 1), 3), ((1, 2), 3), ((2, 2), 3), ((3, 1), 2), ((1, 3), 2)],
}
ARITH_SIZES["-"] = ARITH_SIZES["+"]
ARITH_OPS = "+-*"


def number(rng, digits):
    return rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)


def arith(rng, op):
    """key "a<op>b", values {a, b}, answer "a<op>b=value" (value may be negative)."""
    sizes, weights = zip(*ARITH_SIZES[op])
    da, db = rng.choices(sizes, weights)[0]
    a, b = number(rng, da), number(rng, db)
    value = a + b if op == "+" else a - b if op == "-" else a * b
    key = f"{a}{op}{b}"
    return key, {"a": a, "b": b}, f"{key}={value}"


# --- dates ------------------------------------------------------------------------------------------

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
YEARS = (1900, 2099)


def ordinal(d):
    suffix = "th" if 10 <= d % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


def abbreviation(m):
    return "Sept" if m == 9 else MONTHS[m - 1][:3]


def date_forms(day):
    """Every way this suite writes `day` (a datetime.date). None is day/month-ambiguous: a numeric
    form with the day and month in either order appears only when the day is above 12, so that
    03/04/2021 (March 4 or April 3?) is never generated in any split."""
    y, m, d = day.year, day.month, day.day
    name, abbr = MONTHS[m - 1], abbreviation(m)
    forms = [
        f"{name} {d}, {y}", f"{name} {d} {y}", f"{d} {name} {y}", f"{ordinal(d)} {name} {y}",
        f"{ordinal(d)} of {name}, {y}", f"the {ordinal(d)} of {name} {y}", f"{name} {ordinal(d)}, {y}",
        f"{name} {ordinal(d)} {y}", f"{abbr} {d}, {y}", f"{abbr} {d} {y}", f"{d} {abbr} {y}",
        f"{d}-{abbr}-{y}", f"{abbr}. {d}, {y}", f"{name.lower()} {d}, {y}", f"{name.upper()} {d} {y}",
        f"{d} {name.lower()} {y}", f"{y}/{m:02d}/{d:02d}", f"{y}.{m:02d}.{d:02d}", f"{y}-{m}-{d}",
        f"{y} {name} {d}", f"{WEEKDAYS[day.weekday()]}, {name} {d}, {y}",
        f"{WEEKDAYS[day.weekday()][:3]} {d} {abbr} {y}",
    ]
    if d > 12:
        forms += [f"{m}/{d}/{y}", f"{d}/{m}/{y}", f"{d}.{m}.{y}", f"{d:02d}.{m:02d}.{y}",
                  f"{m:02d}/{d:02d}/{y}", f"{d}-{m:02d}-{y}"]
    return forms


def date(rng):
    """key and answer the ISO date; values {x}: the date in one of date_forms."""
    start = datetime.date(YEARS[0], 1, 1).toordinal()
    end = datetime.date(YEARS[1], 12, 31).toordinal()
    day = datetime.date.fromordinal(rng.randint(start, end))
    iso = day.isoformat()
    return iso, {"x": rng.choice(date_forms(day))}, iso


# --- units ------------------------------------------------------------------------------------------

# unit -> (symbols, singular words, plural words).
UNITS = {
    "km": (["km"], ["kilometer", "kilometre"], ["kilometers", "kilometres"]),
    "m": (["m"], ["meter", "metre"], ["meters", "metres"]),
    "cm": (["cm"], ["centimeter"], ["centimeters"]), "mm": (["mm"], ["millimeter"], ["millimeters"]),
    "kg": (["kg"], ["kilogram", "kilo"], ["kilograms", "kilos"]), "g": (["g"], ["gram"], ["grams"]),
    "mg": (["mg"], ["milligram"], ["milligrams"]), "t": (["t"], ["tonne"], ["tonnes"]),
    "l": (["l", "L"], ["liter", "litre"], ["liters", "litres"]),
    "ml": (["ml", "mL"], ["milliliter"], ["milliliters"]),
    "h": (["h", "hr"], ["hour"], ["hours", "hrs"]), "min": (["min"], ["minute"], ["minutes", "mins"]),
    "s": (["s", "sec"], ["second"], ["seconds", "secs"]), "ms": (["ms"], ["millisecond"], ["milliseconds"]),
    "day": ([], ["day"], ["days"]), "week": (["wk"], ["week"], ["weeks"]),
    "B": (["B"], ["byte"], ["bytes"]), "bit": ([], ["bit"], ["bits"]),
    "kB": (["kB", "KB"], ["kilobyte"], ["kilobytes"]), "MB": (["MB"], ["megabyte"], ["megabytes"]),
    "GB": (["GB"], ["gigabyte"], ["gigabytes"]), "KiB": (["KiB"], ["kibibyte"], ["kibibytes"]),
    "MiB": (["MiB"], ["mebibyte"], ["mebibytes"]), "GiB": (["GiB"], ["gibibyte"], ["gibibytes"]),
    "ft": (["ft"], ["foot"], ["feet"]), "in": (["in"], ["inch"], ["inches"]),
    "yd": (["yd"], ["yard"], ["yards"]), "mi": (["mi"], ["mile"], ["miles"]),
    "lb": (["lb", "lbs"], ["pound"], ["pounds"]), "oz": (["oz"], ["ounce"], ["ounces"]),
    "gal": (["gal"], ["gallon"], ["gallons"]), "qt": (["qt"], ["quart"], ["quarts"]),
    "pt": (["pt"], ["pint"], ["pints"]),
}
# (bigger, smaller, exact factor, largest value of the bigger unit): one quantity each. Values of
# the bigger unit stay small where the factor is not a power of ten, so answers stay short.
UNIT_PAIRS = [
    ("km", "m", 1000, 999), ("m", "cm", 100, 999), ("cm", "mm", 10, 999), ("m", "mm", 1000, 999),
    ("kg", "g", 1000, 999), ("g", "mg", 1000, 999), ("t", "kg", 1000, 99), ("l", "ml", 1000, 999),
    ("h", "min", 60, 99), ("min", "s", 60, 99), ("h", "s", 3600, 24), ("day", "h", 24, 99),
    ("week", "day", 7, 99), ("s", "ms", 1000, 999),
    ("kB", "B", 1000, 999), ("MB", "kB", 1000, 999), ("GB", "MB", 1000, 999), ("B", "bit", 8, 999),
    ("KiB", "B", 1024, 64), ("MiB", "KiB", 1024, 64), ("GiB", "MiB", 1024, 64),
    ("ft", "in", 12, 99), ("yd", "ft", 3, 999), ("mi", "yd", 1760, 20), ("lb", "oz", 16, 99),
    ("gal", "qt", 4, 999), ("qt", "pt", 2, 999),
]


def exact_decimal(x):
    """A Fraction whose denominator divides a power of ten, as its shortest decimal text."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    whole, rest = divmod(x.numerator, x.denominator)
    if rest == 0:
        return f"{sign}{whole}"
    digits = ""
    frac = Fraction(rest, x.denominator)
    while frac:
        frac *= 10
        digit = int(frac)
        digits += str(digit)
        frac -= digit
        if len(digits) > 6:
            raise ValueError(f"{x} has no short exact decimal")
    return f"{sign}{whole}.{digits}"


def spelling(rng, unit, value):
    """A symbol in half of the requests (when the unit has one), else a word (singular for 1)."""
    symbols, singular, plural = UNITS[unit]
    if symbols and rng.random() < 0.5:
        return rng.choice(symbols)
    return rng.choice(singular if value == 1 else plural)


def unit(rng):
    """key "<v><from>><to>", values {v, u, w}, answer the exact decimal."""
    big, small, factor, largest = rng.choice(UNIT_PAIRS)
    if rng.random() < 0.5:  # bigger to smaller: multiply
        v = rng.randint(1, largest)
        src, dst, result = big, small, Fraction(v * factor)
    else:  # smaller to bigger: divide; the value is chosen so the result has <= 3 decimals
        while True:
            v = rng.randint(1, largest * factor)
            if (v * 1000) % factor == 0:
                break
        src, dst, result = small, big, Fraction(v, factor)
    key = f"{v}{src}>{dst}"
    values = {"v": v, "u": spelling(rng, src, v), "w": spelling(rng, dst, 2)}
    return key, values, exact_decimal(result)


# --- extraction -------------------------------------------------------------------------------------

def extract(rng, heldout):
    n, c = vocab.draw("person", rng, heldout), vocab.draw("city", rng, heldout)
    a = rng.randint(1, 99)
    an = "an" if str(a).startswith("8") or a in (11, 18) else "a"
    return f"{n}|{a}|{c}", {"n": n, "a": a, "c": c, "an": an, "vocab": [n, c]}, \
        '{"name":"%s","age":%d,"city":"%s"}' % (n, a, c)


# --- sentiment --------------------------------------------------------------------------------------

NOUNS = [
    "food", "service", "movie", "phone", "hotel", "book", "staff", "room", "app", "coffee", "show",
    "shoes", "battery", "delivery", "game", "music", "price", "screen", "laptop", "camera", "pizza",
    "restaurant", "waiter", "flight", "seat", "bed", "view", "pool", "breakfast", "dessert", "soup",
    "burger", "concert", "album", "novel", "series", "episode", "ending", "plot", "acting", "keyboard",
    "mouse", "headphones", "speaker", "charger", "cable", "software", "update", "website", "checkout",
    "package", "courier", "driver", "taxi", "train", "bus", "trip", "tour", "guide", "museum",
    "lesson", "course", "teacher", "class", "gym", "trainer", "haircut", "salon", "dentist", "clinic",
    "doctor", "nurse", "bakery", "bread", "cake", "wine", "beer", "tea", "sandwich", "salad", "steak",
    "sushi", "noodles", "curry", "jacket", "dress", "shirt", "jeans", "watch", "bag", "wallet",
    "mattress", "pillow", "blanket", "sofa", "chair", "desk", "lamp", "kettle", "toaster", "blender",
    "vacuum", "fridge", "oven", "printer", "router", "tablet", "tv", "remote", "controller", "ticket",
    "venue", "parking", "lobby", "elevator", "bathroom", "shower", "kitchen", "garden", "apartment",
    "landlord", "neighbors", "support", "agent", "refund", "warranty", "manual", "packaging",
    "design", "color", "fabric", "fit", "size", "sound", "picture", "signal", "connection", "wifi",
    "interface", "menu", "portion", "drinks", "atmosphere", "music", "lighting", "location",
    "headset", "monitor", "speakers", "microwave", "dishwasher", "heater", "fan", "stroller",
    "backpack", "suitcase", "umbrella", "helmet", "bike", "scooter", "car", "rental", "hostel",
    "cabin", "campsite", "beach", "resort", "spa", "massage", "yoga class", "pilates class",
    "cinema", "theater", "play", "musical", "documentary", "podcast", "audiobook", "comic",
    "magazine", "newspaper", "recipe", "cookbook", "knife", "pan", "pot", "mug", "plate", "bowl",
    "candle", "perfume", "shampoo", "soap", "lotion", "sunscreen", "toothbrush", "razor", "brush",
    "puzzle", "board game", "toy", "doll", "drone", "robot vacuum", "smartwatch", "earbuds",
    "phone case", "screen protector", "power bank", "hard drive", "memory card", "webcam",
    "microphone", "guitar", "piano", "violin", "drum kit", "amplifier", "paint", "canvas",
    "notebook", "pen", "pencil", "backpacking tent", "sleeping bag", "hiking boots", "socks",
    "gloves", "scarf", "hat", "sweater", "coat", "boots", "sandals", "sneakers", "belt",
    "sunglasses", "necklace", "ring", "earrings", "bracelet", "florist", "bouquet", "plant",
    "pharmacy", "bank", "insurance", "airline", "airport", "hotel bar", "rooftop", "brunch",
    "lunch", "dinner", "buffet", "barista", "chef", "bartender", "cocktail", "smoothie",
    "ice cream", "chocolate", "cookies", "muffin", "croissant", "bagel", "pasta", "pizza crust",
]
NOUNS = sorted(set(NOUNS))
DETERMINERS = ["the", "the", "the", "this", "my", "our", "their", "that"]
POSITIVE = ["great", "excellent", "wonderful", "amazing", "fantastic", "lovely", "superb",
            "delightful", "perfect", "brilliant", "good", "pleasant", "impressive", "friendly",
            "outstanding", "nice", "enjoyable", "charming", "solid", "reliable", "comfortable",
            "awesome", "terrific", "fabulous", "splendid", "helpful", "tasty", "beautiful", "fun",
            "smooth", "clean", "fresh", "gorgeous", "exceptional", "satisfying", "marvelous"]
NEGATIVE = ["terrible", "awful", "horrible", "poor", "bad", "disappointing", "dreadful", "boring",
            "broken", "rude", "slow", "noisy", "useless", "overpriced", "mediocre", "dirty", "bland",
            "flimsy", "unreliable", "uncomfortable", "annoying", "lousy", "pathetic", "frustrating",
            "unpleasant", "cheap", "stale", "greasy", "buggy", "confusing", "ugly", "cold",
            "faulty", "sloppy", "unhelpful", "painful"]
INTENSIFIERS = ["", "", "", "really ", "very ", "truly ", "quite ", "so ", "incredibly ",
                "pretty ", "absolutely ", "rather ", "extremely "]
TAILS = ["", "", ".", "!", "!!", " and i would say so again.", ", as expected.", " overall.",
         " to be honest.", " this time.", " :)", " tbh"]


def sentiment_key(rng, heldout):
    """(noun, adjective, negated, positive): negation flips the adjective's polarity."""
    noun = vocab_noun(rng, heldout)
    positive = rng.random() < 0.5
    negated = rng.random() < 0.25
    pool = (NEGATIVE if positive else POSITIVE) if negated else (POSITIVE if positive else NEGATIVE)
    return noun, rng.choice(pool), negated, positive


NOUN_SIDES = {held: [n for n in NOUNS if vocab.heldout_value(n) == held] for held in (False, True)}


def vocab_noun(rng, heldout):
    return rng.choice(NOUN_SIDES[heldout])


def subject(rng, noun):
    return f"{rng.choice(DETERMINERS)} {noun}"


# --- reverse ----------------------------------------------------------------------------------------

def reverse(rng, heldout, hard=False):
    lo, hi = (9, 12) if hard else (3, 8)
    w = vocab.draw("word", rng, heldout, lo=lo, hi=hi)
    if rng.random() < 0.2:
        w = w.capitalize()
    return w.lower(), {"w": w, "vocab": [w]}, w[::-1]  # "Tes" and "tes" are one problem: one side
