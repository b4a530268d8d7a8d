"""Whole runs of scripts/orchestration-results (case files, the tessera commands and their
flags, output parsing, failure handling, the router ablations in a copy of the store, the
benchmarks, docs/results.md) against fake_tessera.py and fake_bench.py on a small temporary
tree. Standard library only; exits 1 after listing every mismatch.

Usage: orchestration_results_test.py [SOURCE_DIR]   (default: two folders up from this file)
"""
import argparse
import importlib.machinery
import json
import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_script(source_dir):
    path = os.path.join(source_dir, "scripts", "orchestration-results")
    loader = importlib.machinery.SourceFileLoader("orchestration_results", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def make_tree(orr, root):
    """Three cases per file; with --limit 2 the third must never be asked."""
    ev = os.path.join(root, "models", "eval")
    for split in orr.SPLITS:
        os.makedirs(os.path.join(ev, split))
    open(os.path.join(root, "models", "generalist.gguf"), "w").close()
    for skill in orr.SKILLS:
        orr.write_jsonl(os.path.join(ev, "keys", f"{skill}.jsonl"),
                        [{"id": f"{skill}-{i}", "skill": skill, "request": f"{skill} q{i}",
                          "answer": "ok"} for i in range(3)])
        orr.write_jsonl(os.path.join(ev, "novel", f"{skill}.jsonl"),
                        [{"id": f"{skill}-h{i}", "request": f"{skill} h{i}", "answer": a}
                         for i, a in enumerate(["ok", "no", "ok"])])
    # Routing cases: with --limit 2 the first two in-domain and the first two "none" lines of
    # each file (the last line of each is never asked).
    routing = [("arith q0", "arith"), ("weather?", "none"), ("tell me the date", "date"),
               ("joke about arith", "none"), ("poem", "none"), ("unit x", "unit")]
    orr.write_jsonl(os.path.join(ev, "keys", "ood.jsonl"),
                    [{"id": f"r{i}", "request": t, "answer": "none"}
                     for i, (t, a) in enumerate(routing) if a == "none"])
    orr.write_jsonl(os.path.join(ev, "keys", "routing.jsonl"),
                    [{"id": f"r{i}", "prompt": f"route: {t}\n", "answer": a}
                     for i, (t, a) in enumerate(routing)])
    routing = [("please arith this", "arith"), ("ood h0", "none"), ("is sentiment good?",
               "sentiment"), ("ood h1", "none"), ("reverse z", "reverse"), ("ood h2", "none")]
    orr.write_jsonl(os.path.join(ev, "novel", "routing.jsonl"),
                    [{"id": f"route-h{i}", "prompt": f"route: {t}\n", "answer": a}
                     for i, (t, a) in enumerate(routing)])
    orr.write_jsonl(os.path.join(ev, "novel", "ood.jsonl"),
                    [{"id": f"o{i}", "request": f"ood h{i}", "answer": "none"} for i in range(3)])
    policy_dir = os.path.join(root, "models", "policies", "skills")
    os.makedirs(policy_dir)
    labels = {s: s for s in orr.SKILLS}
    with open(os.path.join(policy_dir, "policy.json"), "w") as f:
        json.dump({"schema": "tessera.policy/v1", "routers": [
            {"name": "rules", "type": "rules",
             "rules": [{"route": "arith", "keywords": ["arith"]}]},
            {"name": "classifier", "type": "classifier", "module": "dev.tessera.router",
             "labels": labels, "abstain_labels": ["none"]},
            {"name": "nearest", "type": "embedding", "module": "dev.tessera.router",
             "exemplars": "exemplars.jsonl", "labels": labels, "abstain_labels": ["none"],
             "threshold": 0.8, "min_margin": 0.05}], "routes": {}}, f)
    with open(os.path.join(policy_dir, "exemplars.jsonl"), "w") as f:
        f.write("exemplars of the test tree\n")
    home = os.path.join(root, "home")
    os.makedirs(home)
    open(os.path.join(home, "store.marker"), "w").close()
    benches = os.path.join(root, "bench")
    os.makedirs(benches)
    os.makedirs(os.path.join(root, "no-bench"))
    fakes = [(os.path.join(root, "tessera"), "fake_tessera.py", "")]
    fakes += [(os.path.join(benches, name), "fake_bench.py", name + " ")
              for name in ("orchestration_bench", "evidence_bench")]
    for path, script, first in fakes:
        with open(path, "w") as f:
            f.write(f'#!/bin/sh\nexec "{sys.executable}" "{os.path.join(HERE, script)}" '
                    f'{first}"$@"\n')
        os.chmod(path, 0o755)
    return fakes[0][0], home, benches


# Rows worked out by hand from fake_tessera.py's rules. Keys: ask right on every in-domain
# case, the generalist on q0 only; novel: the expected answer of h1 is "no", so both get h0
# only. Compute per request: ask 10*5 + 100*4 = 450 (400 when abstaining), generalist 1000*8.
EXPECTED_ROWS = [
    "| keys | arith | 2 | 100.0% | 100.0% | 100.0% | 100.0% | 0.0% | 50.0% | 1 | 0 |",
    "| novel | arith | 2 | 100.0% | 50.0% | 100.0% | 50.0% | 0.0% | 50.0% | 0 | 0 |",
    "| keys | **in-domain** | 12 | 100.0% | 100.0% | 100.0% | 100.0% | 0.0% | 50.0% | 6 | 0 |",
    "| keys | 2 | 100.0% | 100.0% | 0.0% | 0.0% | 0.0% | 100.0% |",
    "| novel | 2 | 100.0% | 100.0% | 0.0% | 0.0% | 0.0% | 50.0% |",
    "| keys | arith | 2 | 0.00M | 0.01M | 0.06× | 1.0 | 1.0 | 2.0 | 3.0 |",
    "| novel | **all** | 14 | 0.00M | 0.01M | 0.06× | 1.0 | 1.0 | – | – |",
    "| keys | `arith@1.0.0` | 2 | 14.3% |",
    "| keys | (abstained) | 2 | 14.3% |",
    "| tessera | tessera 0.0.0-fake",
    "1,000 parameters",
    "| command | `scripts/orchestration-results --limit 2` |",
]
# The router ablations, worked out by hand from fake_tessera.py's dry-run rules on the routing
# cases of make_tree: keys "arith q0", "tell me the date"; novel "please arith this",
# "is sentiment good?"; out-of-domain "weather?", "joke about arith", "ood h0", "ood h1".
ABLATION_ROWS = [
    "| routers, in order (variant) | keys in-domain (2): routed right | abstained | misrouted "
    "| novel in-domain (2): routed right | abstained | misrouted | out-of-domain (4): "
    "abstained | routed to a skill |",
    "| rules → classifier (`dev.tessera.router`) → embedding (`dev.tessera.router`, cosine ≥ 0.8, "
    "margin ≥ 0.05) (`chain`) | 100.0% | 0.0% | 0.0% | 50.0% | 50.0% | 0.0% | 75.0% | 25.0% |",
    "| rules (`rules`) | 50.0% | 50.0% | 0.0% | 0.0% | 100.0% | 0.0% | 100.0% | 0.0% |",
    "| classifier (`dev.tessera.router`) (`classifier`) | 50.0% | 50.0% | 0.0% | 0.0% | 100.0% "
    "| 0.0% | 75.0% | 25.0% |",
    "| rules → classifier (`dev.tessera.router`) (`rules-classifier`) | 100.0% | 0.0% | 0.0% "
    "| 0.0% | 100.0% | 0.0% | 75.0% | 25.0% |",
    "| embedding (`dev.tessera.router`, cosine ≥ 0.8, margin ≥ 0.05) (`embedding-router`) "
    "| 100.0% | 0.0% | 0.0% | 100.0% | 0.0% | 0.0% | 75.0% | 25.0% |",
    "| embedding (`dev.tessera.router`, cosine ≥ 0, margin ≥ 0) (`embedding-router-t0`) "
    "| 100.0% | 0.0% | 0.0% | 100.0% | 0.0% | 0.0% | 75.0% | 25.0% |",
    "| embedding (`dev.tessera.base`, cosine ≥ 0.8, margin ≥ 0.05) (`embedding-base`) "
    "| 0.0% | 100.0% | 0.0% | 0.0% | 100.0% | 0.0% | 100.0% | 0.0% |",
    "| embedding (`dev.tessera.base`, cosine ≥ 0, margin ≥ 0) (`embedding-base-t0`) "
    "| 0.0% | 0.0% | 100.0% | 0.0% | 0.0% | 100.0% | 75.0% | 25.0% |",
    "**Embedding module:** the router model (`dev.tessera.router`) separates better: at "
    "threshold and margin 0 (only the nearest exemplars decide), 87.5% of all 8 routing "
    "decisions are right with `dev.tessera.router`'s embeddings (in-domain routed right 100.0%: "
    "keys 100.0%, novel 100.0%; out-of-domain abstained 75.0%) against 37.5% with "
    "`dev.tessera.base`'s (in-domain routed right 0.0%: keys 0.0%, novel 0.0%; "
    "out-of-domain abstained 75.0%); at the bundled threshold and margin, 87.5% against 50.0%.",
]
# The overheads from fake_bench.py's medians (engine_session_bench is not in the folder).
OVERHEAD_ROWS = [
    "| rule routing | the bundled rules router on one request (no model) | `orchestration_bench` "
    "`BM_RuleRouting` | 5.00 µs | 4.00 µs | < 20 µs | met |",
    "| `orchestration_bench` `BM_AdapterSwitch` | 150.0 µs | 140.0 µs | < 100 µs | **not met** |",
    "| `orchestration_bench` `BM_AskResident` | skipped: not answered | – | – | – |",
    "| `orchestration_bench` `BM_EmbeddingRouting` | not in the benchmark's output | – | – | – |",
    "| `evidence_bench` `BM_AppendSyncNormal/real_time` | 50.0 µs | 20.0 µs | < 200 µs | met |",
    "| `evidence_bench` `BM_AppendSyncFull/real_time` | 2500.0 µs | 30.0 µs | < 200 µs | "
    "**not met** |",
    "| `engine_session_bench` `BM_SetAdaptersSwitch` | not measured (no engine_session_bench in "
    "the benchmark folder) | – | < 100 µs | – |",
    "`orchestration_bench`: load average 1.5 when it started, 2 CPUs",
    "The evidence ledgers were on a `",
]


def listing(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, files in os.walk(folder) for f in files)


def run_script(orr, args, problems, want_rows, what):
    """One run; the page's text ("" when it stopped), each missing row added to problems."""
    try:
        text = orr.results(args, args.root, "scripts/orchestration-results --limit 2")
    except orr.Failure as e:
        problems.append(f"{what}: the run stopped: {e}")
        return ""
    problems += [f"{what}: results.md lacks {row!r}" for row in want_rows if row not in text]
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source_dir", nargs="?",
                    default=os.path.normpath(os.path.join(HERE, "..", "..")))
    source_dir = ap.parse_args().source_dir
    orr = load_script(source_dir)
    problems, texts = [], []
    with tempfile.TemporaryDirectory(prefix="orchestration-results-test-") as root:
        fake, home, benches = make_tree(orr, root)
        raw = os.path.join(root, "raw")
        args = argparse.Namespace(tessera=fake, home=home, limit=2, raw=raw, root=root,
                                  policy="dev.tessera.policy.skills", ablations=True, key="local",
                                  bench_dir=benches)
        os.environ["FAKE_HOME"] = home
        os.environ["FAKE_POLICY"] = args.policy
        os.environ.pop("FAKE_FAIL", None)
        before = listing(home)
        texts.append(run_script(orr, args, problems,
                                EXPECTED_ROWS + ABLATION_ROWS + OVERHEAD_ROWS, "full run"))
        if listing(home) != before:
            problems.append(f"the store was written: {before} became {listing(home)}")
        for name in ["ask-batch.jsonl", "ask-output.jsonl", "eval-novel-ood.report.json",
                     "ablation-chain-batch.jsonl", "ablation-embedding-base-t0-output.jsonl",
                     "orchestration_bench.json", "evidence_bench.json"]:
            if not os.path.exists(os.path.join(raw, name)):
                problems.append(f"--raw kept no {name}")
        quiet = argparse.Namespace(**dict(vars(args), raw=None, policy=None, ablations=False,
                                          bench_dir=os.path.join(root, "no-bench")))
        os.environ.pop("FAKE_POLICY")
        texts.append(run_script(orr, quiet, problems, EXPECTED_ROWS + [
            "Not measured: run with `--home STORE`",
            "Not measured (build with TESSERA_BUILD_BENCH=ON): `no-bench` has none of "
            "`orchestration_bench`, `evidence_bench`, `engine_session_bench`.",
            "| benchmarks | `no-bench` (build type unknown) |"],
            "no ablations, no benchmarks"))
        os.environ["FAKE_POLICY"] = args.policy
        for fail, why in (("eval", "fake eval exploded"), ("ask-short", "printed 27 lines for 28"),
                          ("dry-run-steps", "a dry run ran a module"),
                          ("bench", "fake orchestration_bench: exploded")):
            os.environ["FAKE_FAIL"] = fail
            try:
                orr.results(args, root, "x")
                problems.append(f"FAKE_FAIL={fail}: the run did not stop")
            except orr.Failure as e:
                if why not in str(e):
                    problems.append(f"FAKE_FAIL={fail}: the error {str(e)!r} does not say {why!r}")
        if listing(home) != before:
            problems.append(f"the store was written: {before} became {listing(home)}")
    for p in problems:
        print(f"orchestration_results_test: {p}", file=sys.stderr)
    if problems:
        for text in texts:
            print(text, file=sys.stderr)
        return 1
    rows = len(EXPECTED_ROWS) * 2 + len(ABLATION_ROWS) + len(OVERHEAD_ROWS) + 2
    print(f"orchestration_results_test: ok (2 runs, {rows} rows, 4 failure paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
