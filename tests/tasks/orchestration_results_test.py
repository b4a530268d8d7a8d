"""A whole run of scripts/orchestration-results (case files, the tessera commands and their
flags, output parsing, failure handling, docs/results.md) against fake_tessera.py on a small
temporary tree. Standard library only; exits 1 on the first mismatch.

Usage: orchestration_results_test.py [SOURCE_DIR]   (default: two folders up from this file)
"""
import argparse
import importlib.machinery
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
    os.makedirs(os.path.join(ev, "heldout"))
    open(os.path.join(root, "models", "generalist.gguf"), "w").close()
    for skill in orr.SKILLS:
        orr.write_jsonl(os.path.join(ev, f"{skill}.jsonl"),
                        [{"id": f"{skill}-{i}", "skill": skill, "prompt": f"{skill} q{i}\n",
                          "answer": "ok"} for i in range(3)])
        orr.write_jsonl(os.path.join(ev, "heldout", f"{skill}.jsonl"),
                        [{"id": f"{skill}-h{i}", "request": f"{skill} h{i}", "answer": a}
                         for i, a in enumerate(["ok", "no", "ok"])])
    orr.write_jsonl(os.path.join(ev, "routing.jsonl"),
                    [{"id": f"r{i}", "prompt": f"route: {t}\n", "answer": a} for i, (t, a) in
                     enumerate([("arith q0", "arith"), ("weather?", "none"), ("joke", "none"),
                                ("poem", "none")])])
    orr.write_jsonl(os.path.join(ev, "heldout", "ood.jsonl"),
                    [{"id": f"o{i}", "request": f"ood h{i}", "answer": "none"} for i in range(3)])
    fake = os.path.join(root, "tessera")
    with open(fake, "w") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" "{os.path.join(HERE, "fake_tessera.py")}" "$@"\n')
    os.chmod(fake, 0o755)
    return fake


# Rows worked out by hand from fake_tessera.py's rules. Shipped: ask right on every in-domain
# case, the generalist on q0 only; held-out: the expected answer of h1 is "no", so both get h0
# only. Compute per request: ask 10*5 + 100*4 = 450 (400 when abstaining), generalist 1000*8.
EXPECTED_ROWS = [
    "| shipped | arith | 2 | 100.0% | 100.0% | 100.0% | 100.0% | 0.0% | 50.0% | 1 | 0 |",
    "| heldout | arith | 2 | 100.0% | 50.0% | 100.0% | 50.0% | 0.0% | 50.0% | 0 | 0 |",
    "| shipped | **in-domain** | 12 | 100.0% | 100.0% | 100.0% | 100.0% | 0.0% | 50.0% | 6 | 0 |",
    "| shipped | 2 | 100.0% | 100.0% | 0.0% | 0.0% | 0.0% | 100.0% |",
    "| heldout | 2 | 100.0% | 100.0% | 0.0% | 0.0% | 0.0% | 50.0% |",
    "| shipped | arith | 2 | 0.00M | 0.01M | 0.06× | 1.0 | 1.0 | 2.0 | 3.0 |",
    "| heldout | **all** | 14 | 0.00M | 0.01M | 0.06× | 1.0 | 1.0 | – | – |",
    "| shipped | `arith@1.0.0` | 2 | 14.3% |",
    "| shipped | (abstained) | 2 | 14.3% |",
    "| tessera | tessera 0.0.0-fake",
    "1,000 parameters",
    "| command | `scripts/orchestration-results --limit 2` |",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source_dir", nargs="?",
                    default=os.path.normpath(os.path.join(HERE, "..", "..")))
    source_dir = ap.parse_args().source_dir
    orr = load_script(source_dir)
    problems = []
    with tempfile.TemporaryDirectory(prefix="orchestration-results-test-") as root:
        fake = make_tree(orr, root)
        raw = os.path.join(root, "raw")
        args = argparse.Namespace(tessera=fake, home=os.path.join(root, "home"), limit=2, raw=raw)
        os.environ["FAKE_HOME"] = args.home
        os.environ.pop("FAKE_FAIL", None)
        try:
            text = orr.results(args, root, "scripts/orchestration-results --limit 2")
            problems += [f"results.md lacks {row!r}" for row in EXPECTED_ROWS if row not in text]
        except orr.Failure as e:
            text = ""
            problems.append(f"the run stopped: {e}")
        for name in ["ask-batch.jsonl", "ask-output.jsonl", "eval-heldout-ood.report.json"]:
            if not os.path.exists(os.path.join(raw, name)):
                problems.append(f"--raw kept no {name}")
        for fail, why in (("eval", "fake eval exploded"), ("ask-short", "printed 27 lines for 28")):
            os.environ["FAKE_FAIL"] = fail
            try:
                orr.results(args, root, "x")
                problems.append(f"FAKE_FAIL={fail}: the run did not stop")
            except orr.Failure as e:
                if why not in str(e):
                    problems.append(f"FAKE_FAIL={fail}: the error {str(e)!r} does not say {why!r}")
    for p in problems:
        print(f"orchestration_results_test: {p}", file=sys.stderr)
    if problems:
        print(text, file=sys.stderr)
        return 1
    print(f"orchestration_results_test: ok ({len(EXPECTED_ROWS)} rows, 2 failure paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
