"""Trains the tokenizers of the shipped models.

- A SentencePiece model (character pieces with byte fallback, no normalisation, no dummy prefix):
  tokenizer.model (probes compare with it).
- The same with BPE pieces (train_spm_bpe: a vocabulary of a given size, every digit its own
  piece), which ADR 0024 measured: half the tokens of characters, and better accuracy on held-out
  wordings at equal steps. The shipped models share this one.
- A GPT-2-style byte-level BPE, trained here from scratch, for the qwen2-architecture specialist:
  tokenizer.json in Hugging Face's format (so that the specialists cross a tokenizer boundary).
"""
import collections
import contextlib
import json
import os
import re

import sentencepiece as spm

SPECIALS = ["<unk>", "<s>", "</s>"]


@contextlib.contextmanager
def inside(out_dir):
    """Runs the trainer in out_dir with a relative model prefix: the model records its prefix, so
    an absolute one would make the bytes depend on where the pipeline's work folder is."""
    os.makedirs(out_dir, exist_ok=True)
    here = os.getcwd()
    os.chdir(out_dir)
    try:
        yield
    finally:
        os.chdir(here)


def train_spm(texts, out_dir):
    chars = sorted({ch for t in texts for ch in t if ch != "\n"})
    with inside(out_dir):
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter([t.replace("\n", " ") for t in texts]), model_prefix="tokenizer",
            model_type="char", vocab_size=len(chars) + len(SPECIALS) + 256, byte_fallback=True,
            normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0, num_threads=1,
            minloglevel=2, hard_vocab_limit=False)
    os.remove(os.path.join(out_dir, "tokenizer.vocab"))
    return SpmTokenizer(os.path.join(out_dir, "tokenizer.model"))


def train_spm_bpe(texts, out_dir, vocab_size):
    with inside(out_dir):
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter([t.replace("\n", " ") for t in texts]), model_prefix="tokenizer",
            model_type="bpe", vocab_size=vocab_size, byte_fallback=True, split_digits=True,
            normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0, num_threads=1,
            minloglevel=2, hard_vocab_limit=False)
    os.remove(os.path.join(out_dir, "tokenizer.vocab"))
    return SpmTokenizer(os.path.join(out_dir, "tokenizer.model"))


class SpmTokenizer:
    def __init__(self, path):
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self.bos, self.eos, self.vocab_size = self.sp.bos_id(), self.sp.eos_id(), self.sp.get_piece_size()
        self.add_bos = True

    def encode(self, text):
        return self.sp.encode(text)

    def decode(self, ids):
        return self.sp.decode(ids)


# GPT-2's pre-tokenizer expression restricted to ASCII (the training text is ASCII, where it
# splits exactly as the Unicode original: \p{L} = [A-Za-z], \p{N} = [0-9]).
GPT2_ASCII = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"


def byte_to_unicode():
    """GPT-2's reversible map of the 256 bytes to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def train_bpe(texts, out_dir, n_merges):
    os.makedirs(out_dir, exist_ok=True)
    b2u = byte_to_unicode()
    words = collections.Counter()
    for t in texts:
        for piece in GPT2_ASCII.findall(t):
            words[tuple(b2u[b] for b in piece.encode())] += 1
    vocab = [b2u[b] for b in range(256)]
    merges = []
    words = dict(words)
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        vocab.append(best[0] + best[1])
        merged = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        words = merged
    eot_id = len(vocab)
    doc = {
        "version": "1.0",
        "truncation": None, "padding": None,
        "added_tokens": [{"id": eot_id, "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": False,
                  "byte_fallback": False, "vocab": {tok: i for i, tok in enumerate(vocab)},
                  "merges": [f"{a} {b}" for a, b in merges]},
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": False, "add_eos_token": False, "bos_token": None,
                   "eos_token": EOT, "tokenizer_class": "Qwen2Tokenizer"}, f, indent=1)
    return BpeTokenizer(os.path.join(out_dir, "tokenizer.json"))


class BpeTokenizer:
    def __init__(self, path):
        with open(path) as f:
            doc = json.load(f)
        self.vocab = doc["model"]["vocab"]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(doc["model"]["merges"])}
        self.eos = doc["added_tokens"][0]["id"]
        self.bos = None
        self.add_bos = False
        self.vocab_size = self.eos + 1
        self.b2u = byte_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.inverse = {i: t for t, i in self.vocab.items()}

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(ranked)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return parts

    def encode(self, text):
        ids = []
        for piece in GPT2_ASCII.findall(text):
            ids += [self.vocab[p] for p in self._bpe("".join(self.b2u[b] for b in piece.encode()))]
        return ids

    def decode(self, ids):
        return bytes(self.u2b[c] for i in ids if i != self.eos for c in self.inverse[i]).decode()
