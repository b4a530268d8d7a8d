"""Writes the tokenizer-parity goldens: what the encoders the models were trained with make of
the prompts the models are asked, which `engine_test` (TokenizerParity.*) compares with the
engine's tokenizer on the shipped GGUF files, id for id.

  /usr/bin/python3 models/train/tokenizer_parity.py tests/data/tokenizer-parity [--check]

- shared-bpe.jsonl: SentencePiece itself (models/tokenizers/shared-bpe/tokenizer.model, the
  tokenizer of every shipped model but the sentiment specialist) on every 8th prompt of every
  eval set and on edge cases (spaces, tabs, blank lines, accents, characters outside the
  vocabulary that fall back to bytes).
- sentiment-bpe.jsonl: the byte-level BPE the sentiment specialist was trained with
  (tokenizer_training.BpeTokenizer) on every 4th prompt of the sentiment and routing sets and
  on edge cases. That encoder splits words with an ASCII form of GPT-2's expression, so only
  ASCII text is compared: outside ASCII it is not the reference (the GGUF declares GPT-2's).

Deterministic: the same files on every run. --check compares instead of writing (CTest
`tokenizer_parity_goldens`, registered where /usr/bin/python3 has sentencepiece)."""
import glob
import json
import os
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from tokenizer_training import BpeTokenizer  # noqa: E402

EDGES = [
    "", " ", "  ", "\n", "\n\n", "\t", "a", "A", "0", "  leading spaces", "trailing spaces  ",
    "two  inner   spaces", "tab\tinside", "line one\nline two\n", "blank\n\n\nlines",
    "UPPER lower MiXeD", "12345678901234567890", "-17*23=", "3.14159 and 2,500",
    "it's, we're, they've, I'm, you'll, he'd", "quotes \"double\" and 'single'",
    "punctuation!?... ;:()[]{}<>/\\|@#$%^&~`", "snake_case and kebab-case",
]
EDGES_UTF8 = [
    "Zoë, 31, from Córdoba.", "naïve café façade", "Ærøskøbing, Łódź, Škoda", "Ñandú",
    "emoji 😀 ok", "CJK 東京", "ﬁ ligature", "e\u0301 combining", "€100", "ß ẞ",
]


def prompts(every, names):
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "eval", "*", "*.jsonl"))):
        if os.path.splitext(os.path.basename(path))[0] not in names and names:
            continue
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        out += [json.loads(line)["prompt"] for line in lines[::every]]
    return out


def write(path, texts, encode, check):
    """Writes (or with check, compares with) one golden; returns the number of texts."""
    seen = set()
    lines = []
    for t in texts:
        if t in seen:
            continue
        seen.add(t)
        lines.append(json.dumps({"text": t, "ids": encode(t)}, ensure_ascii=False) + "\n")
    text = "".join(lines)
    if check:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"tokenizer_parity: {path} is not what the encoders write now")
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return len(seen)


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if len(args) != 1:
        sys.exit("usage: tokenizer_parity.py OUT_DIR [--check]")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    sp = spm.SentencePieceProcessor(
        model_file=os.path.join(ROOT, "models", "tokenizers", "shared-bpe", "tokenizer.model"))
    n = write(os.path.join(out, "shared-bpe.jsonl"), EDGES + EDGES_UTF8 + prompts(8, []),
              lambda t: sp.encode(t), check)
    bpe = BpeTokenizer(os.path.join(ROOT, "models", "tokenizers", "sentiment-bpe", "tokenizer.json"))
    ascii_texts = [t for t in EDGES + prompts(4, ["sentiment", "routing"]) if t.isascii()]
    m = write(os.path.join(out, "sentiment-bpe.jsonl"), ascii_texts, bpe.encode, check)
    verb = "match" if check else "written to"
    print(f"tokenizer_parity: {n} texts (shared-bpe), {m} texts (sentiment-bpe) {verb} {out}")


if __name__ == "__main__":
    main()
