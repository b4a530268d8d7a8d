"""Writes the held-out-template evaluation split, models/eval/heldout/*.jsonl.

Every request here uses a phrasing that no generator in skills.py produces (a held-out template),
filled with a problem from the evaluation part of the skill's key space (skills.split_of(skill,
key) == "eval"), so neither the wording nor the problem was ever trained on. Answers are exactly in
each skill's answer format: keys and answers come from skills.draw(), so the format is the
skill's own; only the request wording is new (for sentiment, the review sentences are new too and
the review text, lowercased, is the key, as in skills.py).

Files (one JSON object per line, keys in this order):
  <skill>.jsonl   100 cases per skill: {"id": "<skill>-heldout-00000", "skill", "request",
                  "prompt": request + "\\n", "answer", "split": "heldout-template"}
  ood.jsonl       100 out-of-domain requests from templates that are not skills.OOD_TEMPLATES:
                  {"id": "ood-heldout-00000", "skill": "none", "request", "prompt", "answer":
                  "none", "split": "heldout-template"}
  routing.jsonl   every request above as a router case: {"id": "route-heldout-00000", "skill":
                  "route", "prompt": "route: " + request + "\\n", "answer": skill or "none",
                  "split": "heldout:<skill or none>"}, shuffled so any prefix mixes every source

The generator refuses (exit status 1, naming the offender) a held-out template that equals a
skills.py template, and a request that equals one skills.py can produce for the same key; both
comparisons ignore case and end punctuation (and, for templates, placeholder names).

Usage: heldout.py [--out DIR] [--seed S]     write the files (default models/eval/heldout)
       heldout.py --check                    regenerate into a temporary folder and compare byte
                                             for byte with the committed files (exit 1 on any
                                             difference)
Standard library only; byte-for-byte reproducible from the seed.
"""
import argparse
import json
import os
import random
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE]
import skills  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "models", "eval", "heldout")
CASES = 100
SPLIT = "heldout-template"


class HeldoutError(Exception):
    """A held-out case that would not be held out; the message names it."""


# --- held-out templates -----------------------------------------------------------------------
# Everyday wordings a new user would type. A template that starts with a lowercase word is
# capitalized in about half of the requests; one that ends with "?" loses it in about a third.

ARITH_TEMPLATES = {
    "+": ["what's {a} plus {b}?", "calculate {a} plus {b}", "how much is {a} + {b}?",
          "add {b} to {a}", "{a} plus {b}", "what do you get if you add {a} and {b}?",
          "please compute {a}+{b}", "what is the sum of {a} and {b}?", "{a}+{b} equals?",
          "total of {a} and {b}"],
    "-": ["what's {a} minus {b}?", "calculate {a} minus {b}", "take {b} away from {a}",
          "how much is {a} - {b}?", "{a} minus {b}", "what do you get if you subtract {b} from {a}?",
          "please compute {a}-{b}", "what is {a} take away {b}?", "{a}-{b} equals?",
          "difference between {a} and {b}"],
}

DATE_TEMPLATES = ["please write {x} as an ISO date", "what's {x} in YYYY-MM-DD?",
                  "turn {x} into an ISO date", "can you format {x} as yyyy-mm-dd?",
                  "ISO 8601 for {x}", "rewrite the date {x} in ISO form",
                  "give me {x} as year-month-day", "{x} as an ISO date please",
                  "what is {x} in ISO format?", "change {x} to ISO"]


def extra_date_forms(y, m, d):
    """Ways to write a date that skills.date_forms does not produce (never day/month-ambiguous)."""
    name, abbr = skills.MONTHS[m - 1], skills.MONTHS[m - 1][:3]
    return [f"{name} {skills.ordinal(d)}, {y}", f"{abbr} {d}, {y}", f"{d} {abbr} {y}",
            f"the {skills.ordinal(d)} of {name} {y}", f"{name.lower()} {d} {y}",
            f"{y}/{m:02d}/{d:02d}"]


UNIT_TEMPLATES = ["what is {v} {u} in {w}?", "how many {w} are in {v} {u}?", "{v} {u} to {w}",
                  "please convert {v} {u} into {w}", "{v}{u} in {w}?", "express {v} {u} in {w}",
                  "{v} {u} is how many {w}?", "change {v} {u} to {w}"]
# The same quantities with the units spelled out: the answer (a number) does not change.
UNIT_SPELLED_TEMPLATES = ["how many {W} are in {v} {U}?", "convert {v} {U} to {W} please"]
UNIT_NAMES = {"km": "kilometers", "m": "meters", "cm": "centimeters", "mm": "millimeters",
              "kg": "kilograms", "g": "grams", "mg": "milligrams", "l": "liters",
              "ml": "milliliters"}

EXTRACT_TEMPLATES = ["pull out the name, age and city: {s}", "get the name, age and city from this: {s}",
                     "extract the person's name, age and city from: {s}", "{s} -- extract name, age, city",
                     "give me name, age and city as JSON: {s}", "name, age and city please: {s}",
                     "parse name/age/city from: {s}", "extract name, age and city from this sentence: {s}"]
EXTRACT_SENTENCES = ["{n} is {an} {a}-year-old from {c}.", "My friend {n} is {a} and lives in {c}.",
                     "{n}, {a}, {c}", "{n} turned {a} this year and lives in {c}.",
                     "This is {n}, {a} years old, from {c}.", "{n} ({a}) is based in {c}.",
                     "{n} from {c} just turned {a}.", "At {a}, {n} still lives in {c}."]

SENTIMENT_TEMPLATES = ["is this review positive or negative? {t}", "what's the sentiment of: {t}",
                       "sentiment of this review: {t}", "{t} -- positive or negative?",
                       "classify the sentiment: {t}", "tell me if this is positive or negative: {t}",
                       "customer review: {t}", "positive or negative? {t}"]
REVIEW_SENTENCES = ["i think {s} was {i}{w}", "{s} turned out {i}{w}", "we thought {s} was {i}{w}",
                    "{s} seemed {i}{w}", "in my opinion {s} is {i}{w}", "{s} has been {i}{w}",
                    "overall, {s} was {i}{w}"]
REVIEW_NEGATED = ["{s} wasn't {w}", "{s} was never {w}", "i would not call {s} {w}"]
REVIEW_TAILS = ["", ".", "!", " to be honest.", " this time."]

REVERSE_TEMPLATES = ["what is {w} backwards?", "reverse {w}", "flip the letters of {w}",
                     "can you reverse the letters in {w}?", "{w} backwards please",
                     "write the word {w} backwards", "reverse the string {w}",
                     "what's {w} spelled backwards?"]

OOD_TEMPLATES = [
    "how far away is the moon?", "what's a good name for a {animal}?",
    "remind me to call {name} at {h} pm", "what is the population of {city}?",
    "how do i get to {city} from {city2}?", "open the {app} app",
    "turn off the lights in the {room}", "what's the best pizza place in {city}?",
    "give me a recipe for {food}", "how many people live in {country}?",
    "what language do they speak in {country}?", "draw a picture of {thing}",
    "when does the next train to {city} leave?", "find flights from {city} to {city2}",
    "what is {word} in Spanish?", "set a timer for {minutes} minutes",
    "tell me something interesting about {thing}", "is {city} worth visiting?",
    "what should i cook for dinner tonight?", "text {name} that i'm running late",
    # Near the skills' domains but handled by none of them: the cases a router must not take.
    "what is the square root of {n}?", "multiply {a} by {b}", "how many ounces are in a pound?",
    "what day of the week was {month} {h}, {year}?", "spell {name} in capital letters",
    "is {a} a prime number?",
]
ANIMALS = ["dog", "cat", "hamster", "parrot", "goldfish", "rabbit", "turtle", "horse"]
APPS = ["camera", "calendar", "maps", "weather", "notes", "music", "mail", "clock"]
ROOMS = ["kitchen", "bedroom", "living room", "bathroom", "garage", "office", "hallway"]
FOODS = ["pancakes", "lasagna", "tomato soup", "banana bread", "fried rice", "guacamole",
         "apple pie", "pad thai", "chili", "risotto"]


# --- what skills.py can produce -----------------------------------------------------------------

def skills_templates():
    """Every template string of skills.py, plus the fixed prefixes it puts before a text."""
    out = list(skills.DATE_TEMPLATES) + list(skills.UNIT_TEMPLATES) + list(skills.EXTRACT_TEMPLATES)
    for templates in skills.ARITH_TEMPLATES.values():
        out += templates
    out += skills.SENTIMENT_TEMPLATES + skills.NEGATED + skills.REVERSE_TEMPLATES
    out += skills.OOD_TEMPLATES
    out += ["extract name, age, city: {s}", "review: {t}"]
    return out


def normalized_template(t):
    """Lowercase, placeholders anonymous, spaces collapsed, no trailing punctuation."""
    t = re.sub(r"\{[a-z0-9]*\}", "{}", t.lower())
    return " ".join(t.split()).rstrip("?.! ")


def normalized_request(r):
    """Requests compared up to case and end punctuation (what styled() varies)."""
    return r.lower().rstrip("?.! ")


def training_requests(skill, key):
    """Every request the skills.py generators can produce for `key` of `skill`."""
    if skill == "arith":
        a, op, b = parse_arith(key)
        return {t.format(a=a, b=b) for t in skills.ARITH_TEMPLATES[op]}
    if skill == "date":
        y, m, d = (int(p) for p in key.split("-"))
        return {t.format(x=x) for t in skills.DATE_TEMPLATES for x in skills.date_forms(y, m, d)}
    if skill == "unit":
        v, src, dst = parse_unit(key)
        return {t.format(v=v, u=src, w=dst) for t in skills.UNIT_TEMPLATES}
    if skill == "extract":
        n, a, c = key.split("|")
        return {"extract name, age, city: " + t.format(n=n, a=a, c=c) for t in skills.EXTRACT_TEMPLATES}
    if skill == "sentiment":
        return {"review: " + key}
    if skill == "reverse":
        return {t.format(w=key) for t in skills.REVERSE_TEMPLATES}
    raise HeldoutError(f"unknown skill {skill!r}")


def all_ood_training_requests():
    """Every request skills.ood() can produce (its fill values are small lists)."""
    out = set()
    for t in skills.OOD_TEMPLATES:
        fills = [{}]
        for field, values in (("country", skills.COUNTRIES), ("thing", skills.THINGS),
                              ("city", skills.CITIES), ("word", skills.OOD_WORDS),
                              ("name", skills.NAMES), ("h", range(1, 13))):
            if "{" + field + "}" in t:
                fills = [dict(f, **{field: v}) for f in fills for v in values]
        out.update(t.format(**f) for f in fills)
    return out


# --- keys ---------------------------------------------------------------------------------------

def parse_arith(key):
    m = re.fullmatch(r"(\d+)([+-])(\d+)", key)
    if not m:
        raise HeldoutError(f"arith key {key!r} is not <a><op><b>")
    return int(m.group(1)), m.group(2), int(m.group(3))


def parse_unit(key):
    m = re.fullmatch(r"(\d+)([a-z]+)>([a-z]+)", key)
    if not m:
        raise HeldoutError(f"unit key {key!r} is not <v><unit>><unit>")
    return int(m.group(1)), m.group(2), m.group(3)


# --- drawing ------------------------------------------------------------------------------------

def styled(rng, template):
    """Mixed casing and punctuation, decided on the template (never on a filled-in value)."""
    if template[0].islower() and rng.random() < 0.5:
        template = template[0].upper() + template[1:]
    if template.endswith("?") and rng.random() < 0.3:
        template = template[:-1]
    return template


def review_text(rng):
    """(review text, label) from the held-out review sentences and skills.py's word lists."""
    s = rng.choice(skills.SUBJECTS)
    positive = rng.random() < 0.5
    if rng.random() < 0.2:  # negation flips the adjective's polarity
        w = rng.choice(skills.NEGATIVE if positive else skills.POSITIVE)
        text = rng.choice(REVIEW_NEGATED).format(s=s, w=w)
    else:
        w = rng.choice(skills.POSITIVE if positive else skills.NEGATIVE)
        text = rng.choice(REVIEW_SENTENCES).format(s=s, i=rng.choice(skills.INTENS), w=w)
    if rng.random() < 0.3:  # a second clause of the same polarity
        w2 = rng.choice(skills.POSITIVE if positive else skills.NEGATIVE)
        text += f", and {rng.choice(skills.SUBJECTS)} seemed {w2} too"
    text += rng.choice(REVIEW_TAILS)
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    return text, "positive" if positive else "negative"


def draw(skill, rng):
    """(key, request, answer): the key and answer as skills.py makes them, the wording new."""
    if skill == "sentiment":
        text, label = review_text(rng)
        return text.lower(), styled(rng, rng.choice(SENTIMENT_TEMPLATES)).format(t=text), label
    key, _, answer = skills.draw(skill, rng)
    if skill == "arith":
        a, op, b = parse_arith(key)
        request = styled(rng, rng.choice(ARITH_TEMPLATES[op])).format(a=a, b=b)
    elif skill == "date":
        y, m, d = (int(p) for p in key.split("-"))
        x = rng.choice(skills.date_forms(y, m, d) + extra_date_forms(y, m, d))
        request = styled(rng, rng.choice(DATE_TEMPLATES)).format(x=x)
    elif skill == "unit":
        v, src, dst = parse_unit(key)
        if rng.random() < 0.2:
            def spelled(u):
                return UNIT_NAMES[u][:-1] if v == 1 else UNIT_NAMES[u]
            request = styled(rng, rng.choice(UNIT_SPELLED_TEMPLATES)).format(
                v=v, U=spelled(src), W=UNIT_NAMES[dst])
        else:
            request = styled(rng, rng.choice(UNIT_TEMPLATES)).format(v=v, u=src, w=dst)
    elif skill == "extract":
        n, a, c = key.split("|")
        an = "an" if a.startswith("8") or a in ("11", "18") else "a"
        sentence = rng.choice(EXTRACT_SENTENCES).format(n=n, a=a, c=c, an=an)
        request = styled(rng, rng.choice(EXTRACT_TEMPLATES)).format(s=sentence)
    elif skill == "reverse":
        request = styled(rng, rng.choice(REVERSE_TEMPLATES)).format(w=key)
    else:
        raise HeldoutError(f"unknown skill {skill!r}")
    return key, request, answer


def draw_ood(rng, template):
    city, city2 = rng.sample(skills.CITIES, 2)
    return styled(rng, template).format(
        animal=rng.choice(ANIMALS), name=rng.choice(skills.NAMES), h=rng.randint(1, 12),
        city=city, city2=city2, app=rng.choice(APPS), minutes=rng.randint(1, 90),
        room=rng.choice(ROOMS), food=rng.choice(FOODS), country=rng.choice(skills.COUNTRIES),
        thing=rng.choice(skills.THINGS), word=rng.choice(skills.OOD_WORDS),
        n=rng.randint(2, 400), a=rng.randint(2, 99), b=rng.randint(2, 99),
        month=rng.choice(skills.MONTHS), year=rng.randint(1950, 2049))


def skill_cases(skill, n, seed):
    rng = random.Random(f"{seed}|heldout|{skill}")
    seen, out, attempts = set(), [], 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 100000:
            raise HeldoutError(f"{skill}: evaluation key space too small for {n} cases")
        key, request, answer = draw(skill, rng)
        if skills.split_of(skill, key) != "eval" or key in seen:
            continue
        if normalized_request(request) in {normalized_request(r) for r in training_requests(skill, key)}:
            raise HeldoutError(f"{skill}: held-out request {request!r} is a skills.py phrasing of {key!r}")
        seen.add(key)
        out.append({"id": f"{skill}-heldout-{len(out):05d}", "skill": skill, "request": request,
                    "prompt": request + "\n", "answer": answer, "split": SPLIT})
    return out


def ood_cases(n, seed):
    """Templates in turn, so that each gets an equal share whatever the size of its fill space
    (a template with no new fill left drops out). No template here is in skills.py, so none of
    these requests was trained on whatever its key; the key space is not filtered."""
    rng = random.Random(f"{seed}|heldout|ood")
    trained = {normalized_request(r) for r in all_ood_training_requests()}
    seen, out, live = set(), [], list(OOD_TEMPLATES)
    while len(out) < n:
        if not live:
            raise HeldoutError(f"ood: the templates have fewer than {n} distinct requests")
        for template in list(live):
            if len(out) == n:
                break
            for _ in range(50):
                request = draw_ood(rng, template)
                if normalized_request(request) not in seen:
                    break
            else:
                live.remove(template)
                continue
            if normalized_request(request) in trained:
                raise HeldoutError(f"ood: held-out request {request!r} is a skills.py request")
            seen.add(normalized_request(request))
            out.append({"id": f"ood-heldout-{len(out):05d}", "skill": "none", "request": request,
                        "prompt": request + "\n", "answer": "none", "split": SPLIT})
    return out


def routing(sets, seed):
    out = []
    for cases in sets:
        for c in cases:
            out.append({"skill": "route", "prompt": "route: " + c["prompt"], "answer": c["skill"],
                        "split": f"heldout:{c['skill']}"})
    random.Random(f"{seed}|heldout|routing").shuffle(out)
    return [{"id": f"route-heldout-{i:05d}", **c} for i, c in enumerate(out)]


def check_templates():
    """No held-out template may be (up to case, placeholder names and end punctuation) one of
    skills.py's."""
    known = {normalized_template(t): t for t in skills_templates()}
    ours = list(DATE_TEMPLATES) + UNIT_TEMPLATES + UNIT_SPELLED_TEMPLATES + EXTRACT_TEMPLATES
    ours += EXTRACT_SENTENCES + SENTIMENT_TEMPLATES + REVIEW_SENTENCES + REVIEW_NEGATED
    ours += REVERSE_TEMPLATES + OOD_TEMPLATES
    for templates in ARITH_TEMPLATES.values():
        ours += templates
    for t in ours:
        if normalized_template(t) in known:
            raise HeldoutError(f"held-out template {t!r} is skills.py's {known[normalized_template(t)]!r}")
    for name, templates in (("arith +", ARITH_TEMPLATES["+"]), ("arith -", ARITH_TEMPLATES["-"]),
                            ("date", DATE_TEMPLATES), ("unit", UNIT_TEMPLATES + UNIT_SPELLED_TEMPLATES),
                            ("extract", EXTRACT_TEMPLATES), ("sentiment", SENTIMENT_TEMPLATES),
                            ("reverse", REVERSE_TEMPLATES), ("ood", OOD_TEMPLATES)):
        if len(set(templates)) < 8:
            raise HeldoutError(f"{name}: {len(set(templates))} distinct templates, fewer than 8")


def generate(seed):
    """{file name: text} of every file of the split."""
    check_templates()
    sets = [skill_cases(skill, CASES, seed) for skill in skills.SKILLS] + [ood_cases(CASES, seed)]
    requests = {}
    for cases in sets:
        for c in cases:
            if c["request"] != c["request"].strip() or "\n" in c["request"]:
                raise HeldoutError(f"{c['id']}: request {c['request']!r} has surrounding space or a newline")
            if c["request"] in requests:
                raise HeldoutError(f"{c['id']}: request {c['request']!r} repeats {requests[c['request']]}")
            requests[c["request"]] = c["id"]
    files = {}
    for name, cases in zip(skills.SKILLS + ["ood"], sets):
        files[f"{name}.jsonl"] = cases
    files["routing.jsonl"] = routing(sets, seed)
    return {name: "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in cases)
            for name, cases in files.items()}


def write(out_dir, files):
    os.makedirs(out_dir, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<end of file>"
        y = lb[i] if i < len(lb) else "<end of file>"
        if x != y:
            return i + 1, x, y
    return None


def check(seed, committed_dir):
    """0 when the committed files are exactly what the generator writes, else 1."""
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp, generate(seed))
        problems = []
        expected = sorted(n for n in os.listdir(tmp) if n.endswith(".jsonl"))
        present = sorted(n for n in os.listdir(committed_dir) if n.endswith(".jsonl")) \
            if os.path.isdir(committed_dir) else []
        for name in sorted(set(expected) | set(present)):
            if name not in present:
                problems.append(f"{name}: missing from {committed_dir}")
                continue
            if name not in expected:
                problems.append(f"{name}: in {committed_dir} but not written by the generator")
                continue
            with open(os.path.join(tmp, name), "rb") as f:
                want = f.read()
            with open(os.path.join(committed_dir, name), "rb") as f:
                have = f.read()
            if want != have:
                line, w, h = first_difference(want.decode("utf-8", "replace"),
                                              have.decode("utf-8", "replace")) or (0, "", "")
                problems.append(f"{name}: differs at line {line}\n  generated: {w}\n  committed: {h}")
    for p in problems:
        print(f"heldout.py --check: {p}", file=sys.stderr)
    if problems:
        print("regenerate with: python3 models/tasks/heldout.py", file=sys.stderr)
        return 1
    print(f"heldout.py --check: {len(expected)} files in {committed_dir} match the generator")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default models/eval/heldout)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check", action="store_true",
                    help="compare a fresh generation with the files in --out; exit 1 on a difference")
    args = ap.parse_args()
    try:
        if args.check:
            return check(args.seed, args.out)
        files = generate(args.seed)
    except HeldoutError as e:
        print(f"heldout.py: {e}", file=sys.stderr)
        return 1
    write(args.out, files)
    for name in sorted(files):
        print(f"wrote {os.path.join(args.out, name)} ({files[name].count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
