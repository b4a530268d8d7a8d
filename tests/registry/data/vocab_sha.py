#!/usr/bin/env python3
"""Independent reference for the canonical vocabulary bytes of docs/formats/package.md section 5.

Reads a GGUF file's metadata with its own parser (no Tessera code, no gguf package) and prints
the sha256 of

  "tessera-vocab-v1\n"
  u32 len + bytes   tokenizer.ggml.model
  u32 len + bytes   tokenizer.ggml.pre ("default" when absent)
  u32 n_tokens, then per token: u32 len + bytes, f32 score (0 when absent), i32 type (1 when absent)
  u32 n_merges, then per merge: u32 len + bytes
  i32 bos, eos, unk, pad ids (-1 when absent or outside the vocabulary); u8 add_bos, add_eos:
    the values the tokenizer uses (the metadata, or the tokenizer's default when absent)

(little-endian). The add_bos/add_eos defaults are Tessera's (src/tokenizer/vocab.h): "llama"
and the Llama 3 group of byte-level pre-tokenizers add BOS; nothing adds EOS.

Usage: /usr/bin/python3 tests/registry/data/vocab_sha.py FILE.gguf [--dump]
The golden value in tests/registry/gguf_facts_test.cc was computed with this script.
"""
import hashlib
import struct
import sys

# value type -> struct format of a scalar
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
           10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9


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
        if len(s) != n:
            raise ValueError("truncated string")
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == STRING:
            return (vtype, self.string())
        if vtype == ARRAY:
            etype = self.take("<I")
            n = self.take("<Q")
            return (vtype, (etype, [self.value(etype)[1] for _ in range(n)]))
        return (vtype, self.take(SCALARS[vtype]))


def read_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if r.take("<I") != 0x46554747:
        raise ValueError("not a GGUF file")
    version = r.take("<I")
    if version not in (2, 3):
        raise ValueError("GGUF version %d" % version)
    r.take("<Q")  # tensor count
    n_kv = r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string().decode("utf-8")
        meta[key] = r.value(r.take("<I"))
    return meta


# tokenizer.ggml.pre values for which llama.cpp (and Tessera) add BOS by default.
LLAMA3_GROUP = (b"llama-bpe", b"llama3", b"llama-v3", b"falcon3")


def canonical_vocab_bytes(meta):
    def get(key, default=None):
        return meta[key][1] if key in meta else default

    def lenbytes(b):
        return struct.pack("<I", len(b)) + b

    model = get("tokenizer.ggml.model")
    pre = get("tokenizer.ggml.pre", b"default")
    tokens = get("tokenizer.ggml.tokens")[1]
    scores = get("tokenizer.ggml.scores")
    types = get("tokenizer.ggml.token_type")
    merges = get("tokenizer.ggml.merges")
    out = bytearray(b"tessera-vocab-v1\n")
    out += lenbytes(model)
    out += lenbytes(pre)
    out += struct.pack("<I", len(tokens))
    for i, text in enumerate(tokens):
        out += lenbytes(text)
        out += struct.pack("<f", float(scores[1][i]) if scores is not None else 0.0)
        out += struct.pack("<i", int(types[1][i]) if types is not None else 1)
    merge_list = merges[1] if merges is not None else []
    out += struct.pack("<I", len(merge_list))
    for m in merge_list:
        out += lenbytes(m)
    for key in ("bos", "eos", "unknown", "padding"):
        token_id = int(get("tokenizer.ggml.%s_token_id" % key, -1))
        out += struct.pack("<i", token_id if 0 <= token_id < len(tokens) else -1)
    bos_default = model == b"llama" or (model == b"gpt2" and pre in LLAMA3_GROUP)
    out += struct.pack("<B", int(bool(get("tokenizer.ggml.add_bos_token", bos_default))))
    out += struct.pack("<B", int(bool(get("tokenizer.ggml.add_eos_token", False))))
    return bytes(out)


def main():
    meta = read_metadata(sys.argv[1])
    if "--dump" in sys.argv[2:]:
        for k, (t, v) in meta.items():
            if t == ARRAY:
                print(k, "array", v[0], len(v[1]), v[1][:8])
            else:
                print(k, t, v)
    data = canonical_vocab_bytes(meta)
    print(hashlib.sha256(data).hexdigest(), len(data))


if __name__ == "__main__":
    main()
