"""A stand-in for the `tessera` binary in orchestration_results_test.py: answers --version,
`facts`, `ask --batch FILE --json [--policy ID] --home DIR -t 1`, `eval MODEL --set FILE --json
-t 1 --show-failures K`, and for the router ablations `show ID --json --home COPY`, `pack DIR -o
FILE --key local --home COPY`, `install FILE --home COPY` and `ask --batch FILE --json --dry-run
--policy ID --home COPY -t 1`, the way their contracts say, from rules on the request text:

  ask   a request whose first word is a skill name is answered "ok" by "<skill>@1.0.0" (one step
        of 10 parameters x 5 tokens, router 100 parameters x 4 tokens, 1 ms), any other one is
        abstained (router route "none"); exits 1 because some request was not answered.
  ask --dry-run  routes with the installed variant's routers in order; the first that decides
        wins (a route, or none = out of domain); an undecided router passes on:
          rules       the first word is a skill: that route;
          classifier  the last word is a skill: that route; else a request ending in "?": none;
          embedding   a skill word anywhere: label = the first one with module dev.tessera.router
                      (similarity 0.9), "reverse" with any other module (similarity 0.6); no
                      skill word: label none (similarity 0.7, 0.5); a similarity below the
                      router's threshold: undecided.
        Nothing runs: outcome "dry_run", no steps; exit status 0.
  eval  a case is right when its prompt contains "0"; 5 prompt and 3 generated tokens per case;
        latency p50 2 ms, p95 3 ms.
  facts 1000 parameters.
  show  the bundled policy's manifest (REQUIRES, ARTIFACTS with sizes and digests).
  pack  checks the folder (the manifest without artifact digests, REQUIRES kept, every artifact
        present) and writes it as one JSON file; install keeps it in COPY/fake-policies/.

FAKE_HOME: the store given to the script: ask must get it as --home, the ablation commands a
copy of it (never FAKE_HOME itself), eval none. FAKE_POLICY: the --policy ask must get (none when
unset). FAKE_FAIL=eval: eval fails with an error on stderr; FAKE_FAIL=ask-short: ask prints one
line fewer than it was given; FAKE_FAIL=dry-run-steps: a dry run reports a step.
"""
import json
import os
import re
import sys

SKILLS = ["arith", "date", "unit", "extract", "sentiment", "reverse"]
REQUIRES = [{"id": "dev.tessera.router", "version": "^1.0.0"},
            {"id": "dev.tessera.skills.arith", "version": "^1.0.0"}]
ARTIFACTS = [{"role": "policy", "name": "policy.json",
              "media_type": "application/vnd.tessera.policy+json"},
             {"role": "router-exemplars", "name": "exemplars.jsonl",
              "media_type": "application/x-ndjson"}]


def flag(args, name):
    return args[args.index(name) + 1]


def copy_home(args):
    """The --home of an ablation command: an existing copy of FAKE_HOME, never FAKE_HOME."""
    home = flag(args, "--home")
    assert os.path.realpath(home) != os.path.realpath(os.environ["FAKE_HOME"]), args
    assert os.path.exists(os.path.join(home, "store.marker")), (home, os.listdir(home))
    return home


def show(args):
    assert args[1:] == ["dev.tessera.policy.skills", "--json", "--home", copy_home(args)], args
    print(json.dumps({"id": args[1], "kind": "policy", "manifest": {
        "schema": "tessera.package/v2", "id": args[1], "version": "1.0.0", "kind": "policy",
        "title": "t", "description": "d", "license": "L",
        "artifacts": [dict(a, sha256="00" * 32, size=1) for a in ARTIFACTS],
        "runtime": {"versions": ">=0.1.0 <0.2.0", "package_abi": 1},
        "dependencies": {"requires": REQUIRES}, "capabilities": ["route:skills"]}}))
    return 0


def pack(args):
    folder, out = args[1], flag(args, "-o")
    assert flag(args, "--key") == "local" and copy_home(args), args
    with open(os.path.join(folder, "manifest.json")) as f:
        m = json.load(f)
    assert m["id"].startswith("dev.tessera.policy.ablation-"), m["id"]
    assert m["artifacts"] == ARTIFACTS, m["artifacts"]
    assert m["dependencies"] == {"requires": REQUIRES} and m["version"] == "1.0.0", m
    with open(os.path.join(folder, "policy.json")) as f:
        policy = json.load(f)
    with open(os.path.join(folder, "exemplars.jsonl")) as f:
        exemplars = f.read()
    assert exemplars == "exemplars of the test tree\n", exemplars
    with open(out, "w") as f:
        json.dump({"manifest": m, "policy": policy}, f)
    return 0


def install(args):
    home = copy_home(args)
    with open(args[1]) as f:
        package = json.load(f)
    os.makedirs(os.path.join(home, "fake-policies"), exist_ok=True)
    with open(os.path.join(home, "fake-policies", package["manifest"]["id"] + ".json"), "w") as f:
        json.dump(package["policy"], f)
    return 0


def decide(router, request):
    """(decided, route or None) of one router on a request."""
    words = re.findall(r"[a-z0-9]+", request.lower())
    skills = [w for w in words if w in SKILLS]
    if router["type"] == "rules":
        return (True, words[0]) if words and words[0] in SKILLS else (False, None)
    if router["type"] == "classifier":
        if words and words[-1] in SKILLS:
            return True, words[-1]
        return (True, None) if request.endswith("?") else (False, None)
    own = router["module"] == "dev.tessera.router"
    if skills:
        label, similarity = (skills[0], 0.9) if own else ("reverse", 0.6)
    else:
        label, similarity = None, 0.7 if own else 0.5
    return (True, label) if similarity >= router["threshold"] else (False, None)


def dry_run(args, lines):
    with open(os.path.join(copy_home(args), "fake-policies",
                           flag(args, "--policy") + ".json")) as f:
        policy = json.load(f)
    for c in lines:
        route, reason, name = None, "no router was confident enough to choose a route", None
        for router in policy["routers"]:
            decided, route = decide(router, c["request"])
            if decided:
                name = router["name"]
                reason = "dry run: nothing was loaded, evicted or run" if route else \
                    f"out of domain (router {name})"
                break
        steps = [{"module": "m@1", "parameters": 1, "prompt_tokens": 1, "output_tokens": 1,
                  "accepted": True, "reason": "ran"}] \
            if os.environ.get("FAKE_FAIL") == "dry-run-steps" else []
        print(json.dumps({
            "id": c["id"], "outcome": "dry_run", "answer": None, "route": route,
            "module": None, "confidence": None, "reason": reason, "escalations": 0,
            "steps": steps, "router": {"name": name, "route": route, "confidence": None,
                                       "margin": None, "parameters": 100, "tokens": 0},
            "evidence": 0, "latency_ms": 0.5}))
    return 0


def ask(args):
    assert args[1] == "--batch" and "--json" in args and args[-2:] == ["-t", "1"], args
    with open(args[2]) as f:
        lines = [json.loads(line) for line in f]
    if "--dry-run" in args:
        return dry_run(args, lines)
    assert flag(args, "--home") == os.environ["FAKE_HOME"], args
    policy = os.environ.get("FAKE_POLICY")
    assert (flag(args, "--policy") if "--policy" in args else None) == policy, args
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
    commands = {"show": show, "pack": pack, "install": install}
    if args[0] in commands:
        return commands[args[0]](args)
    print(f"fake tessera: unexpected arguments {args}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
