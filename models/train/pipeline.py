"""Regenerates every shipped model: tokenizers, training, conversion, evaluation, models/README.md.

Usage: pipeline.py --tessera BIN [--work DIR] [--jobs 2] [--only NAME,...] [--skip-train]
Training jobs run in parallel on one thread each (never more jobs than cores).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tasks")]
import skills  # noqa: E402
import tokenizers  # noqa: E402

SPEC = {"dim": 128, "layers": 2, "heads": 4, "ffn": 352}
BASE = {"dim": 256, "layers": 3, "heads": 4, "ffn": 688}

# name -> (kind, training arguments, eval sets). Order matters: longest jobs first.
MODELS = {
    "base": ("model", dict(tasks=",".join(skills.SKILLS), tok="spm", steps=900, batch=32, per_task=20000,
                           target=0.85, **BASE), skills.SKILLS),
    # Carries need depth: two layers learn 2-digit sums far too slowly.
    "arith": ("model", dict(tasks="arith", tok="spm", steps=6000, batch=64, lr=1e-3,
                            **dict(SPEC, layers=4)), ["arith", "arith-hard"]),
    "extract": ("model", dict(tasks="extract", tok="spm", steps=1000, target=0.99, **SPEC), ["extract"]),
    "date": ("model", dict(tasks="date", tok="spm", steps=2000, **SPEC), ["date"]),
    "unit": ("model", dict(tasks="unit", tok="spm", steps=2000, **SPEC), ["unit"]),
    "reverse": ("model", dict(tasks="reverse", tok="spm", steps=2500, **SPEC), ["reverse", "reverse-hard"]),
    "sentiment": ("model", dict(tasks="sentiment", tok="bpe", arch="qwen2", steps=1500, **SPEC), ["sentiment"]),
    "router": ("model", dict(tasks="route", tok="spm", steps=2000, per_task=30000, dim=96,
                             layers=2, heads=4, ffn=256), ["routing"]),
}
GENERALIST = ("generalist", dict(tasks=",".join(skills.SKILLS + ["hard:arith", "hard:reverse"]),
                                 init="base", steps=1000, batch=32, lr=1e-3, target=0.9),
              skills.SKILLS + ["arith-hard", "reverse-hard"])
ADAPTER_STEPS = 600


def run(cmd, log):
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n")
        f.flush()
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=True)


def train_job(work, name, args):
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--out", os.path.join(work, "ckpt", name)]
    for k, v in args.items():
        if k == "tok":
            cmd += ["--tokenizer", os.path.join(work, f"tok-{v}")]
        elif k in ("init", "lora_base"):
            cmd += [f"--{k.replace('_', '-')}", os.path.join(work, "ckpt", v)]
        else:
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    t = time.time()
    run(cmd, os.path.join(work, "logs", f"{name}.log"))
    print(f"trained {name} in {time.time() - t:.0f} s", flush=True)
    return name


def make_tokenizers(work, seed, retrain):
    """The shipped tokenizers (models/tokenizers/) are artifacts every model depends on: they are
    reused unless retrain is set (then every model must be retrained with them)."""
    shipped = os.path.join(ROOT, "models", "tokenizers")
    if not retrain and os.path.exists(os.path.join(shipped, "chars", "tokenizer.model")):
        for src, dst in (("chars", "tok-spm"), ("sentiment-bpe", "tok-bpe")):
            shutil.rmtree(os.path.join(work, dst), ignore_errors=True)
            shutil.copytree(os.path.join(shipped, src), os.path.join(work, dst))
        return
    texts = [c["prompt"] + c["answer"] for s in skills.SKILLS
             for c in skills.cases(s, "train", 3000, seed, unique=False)]
    texts += [c["prompt"] for c in skills.routing_cases("train", 10, 500, seed)]
    texts += [c["prompt"] + c["answer"] for s in skills.HARD_SKILLS
              for c in skills.cases(s, "train", 500, seed, hard=True, unique=False)]
    tokenizers.train_spm(texts, os.path.join(work, "tok-spm"))
    sentiment = [c["prompt"] + c["answer"] for c in skills.cases("sentiment", "train", 5000, seed, unique=False)]
    tokenizers.train_bpe(sentiment, os.path.join(work, "tok-bpe"), 300)


def parallel(jobs, fn, n):
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        for f in concurrent.futures.as_completed([pool.submit(fn, *j) for j in jobs]):
            f.result()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "train"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="comma-separated names to (re)train; default all")
    ap.add_argument("--skip-train", action="store_true", help="only convert, evaluate and document")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--retrain-tokenizers", action="store_true",
                    help="train new tokenizers instead of reusing models/tokenizers/")
    args = ap.parse_args()
    work, models = args.work, os.path.join(ROOT, "models")
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    wanted = lambda n: only is None or n in only  # noqa: E731
    start = time.time()

    subprocess.run([sys.executable, os.path.join(ROOT, "models", "tasks", "make_sets.py"),
                    os.path.join(models, "eval"), "--seed", str(args.seed)], check=True)
    if not args.skip_train:
        make_tokenizers(work, args.seed, args.retrain_tokenizers)
        phase1 = [(work, n, dict(seed=args.seed, **spec[1])) for n, spec in MODELS.items() if wanted(n)]
        parallel(phase1, train_job, args.jobs)
        phase2 = []
        if wanted("generalist"):
            phase2.append((work, "generalist", dict(tok="spm", seed=args.seed, **GENERALIST[1])))
        for s in skills.SKILLS:
            if wanted(f"{s}-lora"):
                phase2.append((work, f"{s}-lora", dict(tasks=s, tok="spm", lora_base="base", steps=ADAPTER_STEPS,
                                                      batch=32, lr=2e-3, seed=args.seed)))
        parallel(phase2, train_job, args.jobs)
    print(f"training: {time.time() - start:.0f} s", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, "ship.py"), "--tessera", args.tessera,
                    "--work", work], check=True)


if __name__ == "__main__":
    main()
