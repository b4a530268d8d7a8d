#!/usr/bin/env python3
"""Cuts a byte-level BPE vocabulary down to what llama.cpp's test vectors need.

Several of llama.cpp's vocabulary files are too large to commit (Llama 3: 128k tokens and 280k
merges) or were not at hand as GGUF at all. Their test vectors (.inp/.out) still pin the exact
ids llama.cpp produces, so this script keeps, from the full vocabulary:

  - every token whose id appears in the .out file, with its id;
  - every token the merges can build on the way to those: for each kept token, every merge
    "a b" with a + b equal to its text, and a and b themselves, recursively;
  - the 256 single-character tokens of the byte-level alphabet, and every added (special) token;
  - the merges found that way, in their original order (their rank).

Every other id keeps its slot as an empty text of type "unused", so ids stay as in the full
vocabulary. Encoding a test string with the reduced vocabulary gives the same ids as with the
full one: every merge BPE applies to a word of the full run builds a token that ends inside one
of the word's final tokens, so it is kept; the merges that are dropped rank among the others as
before, and the lowest-ranked applicable merge at each step is therefore the same merge. A word
that is itself a token (ignore_merges) is a kept token or no token in both.

The script checks that the texts of the ids of each case concatenate to the case's text, which
proves the full vocabulary is the one the vectors were made with.

Usage (with /usr/bin/python3 or any Python 3; no packages needed):
  reduce_vocab.py --gguf FULL.gguf VECTORS_PREFIX OUT.gguf
  reduce_vocab.py --tokenizer-json tokenizer.json --pre NAME [--bos TEXT] [--name NAME]
                  VECTORS_PREFIX OUT.gguf
where VECTORS_PREFIX.inp and VECTORS_PREFIX.out are llama.cpp's test vectors.
"""
import argparse
import json
import struct
import sys

# GGUF value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALARS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
           BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
TYPE_NORMAL, TYPE_CONTROL, TYPE_USER_DEFINED, TYPE_UNUSED = 1, 3, 4, 5

# Metadata copied from a full GGUF (the tokenizer's own keys and the name).
KEPT_KEYS = ("general.name", "tokenizer.ggml.model", "tokenizer.ggml.pre",
             "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
             "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
             "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token")


def byte_level_alphabet():
    """The 256 characters GPT-2's byte-level encoding writes bytes as."""
    direct = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in direct:
            chars[b] = chr(b)
        else:
            chars[b] = chr(0x100 + extra)
            extra += 1
    return chars


BYTE_CHARS = byte_level_alphabet()
CHAR_BYTES = {c: b for b, c in BYTE_CHARS.items()}


def to_bytes(text):
    """The bytes a byte-level token text stands for (None when it is not byte-level text)."""
    try:
        return bytes(CHAR_BYTES[c] for c in text)
    except KeyError:
        return None


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8")

    def value(self, vtype):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return (etype, [self.value(etype) for _ in range(n)])
        return self.take(SCALARS[vtype])


def read_gguf_metadata(path):
    r = Reader(open(path, "rb").read())
    if r.take("<I") != 0x46554747:
        sys.exit("%s: not a GGUF file" % path)
    r.take("<I")
    r.take("<Q")
    meta = {}
    for _ in range(r.take("<Q")):
        key = r.string()
        vtype = r.take("<I")
        meta[key] = (vtype, r.value(vtype))
    return meta


class Writer:
    def __init__(self):
        self.out = bytearray()
        self.n = 0

    def _string(self, s):
        b = s.encode("utf-8")
        self.out += struct.pack("<Q", len(b)) + b

    def add(self, key, vtype, value):
        self._string(key)
        self.out += struct.pack("<I", vtype)
        self._value(vtype, value)
        self.n += 1

    def _value(self, vtype, value):
        if vtype == STRING:
            self._string(value)
        elif vtype == ARRAY:
            etype, items = value
            self.out += struct.pack("<IQ", etype, len(items))
            for item in items:
                self._value(etype, item)
        else:
            self.out += struct.pack(SCALARS[vtype], value)

    def bytes(self):
        return struct.pack("<IIQQ", 0x46554747, 3, 0, self.n) + bytes(self.out)


def read_cases(prefix):
    texts = open(prefix + ".inp", encoding="utf-8", newline="").read().split(
        "\n__ggml_vocab_test__\n")
    lines = open(prefix + ".out", encoding="utf-8").read().split("\n")
    ids = [[int(x) for x in line.split()] for line in lines[:len(texts)]]
    return list(zip(texts, ids))


def from_gguf(path):
    meta = read_gguf_metadata(path)
    tokens = meta["tokenizer.ggml.tokens"][1][1]
    types = meta.get("tokenizer.ggml.token_type", (ARRAY, (I32, [TYPE_NORMAL] * len(tokens))))
    merges = [m.split(" ", 1) for m in meta["tokenizer.ggml.merges"][1][1]]
    header = [(k, meta[k][0], meta[k][1]) for k in KEPT_KEYS if k in meta]
    return tokens, list(types[1][1]), merges, header


def from_tokenizer_json(path, pre, bos, name):
    t = json.load(open(path, encoding="utf-8"))
    vocab = t["model"]["vocab"]
    added = t["added_tokens"]
    n = max(list(vocab.values()) + [a["id"] for a in added]) + 1
    tokens, types = [""] * n, [TYPE_UNUSED] * n
    for text, i in vocab.items():
        tokens[i], types[i] = text, TYPE_NORMAL
    for a in added:  # as llama.cpp's converter types them
        tokens[a["id"]] = a["content"]
        types[a["id"]] = TYPE_CONTROL if a.get("special") else TYPE_USER_DEFINED
    merges = [m.split(" ", 1) if isinstance(m, str) else list(m) for m in t["model"]["merges"]]
    header = [("general.name", STRING, name), ("tokenizer.ggml.model", STRING, "gpt2"),
              ("tokenizer.ggml.pre", STRING, pre)]
    if bos is not None:
        header.append(("tokenizer.ggml.bos_token_id", U32, tokens.index(bos)))
    return tokens, types, merges, header


def reduce(tokens, types, merges, cases):
    used = {i for _, ids in cases for i in ids}
    for text, ids in cases:
        got = b"".join(to_bytes(tokens[i]) or tokens[i].encode("utf-8") for i in ids)
        if got != text.encode("utf-8"):
            sys.exit("the vocabulary does not match the vectors: %r decodes as %r" % (text, got))
    producers = {}
    for rank, (a, b) in enumerate(merges):
        producers.setdefault(a + b, []).append(rank)
    keep_texts = {tokens[i] for i in used} | set(BYTE_CHARS.values())
    kept_merges, stack = set(), list(keep_texts)
    while stack:
        text = stack.pop()
        for rank in producers.get(text, ()):
            if rank in kept_merges:
                continue
            kept_merges.add(rank)
            for part in merges[rank]:
                if part not in keep_texts:
                    keep_texts.add(part)
                    stack.append(part)
    out_tokens, out_types = [], []
    for i, text in enumerate(tokens):
        keep = (text in keep_texts or types[i] in (TYPE_CONTROL, TYPE_USER_DEFINED)) and text
        out_tokens.append(text if keep else "")
        out_types.append(types[i] if keep else TYPE_UNUSED)
    out_merges = [" ".join(merges[r]) for r in sorted(kept_merges)]
    return out_tokens, out_types, out_merges


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--gguf")
    src.add_argument("--tokenizer-json")
    ap.add_argument("--pre", help="tokenizer.ggml.pre to write (with --tokenizer-json)")
    ap.add_argument("--bos", help="text of the BOS token (with --tokenizer-json)")
    ap.add_argument("--name", default="", help="general.name (with --tokenizer-json)")
    ap.add_argument("vectors")
    ap.add_argument("out")
    args = ap.parse_args()
    if args.gguf:
        tokens, types, merges, header = from_gguf(args.gguf)
    else:
        if not args.pre:
            sys.exit("--pre is required with --tokenizer-json")
        tokens, types, merges, header = from_tokenizer_json(args.tokenizer_json, args.pre,
                                                            args.bos, args.name)
    cases = read_cases(args.vectors)
    out_tokens, out_types, out_merges = reduce(tokens, types, merges, cases)
    w = Writer()
    for key, vtype, value in header:
        w.add(key, vtype, value)
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, out_tokens))
    w.add("tokenizer.ggml.token_type", ARRAY, (I32, out_types))
    w.add("tokenizer.ggml.merges", ARRAY, (STRING, out_merges))
    open(args.out, "wb").write(w.bytes())
    kept = sum(1 for t in out_tokens if t)
    print("%s: %d cases, %d of %d tokens kept, %d of %d merges" %
          (args.out, len(cases), kept, len(tokens), len(out_merges), len(merges)))


if __name__ == "__main__":
    main()
