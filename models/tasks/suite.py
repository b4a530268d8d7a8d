"""The task suite: seeded, exactly checkable cases of six skills and of out-of-domain requests, in
splits that measure generalisation.

A case is {"id", "skill", "request", "prompt", "answer", "split"}: `request` is what a person
types (never with surrounding whitespace or a newline), `prompt` the contract's template applied
to it (request + "\\n"), `answer` the exact text the skill must generate.

Three things decide a case's side, each by a SHA-256 that no list order can change:
- the problem key (the operands of a sum, the calendar date, the name/age/city triple, the
  sentiment's (noun, adjective, negation)): training, validation or evaluation (bucket());
- the wording (phrasing.Frame.heldout): training wordings or held-out ones;
- the vocabulary (vocab.heldout_value): names, cities, words and sentiment nouns of training or
  held-out ones.

Splits (SPLITS): train and val (early stopping) use training keys, wordings and vocabulary; the
four evaluation splits use evaluation keys and
  keys       training wordings and vocabulary (new problems only),
  templates  held-out wordings, training vocabulary,
  vocab      training wordings, held-out vocabulary (skills with vocabulary only),
  novel      held-out wordings and held-out vocabulary.
Skills without vocabulary (arith, date, unit) have no vocab split, and their novel split is their
templates split. Sentiment adjectives carry the label, so they are never held out (a model cannot
know the polarity of a word it never saw); its nouns are.
"""
import hashlib
import random

import phrasing
import problems
import templates
import vocab

SKILLS = ["arith", "date", "unit", "extract", "sentiment", "reverse"]
VOCAB_SKILLS = {"extract", "sentiment", "reverse", "ood"}
# split -> (key part, held-out wordings, held-out vocabulary)
SPLITS = {
    "train": ("train", False, False), "val": ("val", False, False), "keys": ("eval", False, False),
    "templates": ("eval", True, False), "vocab": ("eval", False, True), "novel": ("eval", True, True),
}
EVAL_SPLITS = ["keys", "templates", "vocab", "novel"]


def bucket(skill, key):
    """0-7 training, 8 validation, 9 evaluation."""
    return hashlib.sha256(f"{skill}|{key}".encode()).digest()[0] % 10


def key_part(skill, key):
    b = bucket(skill, key)
    return "eval" if b == 9 else "val" if b == 8 else "train"


def splits_of(skill):
    """The splits `skill` has ("vocab" only where it has vocabulary)."""
    return [s for s in SPLITS if s != "vocab" or skill in VOCAB_SKILLS]


# --- frames ---------------------------------------------------------------------------------------

def _outer(frames):
    return [(t.replace("{t}", "{e}"), k) for t, k in frames]


def _more(body):
    return body + "{more}{tail}"


FRAMES = {f"arith{op}": templates.arith_frames(op) for op in problems.ARITH_OPS}
FRAMES.update({
    "date": templates.whole_frames("date", templates.DATE_FRAMES),
    "unit": templates.whole_frames("unit", templates.UNIT_FRAMES),
    "extract": templates.stem_frames("extract", templates.EXTRACT_STEMS, templates.extract_sentences()),
    "sentiment": templates.stem_frames("sentiment", _outer(templates.SENTIMENT_FRAMES),
                                       [_more(r) for r in templates.REVIEWS]),
    "sentiment-negated": templates.stem_frames("sentiment", _outer(templates.SENTIMENT_FRAMES),
                                               [_more(r) for r in templates.REVIEWS_NEGATED]),
    "reverse": templates.stem_frames("reverse", templates.REVERSE_STEMS, templates.REVERSE_BODIES),
    "ood": templates.whole_frames("ood", templates.OOD_FRAMES),
})
# Each frame list split once by side: {name: {heldout: frames}}.
FRAME_SIDES = {name: {held: [f for f in frames if f.heldout == held] for held in (False, True)}
               for name, frames in FRAMES.items()}


# --- problems with their wording -----------------------------------------------------------------

COUNTRIES = ["France", "Japan", "Brazil", "Kenya", "Canada", "Norway", "Peru", "India", "Egypt",
             "Chile", "Spain", "Italy", "Mexico", "Ghana", "Nepal", "Iceland", "Vietnam", "Poland",
             "Morocco", "Argentina", "Finland", "Greece", "Turkey", "Portugal"]
THINGS = ["cats", "the sea", "autumn", "robots", "coffee", "mountains", "friendship", "rain",
          "bicycles", "the moon", "trains", "gardens", "volcanoes", "bees", "clouds", "libraries",
          "dragons", "winter", "rivers", "owls"]
WORDS = ["apple", "window", "happiness", "journey", "river", "castle", "dream", "silver", "bridge",
         "candle", "forest", "garden", "honey", "island", "lantern", "meadow", "pepper", "thunder"]
ANIMALS = ["dog", "cat", "hamster", "parrot", "goldfish", "rabbit", "turtle", "horse", "puppy", "kitten"]
APPS = ["camera", "calendar", "maps", "weather", "notes", "music", "mail", "clock", "photos"]
ROOMS = ["kitchen", "bedroom", "living room", "bathroom", "garage", "office", "hallway"]
FOODS = ["pancakes", "lasagna", "tomato soup", "banana bread", "fried rice", "guacamole",
         "apple pie", "pad thai", "chili", "risotto"]


def ood_values(rng, heldout):
    city, city2 = vocab.draw("city", rng, heldout), vocab.draw("city", rng, heldout)
    name = vocab.draw("person", rng, heldout)
    return {"vocab": [name, city, city2], "country": rng.choice(COUNTRIES),
            "thing": rng.choice(THINGS), "word": rng.choice(WORDS), "name": name,
            "city": city, "city2": city2, "h": rng.randint(1, 12), "animal": rng.choice(ANIMALS),
            "app": rng.choice(APPS), "room": rng.choice(ROOMS), "food": rng.choice(FOODS),
            "minutes": rng.randint(1, 90), "n": rng.randint(2, 400), "a": rng.randint(2, 99),
            "b": rng.randint(2, 99), "month": rng.choice(problems.MONTHS),
            "year": rng.randint(1900, 2049)}


def sentiment_values(rng, heldout):
    noun, adjective, negated, positive = problems.sentiment_key(rng, heldout)
    more = ""
    if rng.random() < 0.3:  # a second clause of the label's polarity
        other = problems.subject(rng, problems.vocab_noun(rng, heldout))
        more = f" and {other} was {rng.choice(problems.POSITIVE if positive else problems.NEGATIVE)}"
    values = {"s": problems.subject(rng, noun), "i": rng.choice(problems.INTENSIFIERS), "w": adjective,
              "more": more, "tail": rng.choice(problems.TAILS)}
    key = f"{noun}|{adjective}|{'not' if negated else 'is'}"
    values["vocab"] = [noun] + ([other.split(" ", 1)[1]] if more else [])
    return key, "sentiment-negated" if negated else "sentiment", values, \
        "positive" if positive else "negative"


def problem(skill, rng, heldout_vocab, hard):
    """(key, frame list name, values, answer) of one problem."""
    if skill == "arith":
        op = rng.choice(problems.ARITH_OPS)
        key, values, answer = problems.arith(rng, op)
        return key, f"arith{op}", values, answer
    if skill == "sentiment":
        return sentiment_values(rng, heldout_vocab)
    if skill == "ood":
        return None, "ood", ood_values(rng, heldout_vocab), "none"
    draws = {"date": lambda: problems.date(rng), "unit": lambda: problems.unit(rng),
             "extract": lambda: problems.extract(rng, heldout_vocab),
             "reverse": lambda: problems.reverse(rng, heldout_vocab, hard)}
    if skill not in draws:
        raise ValueError(f"unknown skill {skill!r}")
    key, values, answer = draws[skill]()
    return key, skill, values, answer


FILLERS = ["no rush", "thanks in advance", "if you can", "real quick", "for a friend", "just curious",
           "sorry to bother you", "i was wondering", "btw", "hmm", "well", "so yeah", "one more thing",
           "asap", "lol", "good morning", "hi there", "hello again", "quick one", "help me out"]


def with_filler(rng, request):
    """`request` after a filler: a stock phrase or one to three generated words (never held-out
    vocabulary), then a comma or a colon. Teaches a model that words it does not know around a
    request do not change it, which is what a held-out wording looks like to it."""
    if rng.random() < 0.5:
        filler = rng.choice(FILLERS)
    else:
        filler = " ".join(vocab.draw("word", rng, False) for _ in range(rng.randint(1, 3)))
    return f"{filler}{rng.choice([', ', ': ', ' - '])}{request}"


def cases(skill, split, n, seed, hard=False, unique=None, noise=0.0):
    """n cases of `skill` ("ood" included) from `split`. unique (default: every split but train):
    no problem key twice. noise: the share of requests that get a filler (with_filler), drawn
    from a stream of its own, so that the problems and wordings are those without noise."""
    if split not in splits_of(skill):
        raise ValueError(f"{skill} has no {split} split")
    part, held_frames, held_vocab = SPLITS[split]
    unique = split != "train" if unique is None else unique
    rng = random.Random(f"{seed}|{skill}|{split}|{hard}")
    noise_rng = random.Random(f"{seed}|{skill}|{split}|{hard}|noise")
    seen, out, attempts = set(), [], 0
    name = f"{skill}{'-hard' if hard else ''}"
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 100000:
            raise RuntimeError(f"{name}/{split}: key space too small for {n} cases")
        key, frames, values, answer = problem(skill, rng, held_vocab, hard)
        frame = rng.choice(FRAME_SIDES[frames][held_frames])
        used = values.pop("vocab", [])
        request = phrasing.render(rng, frame, **values)
        if key is None:  # out of domain: the request is the problem
            key = request.lower()
        if key_part(skill, key) != part or (unique and key in seen):
            continue
        if request != request.strip() or "\n" in request:
            raise RuntimeError(f"{name}/{split}: request {request!r} has surrounding space or a newline")
        seen.add(key)
        if noise and noise_rng.random() < noise:
            request = with_filler(noise_rng, request)
        out.append({"id": f"{name}-{split}-{len(out):05d}", "skill": skill, "request": request,
                    "prompt": request + "\n", "answer": answer, "split": split, "key": key,
                    "frame": frame.text, "vocab": used})
    return out


def routed(by_skill, split, shuffle_seed):
    """Router cases from skill cases ({skill or "ood": cases}): "route: " + prompt, labelled with
    the skill or none, shuffled (seeded) so that any prefix mixes every source."""
    out = []
    for skill, skill_cases in by_skill.items():
        label = "none" if skill == "ood" else skill
        out += [{"skill": "route", "request": c["request"], "prompt": "route: " + c["prompt"],
                 "answer": label, "split": f"{split}:{label}", "key": c["key"], "frame": c["frame"],
                 "vocab": c["vocab"]} for c in skill_cases]
    random.Random(shuffle_seed).shuffle(out)
    return [{"id": f"route-{split}-{i:05d}", **c} for i, c in enumerate(out)]


def routing_cases(split, n_per_skill, n_none, seed):
    """Requests of every skill labelled with the skill, and out-of-domain ones labelled none."""
    by_skill = {skill: cases(skill, split, n_none if skill == "ood" else n_per_skill, seed + 1)
                for skill in SKILLS + ["ood"] if split in splits_of(skill)}
    return routed(by_skill, split, f"{seed}|shuffle|{split}")
