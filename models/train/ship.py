"""Converts the trained checkpoints with `tessera convert`, evaluates every shipped model with
`tessera eval`, and writes models/README.md from the reports (nothing in it is typed by hand).

Usage: ship.py --tessera BIN [--work DIR] [--eval-limit N]

Every model is measured on each evaluation split of the task suite (keys, templates, vocab, novel;
models/eval/<split>/<set>.jsonl), the router as a classifier over its labels (`tessera eval
--labels`), and the README gives each accuracy with its 95% Wilson interval, the quality bar it
is held to, and each model's learning curve from its training log.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE]
import pipeline  # noqa: E402

MODELS = os.path.join(ROOT, "models")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tessera(binary, *args):
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL)


ROUTER_LABELS = "arith,date,unit,extract,sentiment,reverse,none"
SPLITS = ["keys", "templates", "vocab", "novel"]
# Issue 18's bars, exact match on held-out templates and vocabulary (the templates, vocab and
# novel splits): kind -> minimum accuracy; the generalist has none (reported as measured).
BARS = {"model": 0.95, "adapter": 0.95}
ROUTER_BARS = {"in_domain": 0.97, "abstention": 0.90}


def shipped():
    """(name, kind, gguf path relative to models/, eval sets, base or None)."""
    out = []
    for name, (kind, _, sets) in pipeline.MODELS.items():
        path = "base.gguf" if name == "base" else "router.gguf" if name == "router" else f"specialists/{name}.gguf"
        out.append((name, kind if name != "base" else "base", path, sets, None))
    out.append(("generalist", "generalist", "generalist.gguf", pipeline.GENERALIST[2], None))
    for skill in pipeline.suite.SKILLS:
        out.append((f"{skill}-lora", "adapter", f"adapters/{skill}.lora.gguf", [skill], "base.gguf"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "train"))
    ap.add_argument("--eval-limit", type=int, default=0,
                    help="evaluate the first N cases of each set only (a quick check of the pipeline; "
                         "the README then says so)")
    ap.add_argument("--readme-only", action="store_true",
                    help="rewrite models/README.md and SHA256SUMS from the reports and training logs "
                         "already there (no conversion, no evaluation)")
    args = ap.parse_args()
    work = args.work
    if args.readme_only:
        return readme_only(work)
    shared = pipeline.SHARED_TOKENIZER
    for sub in ("specialists", "adapters", "reports", f"tokenizers/{shared}", "tokenizers/sentiment-bpe"):
        os.makedirs(os.path.join(MODELS, sub), exist_ok=True)
    shutil.copy(os.path.join(work, "tok-spm", "tokenizer.model"), os.path.join(MODELS, "tokenizers", shared))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(work, "tok-bpe", name), os.path.join(MODELS, "tokenizers", "sentiment-bpe"))

    start = time.time()
    entries, missing = [], []
    base_weights = os.path.join(work, "ckpt", "base", "model.safetensors")
    base_sha = sha256(base_weights) if os.path.exists(base_weights) else None
    for entry in shipped():
        meta = os.path.join(work, "ckpt", entry[0], "training.json")
        if not os.path.exists(meta):
            print(f"ship: {entry[0]} has no checkpoint in {work}/ckpt; not shipped", flush=True)
            missing.append(entry[0])
            continue
        with open(meta) as f:
            trained_on = json.load(f).get("base_sha256")
        if entry[1] == "adapter" and trained_on != base_sha:
            print(f"ship: {entry[0]} was trained on another base checkpoint; not shipped", flush=True)
            missing.append(entry[0])
            continue
        entries.append(entry)
    for name, _, path, sets, _ in shipped():  # nothing stale stays behind a model not shipped now
        if name in missing:
            for stale in [os.path.join(MODELS, path)] + [os.path.join(MODELS, "reports", f"{name}.{split}.{s}.json")
                                                         for s in sets for split in SPLITS]:
                if os.path.exists(stale):
                    os.remove(stale)
    for name, kind, path, _, base in entries:
        ckpt, out = os.path.join(work, "ckpt", name), os.path.join(MODELS, path)
        if kind == "adapter":
            tessera(args.tessera, "convert", "--lora", ckpt, "--base", os.path.join(MODELS, base), "-o", out)
        else:
            tessera(args.tessera, "convert", ckpt, "-o", out, "--type", "f16", "--name", f"tessera-{name}")

    rows = []
    for name, kind, path, sets, base in entries:
        with open(os.path.join(work, "ckpt", name, "training.json")) as f:
            training = json.load(f)
        results = {}
        for s in sets:
            for split in SPLITS:
                set_path = os.path.join(MODELS, "eval", split, f"{s}.jsonl")
                if not os.path.exists(set_path):
                    continue  # a skill without vocabulary has no vocab split
                label = f"{split}/{s}"
                report = os.path.join(MODELS, "reports", f"{name}.{split}.{s}.json")
                cmd = ["eval", os.path.join(MODELS, base or path), "--set", set_path, "-t", "1", "-o", report]
                if args.eval_limit > 0:
                    cmd += ["--limit", str(args.eval_limit)]
                if base:
                    cmd += ["--lora", os.path.join(MODELS, path)]
                if s == "routing":
                    cmd += ["--labels", ROUTER_LABELS]
                tessera(args.tessera, *cmd)
                with open(report) as f:
                    results[label] = json.load(f)
        rows.append((name, kind, path, training, results))
        print(f"{name}: " + ", ".join(f"{s} {r['exact_match']['accuracy']:.3f}" for s, r in results.items()), flush=True)
    seconds = round(time.time() - start)
    with open(os.path.join(work, "ship.json"), "w") as f:  # for --readme-only
        json.dump({"seconds": seconds, "eval_limit": args.eval_limit}, f)
    write_readme(rows, missing, work, seconds, args.eval_limit)


def readme_only(work):
    """models/README.md and SHA256SUMS again, from the checkpoints' training logs and the reports
    of the last run (ship.json: its wall time and --eval-limit)."""
    with open(os.path.join(work, "ship.json")) as f:
        last = json.load(f)
    rows, missing = [], []
    for name, kind, path, sets, _ in shipped():
        meta = os.path.join(work, "ckpt", name, "training.json")
        if not os.path.exists(meta) or not os.path.exists(os.path.join(MODELS, path)):
            missing.append(name)
            continue
        with open(meta) as f:
            training = json.load(f)
        results = {}
        for s in sets:
            for split in SPLITS:
                report = os.path.join(MODELS, "reports", f"{name}.{split}.{s}.json")
                if os.path.exists(report):
                    with open(report) as f:
                        results[f"{split}/{s}"] = json.load(f)
        rows.append((name, kind, path, training, results))
    write_readme(rows, missing, work, last["seconds"], last["eval_limit"])


def fmt_size(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def runs_section(work, ship_seconds):
    """The wall time of each recorded pipeline run (runs.jsonl, appended by pipeline.py) that
    trained a model still shipped: a run whose models were all retrained later is left out."""
    lines = ["", "Training runs that produced these files (`scripts/train-models`, wall clock, "
             "one thread per job, jobs side by side):", ""]
    path = os.path.join(work, "runs.jsonl")
    runs = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
    listed, later = [], set()  # later: names retrained by later runs
    for r in reversed([r for r in runs if not r.get("skip_train")]):
        if r["only"] == "all":  # a full run: nothing before it is still shipped
            listed.append((r, "everything not retrained later" if later else "everything"))
            break
        names = r["only"].split(",")
        current = [n for n in names if n not in later]
        if current:
            listed.append((r, ", ".join(current) if len(current) < len(names) else None))
        later.update(names)
    for r, still in reversed(listed):
        note = f" (still shipped: {still})" if still else ""
        what = "every model" if r["only"] == "all" else f"`--only {r['only']}`"
        lines.append(f"- {r['started']}: {what} on {r['jobs']} jobs: "
                     f"{r['training_seconds'] / 60:.1f} min{note}")
    lines.append(f"- conversion and evaluation (ship.py): {ship_seconds / 60:.1f} min")
    return lines


def interval(report):
    """"97.2% (95.3–98.4)": accuracy and its 95% Wilson interval from a `tessera eval` report."""
    em = report["exact_match"]
    low, high = em["wilson95"]
    return f"{em['accuracy'] * 100:.1f}% ({low * 100:.1f}–{high * 100:.1f})"


def router_rates(report):
    """(in-domain accuracy, out-of-domain abstention) of a routing report, each as
    (correct, total), from its per-split tallies ("<split>:<label>")."""
    inside, outside = [0, 0], [0, 0]
    for name, t in report["by_split"].items():
        side = outside if name.endswith(":none") else inside
        side[0] += t["correct"]
        side[1] += t["total"]
    return tuple(inside), tuple(outside)


def bar_status(kind, name, results):
    """The quality bar a model is held to and whether every held-out split meets it."""
    if name == "router":
        worst = []
        for split in ("templates", "vocab", "novel"):
            r = results.get(f"{split}/routing")
            if r:
                (ci, ti), (co, to) = router_rates(r)
                worst.append((ci / ti - ROUTER_BARS["in_domain"], f"{split} in-domain {ci / ti * 100:.1f}%"))
                worst.append((co / to - ROUTER_BARS["abstention"], f"{split} abstention {co / to * 100:.1f}%"))
        misses = [w for gap, w in worst if gap < 0]
        return "met" if not misses else "missed: " + ", ".join(misses)
    bar = BARS.get(kind)
    if bar is None:
        return "none (reported as measured)"
    misses = [f"{label} {r['exact_match']['accuracy'] * 100:.1f}%" for label, r in results.items()
              if label.split("/")[0] in ("templates", "vocab", "novel") and not label.endswith("-hard")
              and r["exact_match"]["accuracy"] < bar]
    return f"≥ {bar * 100:.0f}%: " + ("met" if not misses else "missed: " + ", ".join(misses))


def curve(training):
    """A model's learning curve from its training log (train.py): validation and held-out
    accuracy every 1000 steps and at the last step, "step: val / templates / vocab / novel"."""
    points = [p for p in training.get("log", []) if p["step"] % 1000 == 0 or p is training["log"][-1]]

    def pct(p, key):
        return f"{p[key] * 100:.0f}" if key in p else "–"
    return "; ".join(f"{p['step']}: " + " / ".join(pct(p, k) for k in ("val_accuracy", "templates_accuracy",
                                                                       "vocab_accuracy", "novel_accuracy"))
                     for p in points)


def write_readme(rows, missing, work, ship_seconds, eval_limit=0):
    lines = ["# Shipped models", "",
             "Generated by `scripts/train-models` (models/train/ship.py); do not edit by hand.",
             "Every model was trained here from the seeded task suite (`models/tasks/suite.py`), converted",
             "by `tessera convert` and measured by `tessera eval` (greedy, exact match, one thread; the",
             "router as a classifier over its labels) on four evaluation splits, each with new problems:",
             "`keys` (training wordings and vocabulary), `templates` (held-out wordings), `vocab`",
             "(held-out names, cities, words and nouns) and `novel` (both held out). Each accuracy is",
             "followed by its 95% Wilson interval: two figures whose intervals overlap are not a",
             "measured difference.", ""]
    if eval_limit:
        lines += [f"**A quick check, not a measurement: only the first {eval_limit} cases of each set were "
                  "evaluated (`--eval-limit`).**", ""]
    lines += ["| file | kind | parameters | size | sha256 | training | quality bar |", "|---|---|---|---|---|---|---|"]
    for name, kind, path, training, results in rows:
        full = os.path.join(MODELS, path)
        lines.append(f"| `{path}` | {kind} | {training['params'] / 1e6:.2f}M | {fmt_size(os.path.getsize(full))} | "
                     f"`{sha256(full)[:16]}…` | {training['steps']} steps, {training['seconds']:.0f} s | "
                     f"{bar_status(kind, name, results)} |")
    lines += ["", "Exact match per evaluation split (500 cases per set; routing: 100 per skill and 100 "
              "out-of-domain requests per split):", "",
              "| model | set | " + " | ".join(SPLITS) + " |", "|---|---|" + "---|" * len(SPLITS)]
    for name, kind, path, training, results in rows:
        sets = sorted({label.split("/", 1)[1] for label in results})
        for s in sets:
            cells = [interval(results[f"{split}/{s}"]) if f"{split}/{s}" in results else "–" for split in SPLITS]
            lines.append(f"| `{path}` | {s} | " + " | ".join(cells) + " |")
    router = next((results for name, _, _, _, results in rows if name == "router"), None)
    if router:
        lines += ["", "Router, scored over its labels: in-domain accuracy and out-of-domain abstention per split:", "",
                  "| split | in-domain | abstention |", "|---|---|---|"]
        for split in SPLITS:
            r = router.get(f"{split}/routing")
            if r:
                (ci, ti), (co, to) = router_rates(r)
                lines.append(f"| {split} | {ci}/{ti} ({ci / ti * 100:.1f}%) | {co}/{to} ({co / to * 100:.1f}%) |")
    lines += ["", "Learning curves from the training logs: accuracy (%) at each step shown, validation / "
              "templates / vocab / novel, on 100 cases per skill (about ±9 points), greedy by "
              "teacher forcing:", "", "| model | curve |", "|---|---|"]
    for name, kind, path, training, results in rows:
        lines.append(f"| `{path}` | {curve(training)} |")
    if missing:
        lines += ["", "Defined in `models/train/pipeline.py` but not shipped (no trained checkpoint): " +
                  ", ".join(f"`{m}`" for m in missing) + "."]
    lines += runs_section(work, ship_seconds)
    finish_readme(lines)


def finish_readme(lines):
    lines += ["", "Full sha256 of every file: `models/SHA256SUMS`. Eval reports: `models/reports/`.", ""]
    files = []
    for dirpath, _, names in os.walk(MODELS):
        for n in names:
            p = os.path.relpath(os.path.join(dirpath, n), MODELS)
            if p not in ("README.md", "SHA256SUMS") and not p.startswith(("tasks/", "train/")) and "__pycache__" not in p:
                files.append(p)
    with open(os.path.join(MODELS, "SHA256SUMS"), "w") as f:
        for p in sorted(files):
            f.write(f"{sha256(os.path.join(MODELS, p))}  {p}\n")
    total_all = sum(os.path.getsize(os.path.join(MODELS, p)) for p in files)
    lines += [f"Total size of models/ (models, tokenizers, eval sets, reports): {fmt_size(total_all)}.", ""]
    with open(os.path.join(MODELS, "README.md"), "w") as f:
        f.write("\n".join(lines))



if __name__ == "__main__":
    main()
