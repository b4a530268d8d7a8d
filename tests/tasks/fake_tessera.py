"""A stand-in for the `tessera` binary in orchestration_results_test.py: answers --version,
`facts`, `ask --batch FILE --json --home DIR` and `eval MODEL --set FILE --json -t 1
--show-failures K` the way their contracts say, from rules on the request text:

  ask   a request whose first word is a skill name is answered "ok" by "<skill>@1.0.0" (one step
        of 10 parameters x 5 tokens, router 100 parameters x 4 tokens, 1 ms), any other one is
        abstained (router route "none"); exits 1 because some request was not answered.
  eval  a case is right when its prompt contains "0"; 5 prompt and 3 generated tokens per case;
        latency p50 2 ms, p95 3 ms.
  facts 1000 parameters.

FAKE_HOME: the --home ask must get (eval must get none). FAKE_FAIL=eval: eval fails with an
error on stderr; FAKE_FAIL=ask-short: ask prints one line fewer than it was given.
"""
import json
import os
import sys

SKILLS = ["arith", "date", "unit", "extract", "sentiment", "reverse"]


def flag(args, name):
    return args[args.index(name) + 1]


def ask(args):
    assert args[1] == "--batch" and "--json" in args, args
    assert flag(args, "--home") == os.environ["FAKE_HOME"], args
    with open(args[2]) as f:
        lines = [json.loads(line) for line in f]
    if os.environ.get("FAKE_FAIL") == "ask-short":
        lines = lines[:-1]
    for c in lines:
        w = c["request"].split()[0]
        known = w in SKILLS
        module = f"{w}@1.0.0" if known else None
        steps = [{"module": module, "parameters": 10, "prompt_tokens": 3, "output_tokens": 2,
                  "accepted": True, "reason": "confident"}] if known else []
        print(json.dumps({
            "id": c["id"], "outcome": "answered" if known else "abstained",
            "answer": "ok" if known else None, "route": w if known else None, "module": module,
            "confidence": 0.9 if known else None, "escalations": 0, "steps": steps,
            "router": {"name": "router", "route": w if known else "none", "confidence": 0.9,
                       "margin": 0.5, "parameters": 100, "tokens": 4},
            "evidence": 1, "latency_ms": 1.0}))
    print("answered some, abstained on others", file=sys.stderr)
    return 1


def evaluate(args):
    assert "--home" not in args and flag(args, "-t") == "1" and "--json" in args, args
    if os.environ.get("FAKE_FAIL") == "eval":
        print("tessera: io_error: fake eval exploded", file=sys.stderr)
        return 2
    with open(flag(args, "--set")) as f:
        cases = [json.loads(line) for line in f]
    bad = [c for c in cases if "0" not in c["prompt"]]
    print(json.dumps({
        "exact_match": {"correct": len(cases) - len(bad), "total": len(cases)},
        "throughput": {"prompt_tokens": 5 * len(cases), "decode_tokens": 3 * len(cases)},
        "latency_ms": {"p50": 2.0, "p95": 3.0},
        "failures": [{"id": c["id"]} for c in bad][:int(flag(args, "--show-failures"))]}))
    return 0


def main(args):
    if args == ["--version"]:
        print("tessera 0.0.0-fake")
        return 0
    if args[0] == "facts":
        print(json.dumps({"parameters": 1000}))
        return 0
    if args[0] == "ask":
        return ask(args)
    if args[0] == "eval":
        return evaluate(args)
    print(f"fake tessera: unexpected arguments {args}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
