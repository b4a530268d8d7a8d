"""Tests of the task suite's generators (suite.py and its parts): splits are disjoint by problem,
wording and vocabulary, and every answer is right, checked by means written apart from the
generators (own unit table, own parsing). Standard library only; run with
`python3 -m unittest models/tasks/test_suite.py` or through CTest (tests/tasks).
"""
import datetime
import json
import os
import re
import sys
import unittest
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phrasing  # noqa: E402
import suite  # noqa: E402
import templates  # noqa: E402
import vocab  # noqa: E402

SEED = 7
N_TRAIN, N_EVAL = 1500, 200
ALL = suite.SKILLS + ["ood"]

# Each unit in a base unit of its quantity (metre, gram, litre, second, bit, inch, ounce, pint),
# written here from the definitions, not from problems.py.
BASE = {
    "km": 1000, "m": 1, "cm": Fraction(1, 100), "mm": Fraction(1, 1000), "t": 1000000, "kg": 1000,
    "g": 1, "mg": Fraction(1, 1000), "l": 1, "ml": Fraction(1, 1000), "week": 604800, "day": 86400,
    "h": 3600, "min": 60, "s": 1, "ms": Fraction(1, 1000), "bit": 1, "B": 8, "kB": 8000,
    "MB": 8000000, "GB": 8000000000, "KiB": 8 * 1024, "MiB": 8 * 1024 ** 2, "GiB": 8 * 1024 ** 3,
    "mi": 63360, "yd": 36, "ft": 12, "in": 1, "lb": 16, "oz": 1, "gal": 8, "qt": 2, "pt": 1,
}

CACHE = {}


def get(skill, split, n=N_EVAL, **kw):
    k = (skill, split, n, tuple(sorted(kw.items())))
    if k not in CACHE:
        CACHE[k] = suite.cases(skill, split, n, SEED, **kw)
    return CACHE[k]


def train(skill):
    return get(skill, "train", N_TRAIN)


def numbers(text):
    return [int(x) for x in re.findall(r"(?<![\d.])\d+(?!\.\d|\d)", text)]


class Splits(unittest.TestCase):
    def test_problem_keys_never_cross_splits(self):
        for skill in ALL:
            trained = {c["key"] for c in train(skill)}
            val = {c["key"] for c in get(skill, "val")}
            self.assertFalse(trained & val, skill)
            for split in suite.EVAL_SPLITS:
                if split not in suite.splits_of(skill):
                    continue
                keys = [c["key"] for c in get(skill, split)]
                self.assertEqual(len(keys), len(set(keys)), f"{skill}/{split}: a key twice")
                self.assertFalse(trained & set(keys), f"{skill}/{split} shares a key with train")
                self.assertFalse(val & set(keys), f"{skill}/{split} shares a key with val")

    def test_no_evaluation_request_was_trained_on(self):
        for skill in ALL:
            trained = {c["request"].lower() for c in train(skill)}
            for split in suite.EVAL_SPLITS:
                if split in suite.splits_of(skill):
                    for c in get(skill, split):
                        self.assertFalse(c["request"].lower() in trained, f"{c['id']}: {c['request']}")

    def test_held_out_wordings_never_reach_training(self):
        for skill in ALL:
            trained = {c["frame"] for c in train(skill)}
            for split in ("templates", "novel"):
                frames = {c["frame"] for c in get(skill, split)}
                self.assertFalse(trained & frames, f"{skill}/{split}")
            for split in ("keys", "vocab"):
                if split in suite.splits_of(skill):
                    self.assertTrue({c["frame"] for c in get(skill, split)} <= trained | {
                        f.text for fl in suite.FRAMES.values() for f in fl if not f.heldout}, skill)

    def test_held_out_stems_appear_only_in_held_out_frames(self):
        # A held-out stem ("do you know what {e} is?") is in no training frame at all; every body
        # (the words that carry the operation) and every core frame is trained somewhere.
        for op in "+-*":
            frames = {f.text: f for f in suite.FRAMES[f"arith{op}"]}
            held_stems = 0
            for stem, _ in templates.ARITH_STEMS:
                held = phrasing.chosen(f"part|arith{op}", stem, phrasing.PART_HELDOUT)
                held_stems += held
                for body in templates.ARITH_BODIES[op]:
                    if held:
                        self.assertTrue(frames[stem.replace("{e}", body)].heldout, (stem, body))
            self.assertGreater(held_stems, 0, op)
            for body in templates.ARITH_BODIES[op]:
                self.assertTrue(any(not frames[s.replace("{e}", body)].heldout
                                    for s, _ in templates.ARITH_STEMS), body)
            for text, _ in templates.ARITH_WHOLE[op]:
                self.assertFalse(frames[text].heldout, text)
        for name, frames in suite.FRAMES.items():
            held = [f for f in frames if f.heldout]
            kept = [f for f in frames if not f.heldout]
            self.assertTrue(kept and held, name)
            share = len(held) / len(frames)
            self.assertGreaterEqual(share, 0.2, name)
            self.assertLessEqual(share, 0.6, name)
            self.assertGreaterEqual(len(kept), 10, f"{name}: too few training wordings")

    def test_vocabulary_sides(self):
        for skill in sorted(suite.VOCAB_SKILLS):
            for split, held in (("train", False), ("val", False), ("keys", False), ("templates", False),
                                ("vocab", True), ("novel", True)):
                cases = train(skill) if split == "train" else get(skill, split)
                for c in cases:
                    self.assertTrue(c["vocab"], c["id"])
                    for value in c["vocab"]:
                        self.assertEqual(vocab.heldout_value(value), held, f"{c['id']}: {value!r}")

    def test_vocabulary_is_large_and_copied_not_listed(self):
        names = {c["key"].split("|")[0] for c in train("extract")}
        self.assertGreater(len(names), 0.9 * N_TRAIN)  # almost never the same name twice
        held = {c["key"].split("|")[0] for c in get("extract", "vocab")}
        self.assertFalse(names & held)

    def test_accents_in_held_out_names_are_seen_in_training(self):
        trained = {ch for c in train("extract") for ch in c["prompt"]}
        for c in get("extract", "novel") + get("extract", "vocab"):
            for ch in c["answer"]:
                if ord(ch) > 127:
                    self.assertIn(ch, trained, c["id"])


class Requests(unittest.TestCase):
    def test_hygiene(self):
        for skill in ALL:
            for split in suite.splits_of(skill):
                for c in (train(skill) if split == "train" else get(skill, split)):
                    self.assertEqual(c["request"], c["request"].strip(), c["id"])
                    self.assertNotIn("\n", c["request"])
                    self.assertEqual(c["prompt"], c["request"] + "\n")
                    self.assertNotIn("{", c["request"].replace('{"', ""), c["id"])
                    self.assertEqual(c["split"], split)

    def test_deterministic(self):
        self.assertEqual(suite.cases("extract", "novel", 30, 3), suite.cases("extract", "novel", 30, 3))
        self.assertNotEqual(suite.cases("extract", "novel", 30, 3), suite.cases("extract", "novel", 30, 4))

    def test_variety(self):
        for skill in ALL:
            frames = {c["frame"] for c in train(skill)}
            self.assertGreaterEqual(len(frames), 10, skill)
            styles = {c["request"][:1].isupper() for c in train(skill)}
            self.assertEqual(styles, {True, False}, f"{skill}: casing never varies")

    def test_noise_adds_fillers_and_keeps_the_problems(self):
        plain = suite.cases("extract", "train", 200, 3)
        noisy = suite.cases("extract", "train", 200, 3, noise=0.5)
        self.assertEqual([c["answer"] for c in plain], [c["answer"] for c in noisy])
        changed = [(p, q) for p, q in zip(plain, noisy) if p["request"] != q["request"]]
        self.assertGreater(len(changed), 60)
        self.assertLess(len(changed), 140)
        for p, q in changed:
            self.assertTrue(q["request"].endswith(p["request"]), q["request"])
            self.assertTrue(q["prompt"].endswith(p["prompt"]))

    def test_unknown_split_is_refused(self):
        with self.assertRaises(ValueError):
            suite.cases("arith", "vocab", 1, 1)

    def test_routing(self):
        cases = suite.routing_cases("novel", 20, 30, SEED)
        labels = {c["answer"] for c in cases}
        self.assertEqual(labels, set(suite.SKILLS) | {"none"})
        for c in cases:
            self.assertTrue(c["prompt"].startswith("route: "))
            self.assertTrue(c["prompt"].endswith("\n"))
        self.assertEqual(len({c["id"] for c in cases}), len(cases))


class Answers(unittest.TestCase):
    def each(self, skill, **kw):
        for split in suite.splits_of(skill):
            yield from (train(skill) if split == "train" and not kw else get(skill, split, **kw))

    def test_arith(self):
        ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
        seen_ops, negative = set(), False
        for c in self.each("arith"):
            m = re.fullmatch(r"(\d+)([-+*])(\d+)=(-?\d+)", c["answer"])
            self.assertIsNotNone(m, c["id"])
            a, op, b, v = int(m[1]), m[2], int(m[3]), int(m[4])
            self.assertEqual(ops[op](a, b), v, c["id"])
            # Operands as written; only a minuend may follow the subtrahend ("take 3 from 5").
            nums = numbers(c["request"])
            a_first = c["frame"].index("{a}") < c["frame"].index("{b}")
            self.assertEqual(nums, [a, b] if a_first else [b, a], c["id"] + ": " + c["request"])
            if not a_first:
                self.assertEqual(op, "-", c["id"])
            seen_ops.add(op)
            negative |= v < 0
        self.assertEqual(seen_ops, set("+-*"))
        self.assertTrue(negative)

    def test_date(self):
        months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        for c in self.each("date"):
            day = datetime.date.fromisoformat(c["answer"])
            text = c["request"].lower()
            self.assertIn(str(day.year), text, c["id"])
            named = [i + 1 for i, m in enumerate(months) if re.search(r"\b" + m, text)]
            if named:
                self.assertEqual(named, [day.month], c["id"] + ": " + text)
                self.assertIn(day.day, numbers(text.replace(str(day.year), "")), c["id"])
            else:
                parts = [int(p) for p in re.findall(r"\d+", text) if p != str(day.year)]
                self.assertEqual(sorted(p for p in parts if p not in (8601,)), sorted([day.month, day.day]), c["id"])

    def test_no_ambiguous_numeric_date(self):
        for c in self.each("date"):
            for d1, d2 in re.findall(r"\b(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}\b", c["request"]):
                self.assertFalse(int(d1) <= 12 and int(d2) <= 12 and d1 != d2, c["request"])

    def test_unit(self):
        spelled = {}
        import problems
        for unit, (symbols, singular, plural) in problems.UNITS.items():
            for s in symbols + singular + plural:
                spelled.setdefault(s.lower(), set()).add(unit)
        for c in self.each("unit"):
            v = int(re.match(r"\d+", c["key"])[0])
            src, dst = re.fullmatch(r"\d+(\w+)>(\w+)", c["key"]).groups()
            self.assertEqual(Fraction(c["answer"]), v * Fraction(BASE[src]) / Fraction(BASE[dst]), c["id"])
            self.assertIn(v, numbers(c["request"]), c["id"])
            words = re.findall(r"[A-Za-z]+", c["request"])
            units = [spelled.get(w.lower(), set()) for w in words]
            self.assertTrue(any(src in u for u in units), c["id"] + ": " + c["request"])
            self.assertTrue(any(dst in u for u in units), c["id"] + ": " + c["request"])

    def test_extract(self):
        for c in self.each("extract"):
            got = json.loads(c["answer"])
            self.assertEqual(list(got), ["name", "age", "city"])
            self.assertIn(got["name"], c["request"], c["id"])
            self.assertIn(got["city"], c["request"], c["id"])
            self.assertIn(got["age"], numbers(c["request"]), c["id"])

    def test_sentiment(self):
        import problems
        for c in self.each("sentiment"):
            noun, adjective, negation = c["key"].split("|")
            text = c["request"].lower()
            self.assertRegex(text, r"\b" + adjective + r"\b")
            self.assertIn(noun, text)
            negated = re.search(r"\b(not|n't|never|hardly|nobody|far from)\b|n't", text) is not None
            self.assertEqual(negated, negation == "not", c["id"] + ": " + text)
            positive = (adjective in problems.POSITIVE) != (negation == "not")
            self.assertEqual(c["answer"], "positive" if positive else "negative", c["id"])

    def test_reverse(self):
        for c in list(self.each("reverse")) + get("reverse", "novel", hard=True):
            self.assertIn(c["answer"][::-1], c["request"], c["id"])
            self.assertEqual(c["answer"][::-1].lower(), c["key"])

    def test_ood(self):
        for c in self.each("ood"):
            self.assertEqual(c["answer"], "none")


class Phrasing(unittest.TestCase):
    def test_render_keeps_values_and_varies_the_rest(self):
        import random
        rng = random.Random(1)
        frame = phrasing.Frame("what is {a} plus {b}?", "ask", False)
        out = {phrasing.render(rng, frame, a="Xy", b=3) for _ in range(300)}
        self.assertTrue(all("Xy" in r and "3" in r for r in out))
        self.assertGreater(len(out), 10)
        self.assertTrue(any(r.startswith("WHAT IS") for r in out))


if __name__ == "__main__":
    unittest.main()
