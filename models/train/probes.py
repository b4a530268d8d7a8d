"""Learning-curve probes for the task suite (ADR 0024): trains named configurations with
train.py --report-splits, one thread per job, and prints each probe's curve on the
validation split and the held-out splits. Nothing is shipped; checkpoints stay in --work.

Usage: probes.py [--work DIR] [--jobs 2] [--seed 1] NAME... | --list
Probe names are in PROBES. The tokenizers are trained first (DIR/tok-chars, DIR/tok-bpe1000,
DIR/tok-sentiment) from the suite's training texts, as pipeline.py does. A probe whose
log ends at its last step is not run again (delete DIR/NAME.log to rerun it).
Needs Debian's PyTorch and SentencePiece (/usr/bin/python3, scripts/bootstrap-train).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tasks")]
import pipeline  # noqa: E402

SPEC = dict(dim=128, layers=2, heads=4, ffn=352)
BASE = dict(dim=256, layers=4, heads=4, ffn=688)
MIX = "arith*3,date*2,unit*2,extract*2,sentiment,reverse*2"
# name -> (tokenizer, train.py arguments); report splits are every held-out split the tasks have.
PROBES = {
    "extract-chars": ("chars", dict(tasks="extract", steps=2000, **SPEC)),
    "extract-bpe": ("bpe1000", dict(tasks="extract", steps=2000, **SPEC)),
    "extract-bpe-noise": ("bpe1000", dict(tasks="extract", steps=2000, noise=0.3, **SPEC)),
    "extract-bpe-4k": ("bpe1000", dict(tasks="extract", steps=4000, **SPEC)),
    "reverse-chars": ("chars", dict(tasks="reverse", steps=2500, **SPEC)),
    "reverse-bpe": ("bpe1000", dict(tasks="reverse", steps=2500, **SPEC)),
    "reverse-bpe-noise": ("bpe1000", dict(tasks="reverse", steps=2500, noise=0.3, **SPEC)),
    "arith-chars": ("chars", dict(tasks="arith", steps=4500, batch=64, lr=1e-3, **dict(SPEC, layers=4))),
    "arith-bpe": ("bpe1000", dict(tasks="arith", steps=4500, batch=64, lr=1e-3, **dict(SPEC, layers=4))),
    "date-bpe": ("bpe1000", dict(tasks="date", steps=2500, **SPEC)),
    "unit-bpe": ("bpe1000", dict(tasks="unit", steps=3000, **dict(SPEC, layers=4))),
    "router-chars": ("chars", dict(tasks="route", steps=2500, per_task=30000, dim=96, layers=2, heads=4, ffn=256)),
    "sentiment": ("sentiment", dict(tasks="sentiment", arch="qwen2", steps=1500, **SPEC)),
    "base-bpe": ("bpe1000", dict(tasks=MIX, steps=2000, batch=32, lr=1e-3, prompt_loss=0.3, **BASE)),
}


def make_tokenizers(work, seed):
    import tokenizer_training
    texts, sentiment = pipeline.tokenizer_texts(seed)
    made = {"chars": os.path.join(work, "tok-chars"), "bpe1000": os.path.join(work, "tok-bpe1000"),
            "sentiment": os.path.join(work, "tok-sentiment")}
    if not os.path.exists(os.path.join(made["chars"], "tokenizer.model")):
        tokenizer_training.train_spm(texts, made["chars"])
    if not os.path.exists(os.path.join(made["bpe1000"], "tokenizer.model")):
        tokenizer_training.train_spm_bpe(texts, made["bpe1000"], 1000)
    if not os.path.exists(os.path.join(made["sentiment"], "tokenizer.json")):
        tokenizer_training.train_bpe(sentiment, made["sentiment"], 300)
    return made


def curve(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def run_probe(work, tokenizers, name, seed):
    tok, args = PROBES[name]
    log = os.path.join(work, f"{name}.log")
    points = curve(log)
    if points and points[-1]["step"] == args["steps"]:
        return
    splits = "templates,vocab,novel" if args["tasks"] in ("extract", "reverse", "sentiment", "route") \
        else "templates,novel"
    # --target above 1: a probe runs its whole schedule (a curve, not a model to ship).
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--out",
           os.path.join(work, "ckpt", name), "--tokenizer", tokenizers[tok], "--seed", str(seed),
           "--report-splits", splits, "--target", "1.01"]
    for k, v in args.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    pipeline.run(cmd, log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "probes"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list or not args.names:
        for name, (tok, a) in PROBES.items():
            print(f"{name:20} {tok:10} {a}")
        return 0
    unknown = [n for n in args.names if n not in PROBES]
    if unknown:
        ap.error(f"unknown probe(s): {', '.join(unknown)} (see --list)")
    os.makedirs(os.path.join(args.work, "ckpt"), exist_ok=True)
    tokenizers = make_tokenizers(args.work, args.seed)
    pipeline.schedule([(n, None, []) for n in args.names],
                      lambda name, _: run_probe(args.work, tokenizers, name, args.seed), args.jobs)
    print(f"{'probe':20} {'step':>5} {'seconds':>8}  val   templates vocab novel")
    for name in args.names:
        for p in curve(os.path.join(args.work, f"{name}.log")):
            cells = [p.get(k) for k in ("val_accuracy", "templates_accuracy", "vocab_accuracy", "novel_accuracy")]
            print(f"{name:20} {p['step']:5} {p['seconds']:8.0f}  " +
                  "  ".join("  –  " if c is None else f"{c:.3f}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
