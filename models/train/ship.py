"""Converts the trained checkpoints with `tessera convert`, evaluates every shipped model with
`tessera eval`, and writes models/README.md from the reports (nothing in it is typed by hand).

Usage: ship.py --tessera BIN [--work DIR]
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


def shipped():
    """(name, kind, gguf path relative to models/, eval sets, base or None)."""
    out = []
    for name, (kind, _, sets) in pipeline.MODELS.items():
        path = "base.gguf" if name == "base" else "router.gguf" if name == "router" else f"specialists/{name}.gguf"
        out.append((name, kind if name != "base" else "base", path, sets, None))
    out.append(("generalist", "generalist", "generalist.gguf", pipeline.GENERALIST[2], None))
    for skill in pipeline.skills.SKILLS:
        out.append((f"{skill}-lora", "adapter", f"adapters/{skill}.lora.gguf", [skill], "base.gguf"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "train"))
    args = ap.parse_args()
    work = args.work
    for sub in ("specialists", "adapters", "reports", "tokenizers/chars", "tokenizers/sentiment-bpe"):
        os.makedirs(os.path.join(MODELS, sub), exist_ok=True)
    shutil.copy(os.path.join(work, "tok-spm", "tokenizer.model"), os.path.join(MODELS, "tokenizers", "chars"))
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
            for stale in [os.path.join(MODELS, path)] + [os.path.join(MODELS, "reports", f"{name}.{s}.json") for s in sets]:
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
            report = os.path.join(MODELS, "reports", f"{name}.{s}.json")
            cmd = ["eval", os.path.join(MODELS, base or path), "--set", os.path.join(MODELS, "eval", f"{s}.jsonl"),
                   "-t", "1", "-o", report]
            if base:
                cmd += ["--lora", os.path.join(MODELS, path)]
            tessera(args.tessera, *cmd)
            with open(report) as f:
                results[s] = json.load(f)
        rows.append((name, kind, path, training, results))
        print(f"{name}: " + ", ".join(f"{s} {r['exact_match']['accuracy']:.3f}" for s, r in results.items()), flush=True)
    write_readme(rows, missing, work, round(time.time() - start))


def fmt_size(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def score(report):
    return f"{report['exact_match']['accuracy'] * 100:.1f}% ({report['exact_match']['total']})"


def scores(name, kind, results, base_results):
    text = "; ".join(f"{s}: {score(r)}" for s, r in results.items())
    if kind == "adapter" and base_results:
        text += "; base alone: " + "; ".join(score(base_results[s]) for s in results if s in base_results)
    if kind == "generalist":  # issue 4: averaged over all skills, hard splits included
        mean = sum(r["exact_match"]["accuracy"] for r in results.values()) / len(results)
        text += f"; **mean over sets: {mean * 100:.1f}%**"
    return text


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


def write_readme(rows, missing, work, ship_seconds):
    lines = ["# Shipped models", "",
             "Generated by `scripts/train-models` (models/train/ship.py); do not edit by hand.",
             "Every model was trained here from seeded task generators (`models/tasks/`), converted by",
             "`tessera convert` and measured by `tessera eval` (greedy, exact match, one thread) on",
             "held-out sets that are disjoint from training by construction. Training: optimizer steps",
             "and wall-clock seconds of one single-threaded job (two jobs ran at once on 2 cores).", "",
             "| file | kind | parameters | size | sha256 | training | eval set: exact match (cases) |",
             "|---|---|---|---|---|---|---|"]
    base_results = next((results for name, _, _, _, results in rows if name == "base"), None)
    for name, kind, path, training, results in rows:
        full = os.path.join(MODELS, path)
        size = os.path.getsize(full)
        lines.append(f"| `{path}` | {kind} | {training['params'] / 1e6:.2f}M | {fmt_size(size)} | "
                     f"`{sha256(full)[:16]}…` | {training['steps']} steps, {training['seconds']:.0f} s | "
                     f"{scores(name, kind, results, base_results)} |")
    if missing:
        lines += ["", "Defined in `models/train/pipeline.py` but not shipped (no trained checkpoint): " +
                  ", ".join(f"`{m}`" for m in missing) + "."]
    lines += runs_section(work, ship_seconds)
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
