#!/usr/bin/env python3
"""Writes a small llama2.c checkpoint (Karpathy's run.c format) with seeded random weights.

llama.cpp's convert-llama2c-to-ggml turns such a file into the GGUF that tests/data/llama2c/
holds (README.md there): a file written by llama.cpp's own tool, with its quirks (padding and
separator ids 0xFFFFFFFF), for the tests that say Tessera runs what llama.cpp's tools write.

Format (little-endian): seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
vocab_size, seq_len; a positive vocab_size means the classifier shares the embedding), then
float32 arrays in this order: token embedding [vocab][dim], attention RMS weights [layers][dim],
wq [layers][dim][dim], wk and wv [layers][dim][kv_dim], wo [layers][dim][dim], FFN RMS weights
[layers][dim], w1 [layers][hidden][dim], w2 [layers][dim][hidden], w3 [layers][hidden][dim],
final RMS weights [dim], then the RoPE tables freq_cis_real and freq_cis_imag
[seq_len][head_size / 2] each (the converter skips them; written as zeros).

Usage: python3 make_checkpoint.py OUT.bin  (no packages needed; the output is byte-identical on
every run)
"""
import random
import struct
import sys

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ_LEN = 64, 176, 2, 4, 4, 336, 128
SEED, STDDEV = 20261207, 0.08


def main():
    rng = random.Random(SEED)
    kv_dim = DIM * KV_HEADS // HEADS
    head_size = DIM // HEADS
    out = bytearray(struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ_LEN))

    def gauss(n):
        out.extend(struct.pack("<%df" % n, *(rng.gauss(0.0, STDDEV) for _ in range(n))))

    def ones(n):
        out.extend(struct.pack("<%df" % n, *([1.0] * n)))

    gauss(VOCAB * DIM)
    ones(LAYERS * DIM)
    gauss(LAYERS * DIM * DIM)
    gauss(LAYERS * DIM * kv_dim)
    gauss(LAYERS * DIM * kv_dim)
    gauss(LAYERS * DIM * DIM)
    ones(LAYERS * DIM)
    gauss(LAYERS * HIDDEN * DIM)
    gauss(LAYERS * DIM * HIDDEN)
    gauss(LAYERS * HIDDEN * DIM)
    ones(DIM)
    out.extend(bytes(4 * SEQ_LEN * head_size))  # freq_cis_real and freq_cis_imag, skipped
    with open(sys.argv[1], "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
