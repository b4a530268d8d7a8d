"""Trains one Tessera model (a specialist, the router, the shared base, the generalist) or one
LoRA adapter, and writes a Hugging Face-style checkpoint directory.

Seeded and deterministic on one thread: the same command gives the same bytes on the same
machine and torch build. The loss is on the answer tokens and end-of-sequence; --prompt-loss adds a
weighted next-token loss on the request, logged apart as request_loss.
"""
import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time

# One compute thread per job: OpenBLAS would otherwise start its own thread per core, which
# oversubscribes the machine when jobs run in parallel and makes results depend on the core count.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tasks")]
import lora  # noqa: E402
import safetensors_io  # noqa: E402
import suite  # noqa: E402
import tokenizer_training  # noqa: E402
from model import CausalLM, count_params, hf_config  # noqa: E402


def load_tokenizer(tok_dir):
    if os.path.exists(os.path.join(tok_dir, "tokenizer.model")):
        return tokenizer_training.SpmTokenizer(os.path.join(tok_dir, "tokenizer.model"))
    return tokenizer_training.BpeTokenizer(os.path.join(tok_dir, "tokenizer.json"))


NOISE = 0.0  # set by --noise: the share of training requests with a filler


def task_cases(task, split, n, seed, hard):
    """Cases of one task (models/tasks/suite.py): a skill name, "route", or "hard:<skill>"."""
    if task == "route":  # out-of-domain requests: a seventh of the router's cases
        n_none = max(1, n // 7)
        return suite.routing_cases(split, max(1, (n - n_none) // len(suite.SKILLS)), n_none, seed)
    noise = NOISE if split == "train" else 0.0
    name, is_hard = (task[5:], True) if task.startswith("hard:") else (task, False)
    return suite.cases(name, split, n, seed, hard=is_hard, unique=split != "train", noise=noise)


def encode(tok, case):
    prompt = ([tok.bos] if tok.add_bos else []) + tok.encode(case["prompt"])
    return prompt, tok.encode(case["answer"]) + [tok.eos]


def batches(examples, batch, rng, window_batches=64):
    """Endless shuffled batches of similar-length examples: each window of `window_batches`
    batches is sorted by length before it is cut, so mixed-skill batches are not padded to the
    longest skill (window_batches=1: plain shuffled batches)."""
    window = batch * window_batches
    while True:
        order = list(range(len(examples)))
        rng.shuffle(order)
        for w in range(0, len(order) - batch + 1, window):
            chunk = sorted(order[w:w + window], key=lambda j: len(examples[j][0]) + len(examples[j][1]))
            groups = [chunk[i:i + batch] for i in range(0, len(chunk) - batch + 1, batch)]
            rng.shuffle(groups)
            for g in groups:
                yield [examples[j] for j in g]


def collate(group, prompt_targets=False):
    """ids, answer targets (-100 elsewhere), the padding mask of a batch, and with
    prompt_targets the next-token targets inside each prompt (else None)."""
    t = max(len(p) + len(a) for p, a in group)
    ids = torch.zeros(len(group), t, dtype=torch.long)
    target = torch.full((len(group), t), -100, dtype=torch.long)
    inner = torch.full((len(group), t), -100, dtype=torch.long) if prompt_targets else None
    pad = torch.zeros(len(group), t, dtype=torch.bool)
    for i, (p, a) in enumerate(group):
        seq = p + a
        ids[i, :len(seq)] = torch.tensor(seq)
        pad[i, :len(seq)] = True
        target[i, len(p) - 1:len(seq) - 1] = torch.tensor(a)
        if prompt_targets:
            inner[i, :len(p) - 1] = torch.tensor(p[1:])
    return ids, target, pad, inner


@torch.no_grad()
def greedy_accuracy(model, tok, cases, by_set=None):
    """Exact-match accuracy of greedy decoding, computed in one teacher-forced pass: greedy
    decoding reproduces answer + EOS exactly when the argmax at every answer position is the
    next answer token. by_set (a dict) receives the accuracy of each set ("arith-hard", ...)."""
    model.eval()
    correct, hits = 0, {}
    for i in range(0, len(cases), 64):
        chunk = cases[i:i + 64]
        ids, target, pad, _ = collate([encode(tok, c) for c in chunk])
        hit = ((model(ids, pad).argmax(-1) == target) | (target == -100)).all(dim=1)
        correct += int(hit.sum())
        for c, h in zip(chunk, hit.tolist()):
            name = c.get("skill", "?") + ("-hard" if c.get("split", "").endswith("hard") else "")
            n, k = hits.get(name, (0, 0))
            hits[name] = (n + 1, k + int(h))
    model.train()
    if by_set is not None:
        by_set.update({name: round(k / n, 3) for name, (n, k) in sorted(hits.items())})
    return correct / len(cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", required=True, help="directory with tokenizer.model or tokenizer.json")
    ap.add_argument("--tasks", required=True,
                    help="comma-separated: skills, route, hard:<skill>; a suffix *W weights a task's share")
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2"])
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=352)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-task", type=int, default=20000, help="training examples per task")
    ap.add_argument("--target", type=float, default=0.995,
                    help="stop at this validation accuracy, from the schedule's second half on")
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop after this many steps, keeping the --steps schedule (probes)")
    ap.add_argument("--sort-window", type=int, default=64,
                    help="batches per length-sorted window (1: no sorting)")
    ap.add_argument("--adaptive-floor", type=float, default=0.0,
                    help="> 0: after each validation, weight each task by its share times "
                         "max(floor, 1 - its validation accuracy), so mastered tasks only rehearse")
    ap.add_argument("--prompt-loss", type=float, default=0.0,
                    help="weight of an auxiliary next-token loss on the request's tokens")
    ap.add_argument("--init", help="checkpoint directory to start from (continued training)")
    ap.add_argument("--lora-base", help="train a LoRA adapter on this frozen base checkpoint")
    ap.add_argument("--lora-rank", type=int, default=8)
    ap.add_argument("--lora-alpha", type=float, default=16.0)
    ap.add_argument("--noise", type=float, default=0.0,
                    help="share of training requests preceded by a filler (suite.with_filler)")
    ap.add_argument("--report-splits", default="",
                    help="comma-separated evaluation splits whose accuracy is logged at each "
                         "validation (learning curves; never used to stop)")
    args = ap.parse_args()
    for name in ("steps", "batch", "per_task", "dim", "layers", "heads", "ffn", "ctx"):
        if getattr(args, name) <= 0:
            ap.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if args.lr <= 0:
        ap.error(f"--lr must be positive, got {args.lr}")
    if not 0.0 <= args.noise <= 1.0:
        ap.error(f"--noise must be in [0, 1], got {args.noise}")
    global NOISE
    NOISE = args.noise

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)
    tok = load_tokenizer(args.tokenizer)
    weights = {}
    for item in args.tasks.split(","):
        name, _, weight = item.partition("*")
        weights[name] = float(weight or 1)
    tasks = list(weights)

    base_dir = args.lora_base or args.init
    if base_dir:
        with open(os.path.join(base_dir, "config.json")) as f:
            cfg = json.load(f)
        model = CausalLM(cfg)
        model.load_state_dict(safetensors_io.load(os.path.join(base_dir, "model.safetensors")))
    else:
        cfg = hf_config(args.arch, tok.vocab_size, args.dim, args.layers, args.heads, args.heads,
                        args.ffn, args.ctx, tok.bos, tok.eos)
        model = CausalLM(cfg)
    if args.lora_base:
        params = lora.attach(model, args.lora_rank, args.lora_alpha)
    else:
        params = list(model.parameters())

    if args.adaptive_floor > 0:
        # Every task's pool holds as many examples as the largest share needs; each mix draws
        # the same total from the pools in proportion to the current weights.
        largest = max(weights.values())
        pools = {t: [encode(tok, c) for c in task_cases(t, "train", round(args.per_task * largest),
                                                         args.seed, False)] for t in tasks}
        total = round(args.per_task * sum(weights.values()))

        def mix(current):
            norm = sum(current.values())
            out = []
            for t in tasks:
                pool = pools[t]
                out += [pool[rng.randrange(len(pool))] for _ in range(round(total * current[t] / norm))]
            return out

        examples = mix(weights)
    else:
        examples = [encode(tok, c) for t in tasks
                    for c in task_cases(t, "train", round(args.per_task * weights[t]), args.seed, False)]
    val = [c for t in tasks for c in task_cases(t, "val", 100, args.seed, False)]
    # A task without the split (arith has no vocab split) is left out of that split's report.
    reports = {s: [c for t in tasks
                   if not t.startswith("hard:") and (t == "route" or s in suite.splits_of(t))
                   for c in task_cases(t, s, 100, args.seed, False)]
               for s in filter(None, args.report_splits.split(","))}
    reports = {s: cases for s, cases in reports.items() if cases}  # arith alone has no vocab split
    # Weight decay only on matrices that multiply activations: never on norms, biases or the
    # token embedding (decay would pull rarely seen tokens' rows to zero).
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() == 2
             and "embed_tokens" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and
                not (p.dim() == 2 and "embed_tokens" not in n)]
    groups = [{"params": decay, "weight_decay": 0.0 if args.lora_base else 0.01},
              {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, min(100, args.steps // 10))  # at least one step: --steps below 10 is allowed
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    start, log = time.time(), []
    accuracy, step = 0.0, 0
    stream = batches(examples, args.batch, rng, args.sort_window)
    for step in range(1, args.steps + 1):
        ids, target, pad, inner = collate(next(stream), prompt_targets=args.prompt_loss > 0)
        logits = model(ids, pad)
        answer_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                      ignore_index=-100)
        loss, request_loss = answer_loss, None
        if inner is not None:
            # Predicting the request's own characters makes the model represent its words,
            # which the answer then reads (a sentiment's adjective, a name to copy).
            request_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), inner.reshape(-1),
                                           ignore_index=-100)
            loss = answer_loss + args.prompt_loss * request_loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps:
            by_set = {}
            accuracy = greedy_accuracy(model, tok, val, by_set)
            log.append({"step": step, "loss": round(answer_loss.item(), 4), "val_accuracy": accuracy,
                        "val_by_set": by_set, "seconds": round(time.time() - start, 1)})
            if request_loss is not None:
                log[-1]["request_loss"] = round(request_loss.item(), 4)
            for split, report in reports.items():
                log[-1][f"{split}_accuracy"] = round(greedy_accuracy(model, tok, report), 3)
            if args.adaptive_floor > 0:
                def set_name(t):
                    return t[5:] + "-hard" if t.startswith("hard:") else t
                current = {t: weights[t] * max(args.adaptive_floor, 1 - by_set.get(set_name(t), 0))
                           for t in tasks}
                log[-1]["mix"] = {t: round(w, 3) for t, w in current.items()}
                stream = batches(mix(current), args.batch, rng, args.sort_window)
            print(json.dumps(log[-1]), flush=True)
            # Not before half the schedule: an early validation at the peak learning rate can
            # reach the target by luck and ship a model that has not settled.
            if (accuracy >= args.target and 2 * step >= args.steps) or step == args.stop_at:
                break

    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    meta = {"tasks": weights, "steps": step, "seconds": round(time.time() - start, 1),
            "val_accuracy": accuracy, "seed": args.seed, "log": log, "torch": torch.__version__}
    if args.lora_base:
        lora.save(model, tmp, args.lora_rank, args.lora_alpha, args.lora_base)
        meta["params"] = sum(p.numel() for p in params)
        # ship.py refuses to pair this adapter with any other base checkpoint.
        with open(os.path.join(args.lora_base, "model.safetensors"), "rb") as f:
            meta["base_sha256"] = hashlib.sha256(f.read()).hexdigest()
    else:
        safetensors_io.save(model.state_dict(), os.path.join(tmp, "model.safetensors"), {"format": "pt"})
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        for name in ("tokenizer.model", "tokenizer.json", "tokenizer_config.json"):
            if os.path.exists(os.path.join(args.tokenizer, name)):
                shutil.copy(os.path.join(args.tokenizer, name), tmp)
        meta["params"] = count_params(model)
    with open(os.path.join(tmp, "training.json"), "w") as f:
        json.dump(meta, f, indent=1)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)


if __name__ == "__main__":
    main()
