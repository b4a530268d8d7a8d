"""The bundled policy (models/policies/skills/policy.json) against the shipped evaluation sets
(models/eval/<split>/, models/tasks/README.md), with Python's re standing in for the runtime's
linear-time regexes (the patterns use only what both read the same way):

- every in-domain request of every split passes its route's declared domain (input_pattern), so
  the policy never abstains on a request its skill was trained for;
- the rule router never names a wrong route: on every request of every split, out-of-domain ones
  included, a rule decision (scored mode: the lead of the best route reaches min_margin) is the
  request's skill. Rules are for precision; the router model covers the rest.

Usage: policy_test.py SOURCE_DIR
"""
import json
import os
import re
import sys
import unittest

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
SPLITS = ["keys", "templates", "vocab", "novel"]
SKILLS = ["arith", "date", "unit", "extract", "sentiment", "reverse"]


def load_policy():
    with open(os.path.join(ROOT, "models", "policies", "skills", "policy.json")) as f:
        return json.load(f)


def requests(split, name):
    path = os.path.join(ROOT, "models", "eval", split, name + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["request"] for line in f if line.strip()]


def ascii_lower(text):
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def keyword_hit(keyword, text):
    # A keyword matches as a whole word or phrase (docs/formats/policy.md 2.1).
    return re.search(r"(?<![A-Za-z0-9_])" + re.escape(keyword) + r"(?![A-Za-z0-9_])", text) is not None


def rule_decision(router, request):
    """The route a scored rule router decides for `request`, or None when it abstains."""
    text = request if router.get("case_sensitive") else ascii_lower(request)
    weights = {}
    for rule in router["rules"]:
        n = len(request)
        if n < rule.get("min_chars", 0) or n > rule.get("max_chars", 1 << 30):
            continue
        hit = any(keyword_hit(ascii_lower(k) if not router.get("case_sensitive") else k, text)
                  for k in rule.get("keywords", [])) or \
            any(re.search(p, text) for p in rule.get("patterns", []))
        if hit:
            weights[rule["route"]] = weights.get(rule["route"], 0) + rule.get("weight", 1)
    if not weights:
        return None
    ranked = sorted(weights.values(), reverse=True) + [0]
    if ranked[0] - ranked[1] < router.get("min_margin", 0):
        return None
    return max(weights, key=weights.get)


class PolicyAgainstEvalSets(unittest.TestCase):
    def setUp(self):
        self.policy = load_policy()
        self.rules = next(r for r in self.policy["routers"] if r["type"] == "rules")

    def test_every_in_domain_request_passes_its_routes_domain(self):
        for skill in SKILLS:
            pattern = self.policy["routes"][skill].get("input_pattern")
            if pattern is None:
                continue
            compiled = re.compile(pattern)
            for split in SPLITS:
                for name in (skill, f"{skill}-hard") if skill == "reverse" else (skill,):
                    for request in requests(split, name):
                        self.assertTrue(compiled.search(ascii_lower(request)),
                                        f"{split}/{name}: {request!r} is outside the {skill} route's domain")

    def test_rules_never_name_a_wrong_route(self):
        decided = total = 0
        for split in SPLITS:
            for name in SKILLS + ["ood"]:
                for request in requests(split, name):
                    route = rule_decision(self.rules, request)
                    total += 1
                    if route is not None:
                        decided += 1
                        self.assertEqual(route, name, f"{split}/{name}: the rules route {request!r} to {route}")
        self.assertGreater(total, 10000)
        print(f"rules decided {decided} of {total} requests, every one right", file=sys.stderr)

    def test_the_sets_exist(self):
        for split in SPLITS:
            for skill in SKILLS:
                if split != "vocab" or skill in ("extract", "sentiment", "reverse"):
                    self.assertEqual(len(requests(split, skill)), 500, f"{split}/{skill}")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
