"""Regenerates every shipped model: tokenizers, training, conversion, evaluation, models/README.md.

Usage: pipeline.py --tessera BIN [--work DIR] [--jobs 2] [--only NAME,...] [--skip-train]
                   [--suite v1|v2]
Training jobs run in parallel on one thread each (never more jobs than cores).

--suite picks the task generators: v1 (models/tasks/skills.py, what the shipped models were
trained on) or v2 (models/tasks/suite.py: composed phrasings, generated vocabulary, held-out
template and vocabulary splits; its models are configured in MODELS_V2).
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


# v2 (suite.py): every request is longer (phrasings with politeness, generated names), so every
# model sees more tokens per step. Sizes and steps come from the probes of ADR 0024 and are cut to
# fit the 90-minute budget on 2 cores (ADR 0025): the base and generalist chain is the longest.
# Every v2 model logs its held-out splits at each validation (REPORT): the learning curves.
REPORT = "templates,vocab,novel"
V2_MIX = "arith*3,date*2,unit*2,extract*2,sentiment,reverse*2"
SPEC4 = dict(SPEC, layers=4)
MODELS_V2 = {
    "base": ("model", dict(tasks=V2_MIX + ",hard:reverse", tok="spm", steps=3500, batch=32, lr=1e-3,
                           target=0.97, report_splits=REPORT, **BASE), skills.SKILLS),
    # Carries need depth; 2 x 128 stayed near 30% on 3-digit sums.
    "arith": ("model", dict(tasks="arith", tok="spm", steps=4000, batch=64, lr=1e-3, report_splits=REPORT,
                            **SPEC4), ["arith"]),
    # The only probe that met the bar: 2 x 128, 4000 steps (extract-bpe2-4k).
    "extract": ("model", dict(tasks="extract", tok="spm", steps=3500, target=0.99, report_splits=REPORT,
                              **SPEC), ["extract"]),
    "date": ("model", dict(tasks="date", tok="spm", steps=3000, target=0.99, report_splits=REPORT, **SPEC),
             ["date"]),
    "unit": ("model", dict(tasks="unit", tok="spm", steps=4000, report_splits=REPORT, **SPEC4), ["unit"]),
    # 2 x 128 plateaued near 74% of validation by 6000 steps (reverse-bpe-6k): more depth instead.
    "reverse": ("model", dict(tasks="reverse", tok="spm", steps=4000, report_splits=REPORT, **SPEC4),
                ["reverse", "reverse-hard"]),
    "sentiment": ("model", dict(tasks="sentiment", tok="bpe", arch="qwen2", steps=1500, report_splits=REPORT,
                                **SPEC), ["sentiment"]),
    "router": ("model", dict(tasks="route", tok="spm", steps=2500, per_task=30000, dim=96, layers=2, heads=4,
                             ffn=256, report_splits=REPORT), ["routing"]),
}
GENERALIST_V2 = ("generalist", dict(tasks=V2_MIX + ",hard:reverse*2", init="base", steps=1500, batch=32,
                                    lr=5e-4, target=0.97, report_splits=REPORT), skills.SKILLS + ["reverse-hard"])
ADAPTER_V2 = dict(ADAPTER, steps=800, report_splits=REPORT)
ADAPTER_OVERRIDES_V2 = {"arith": dict(steps=1200)}


SHARED_BPE_PIECES = 1000
# Where ship.py puts the shared SentencePiece model under models/tokenizers/.
SHARED_TOKENIZER = {"v1": "chars", "v2": "shared-bpe"}


def suite_config(suite_name):
    """(MODELS, GENERALIST) of a suite."""
    return (MODELS, GENERALIST) if suite_name == "v1" else (MODELS_V2, GENERALIST_V2)


def run(cmd, log):
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n")
        f.flush()
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=True)


def train_job(work, name, args, suite_name="v1"):
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--out", os.path.join(work, "ckpt", name),
           "--suite", suite_name]
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


def tokenizer_texts(suite_name, seed):
    """(texts for the shared SentencePiece tokenizer, texts for the sentiment BPE)."""
    if suite_name == "v2":
        import suite as gen
        hard_skills = ["reverse"]
    else:
        gen, hard_skills = skills, skills.HARD_SKILLS
    texts = [c["prompt"] + c["answer"] for s in gen.SKILLS
             for c in gen.cases(s, "train", 3000, seed, unique=False)]
    texts += [c["prompt"] for c in gen.routing_cases("train", 10, 500, seed)]
    texts += [c["prompt"] + c["answer"] for s in hard_skills
              for c in gen.cases(s, "train", 500, seed, hard=True, unique=False)]
    sentiment = [c["prompt"] + c["answer"] for c in gen.cases("sentiment", "train", 5000, seed, unique=False)]
    return texts, sentiment


def make_tokenizers(work, seed, retrain, suite_name="v1"):
    """The shipped tokenizers (models/tokenizers/) are artifacts every model depends on: they are
    reused unless retrain is set (then every model must be retrained with them). A new suite
    always trains new ones: its text has characters the old ones never saw."""
    shipped = os.path.join(ROOT, "models", "tokenizers")
    if suite_name == "v1" and not retrain and os.path.exists(os.path.join(shipped, "chars", "tokenizer.model")):
        for src, dst in (("chars", "tok-spm"), ("sentiment-bpe", "tok-bpe")):
            shutil.rmtree(os.path.join(work, dst), ignore_errors=True)
            shutil.copytree(os.path.join(shipped, src), os.path.join(work, dst))
        return
    import tokenizer_training  # SentencePiece: only where tokenizers are trained
    texts, sentiment = tokenizer_texts(suite_name, seed)
    if suite_name == "v2":  # ADR 0024: BPE pieces generalise better than characters, at half the cost
        tokenizer_training.train_spm_bpe(texts, os.path.join(work, "tok-spm"), SHARED_BPE_PIECES)
    else:
        tokenizer_training.train_spm(texts, os.path.join(work, "tok-spm"))
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


def jobs(seed, wanted, suite_name="v1"):
    """Every training job in priority order: the base and the generalist that continues it are the
    longest chain, so they start first; specialists fill the other worker, adapters come last."""
    models, generalist = suite_config(suite_name)
    out = [("base", dict(seed=seed, **models["base"][1]), [])]
    out.append(("generalist", dict(tok="spm", seed=seed, **generalist[1]), ["base"]))
    out += [(n, dict(seed=seed, **spec[1]), []) for n, spec in models.items() if n != "base"]
    adapter, overrides = (ADAPTER, ADAPTER_OVERRIDES) if suite_name == "v1" else (ADAPTER_V2, ADAPTER_OVERRIDES_V2)
    for s in sorted(skills.SKILLS, key=lambda s: s not in ("extract", "arith")):  # the longest first
        spec = dict(adapter, **overrides.get(s, {}))
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
    ap.add_argument("--suite", default="v1", choices=["v1", "v2"], help="task generators (see above)")
    ap.add_argument("--eval-limit", type=int, default=0, help="ship.py --eval-limit (a quick check)")
    args = ap.parse_args()
    work, models = args.work, os.path.join(ROOT, "models")
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    wanted = lambda n: only is None or n in only  # noqa: E731
    start = time.time()

    subprocess.run([sys.executable, os.path.join(ROOT, "models", "tasks", "make_sets.py"),
                    os.path.join(models, "eval"), "--seed", str(args.seed), "--suite", args.suite], check=True)
    if not args.skip_train:
        make_tokenizers(work, args.seed, args.retrain_tokenizers, args.suite)
        schedule(jobs(args.seed, wanted, args.suite),
                 lambda name, a: train_job(work, name, a, args.suite), args.jobs)
    seconds = round(time.time() - start)
    print(f"training: {seconds} s", flush=True)
    with open(os.path.join(work, "runs.jsonl"), "a") as f:  # ship.py reports every run's wall time
        f.write(json.dumps({"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                            "only": args.only or "all", "jobs": args.jobs, "skip_train": args.skip_train,
                            "suite": args.suite, "training_seconds": seconds}) + "\n")
    subprocess.run([sys.executable, os.path.join(HERE, "ship.py"), "--tessera", args.tessera,
                    "--work", work, "--suite", args.suite, "--eval-limit", str(args.eval_limit)], check=True)


if __name__ == "__main__":
    main()
