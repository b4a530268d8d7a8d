"""Regenerates every shipped model: tokenizers, training, conversion, evaluation, models/README.md.

Usage: pipeline.py --tessera BIN [--work DIR] [--jobs 2] [--only NAME,...] [--skip-train]
Training jobs run in parallel on one thread each (never more jobs than cores).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tasks")]
import skills  # noqa: E402
import tokenizer_training  # noqa: E402

SPEC = {"dim": 128, "layers": 2, "heads": 4, "ffn": 352}
BASE = {"dim": 256, "layers": 4, "heads": 4, "ffn": 688}
# Each task's share of a multi-skill batch, by how slowly a specialist learns it.
MIX = "arith*3,date*2,unit*2,extract,sentiment,reverse*2"
# Weight of the auxiliary next-token loss on requests (train.py --prompt-loss) for the char-level
# base family: a 2-layer char model learned sentiment to 95% in 500 steps with it, 67% without.
PROMPT_LOSS = 0.3

# name -> (kind, training arguments, eval sets).
MODELS = {
    "base": ("model", dict(tasks=MIX, tok="spm", steps=3750, batch=32, lr=1e-3, target=0.97,
                             prompt_loss=PROMPT_LOSS, **BASE),
             skills.SKILLS),
    # Carries need depth: two layers learn 2-digit sums far too slowly.
    "arith": ("model", dict(tasks="arith", tok="spm", steps=4500, batch=64, lr=1e-3,
                            **dict(SPEC, layers=4)), ["arith", "arith-hard"]),
    "extract": ("model", dict(tasks="extract", tok="spm", steps=1000, target=0.99, **SPEC), ["extract"]),
    "date": ("model", dict(tasks="date", tok="spm", steps=2000, **SPEC), ["date"]),
    "unit": ("model", dict(tasks="unit", tok="spm", steps=2000, **SPEC), ["unit"]),
    "reverse": ("model", dict(tasks="reverse", tok="spm", steps=2500, **SPEC), ["reverse", "reverse-hard"]),
    "sentiment": ("model", dict(tasks="sentiment", tok="bpe", arch="qwen2", steps=1500, **SPEC), ["sentiment"]),
    "router": ("model", dict(tasks="route", tok="spm", steps=2000, per_task=30000, dim=96,
                             layers=2, heads=4, ffn=256), ["routing"]),
}
# The escalation target of cascades: the base (3.3M, 7x a specialist) trained further on every
# skill and the hard splits.
GENERALIST = ("generalist", dict(tasks=MIX + ",hard:arith*3,hard:reverse*2", init="base", steps=5500, batch=32,
                                 lr=1e-3, target=0.95, prompt_loss=PROMPT_LOSS), skills.SKILLS + ["arith-hard", "reverse-hard"])
# One LoRA adapter per skill on the frozen base (rank 16 on every projection).
ADAPTER = dict(steps=1500, batch=32, lr=3e-3, target=0.99, lora_rank=16, lora_alpha=32,
               prompt_loss=PROMPT_LOSS)
# Per-skill changes to ADAPTER. The base is weakest at arithmetic (37%): its adapter needs more
# steps. The base already answers 99.8% of dates: an adapter stopped at 99% of validation measured
# 99.0%, worse than the base alone, so it trains until it answers all of validation.
ADAPTER_OVERRIDES = {"arith": dict(steps=3000), "date": dict(target=1.0)}


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
    tokenizer_training.train_spm(texts, os.path.join(work, "tok-spm"))
    sentiment = [c["prompt"] + c["answer"] for c in skills.cases("sentiment", "train", 5000, seed, unique=False)]
    tokenizer_training.train_bpe(sentiment, os.path.join(work, "tok-bpe"), 300)


def schedule(jobs, fn, n):
    """Runs jobs [(name, args, deps)] on n workers. A free worker takes the first job (the list is
    in priority order) whose dependencies have finished; a dependency outside the list must already
    have its checkpoint. The first failure stops new jobs and is raised once running ones end."""
    names = {j[0] for j in jobs}
    pending, done, failed = list(jobs), set(), []
    cv = threading.Condition()

    def worker():
        while True:
            with cv:
                while True:
                    if failed or not pending:
                        return
                    job = next((j for j in pending if all(d in done or d not in names for d in j[2])), None)
                    if job:
                        pending.remove(job)
                        break
                    cv.wait()
            try:
                fn(job[0], job[1])
            except Exception as e:  # noqa: BLE001 (re-raised below)
                with cv:
                    failed.append(e)
                    cv.notify_all()
                return
            with cv:
                done.add(job[0])
                cv.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise failed[0]


def jobs(seed, wanted):
    """Every training job in priority order: the base and the generalist that continues it are the
    longest chain, so they start first; specialists fill the other worker, adapters come last."""
    out = [("base", dict(seed=seed, **MODELS["base"][1]), [])]
    out.append(("generalist", dict(tok="spm", seed=seed, **GENERALIST[1]), ["base"]))
    out += [(n, dict(seed=seed, **spec[1]), []) for n, spec in MODELS.items() if n != "base"]
    for s in sorted(skills.SKILLS, key=lambda s: s not in ("extract", "arith")):  # the longest first
        spec = dict(ADAPTER, **ADAPTER_OVERRIDES.get(s, {}))
        out.append((f"{s}-lora", dict(tasks=s, tok="spm", lora_base="base", seed=seed, **spec), ["base"]))
    return [j for j in out if wanted(j[0])]


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
        schedule(jobs(args.seed, wanted), lambda name, a: train_job(work, name, a), args.jobs)
    seconds = round(time.time() - start)
    print(f"training: {seconds} s", flush=True)
    with open(os.path.join(work, "runs.jsonl"), "a") as f:  # ship.py reports every run's wall time
        f.write(json.dumps({"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                            "only": args.only or "all", "jobs": args.jobs, "skip_train": args.skip_train,
                            "training_seconds": seconds}) + "\n")
    subprocess.run([sys.executable, os.path.join(HERE, "ship.py"), "--tessera", args.tessera,
                    "--work", work], check=True)


if __name__ == "__main__":
    main()
