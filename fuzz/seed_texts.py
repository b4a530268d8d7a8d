#!/usr/bin/env python3
"""Writes the text seeds of the fuzz corpora from committed test data (deterministic):
  tokenizer_spm/, tokenizer_bpe/  llama.cpp's tokenizer test texts (tests/data/vocab/*.inp), each
                                  behind the selector byte the targets read (fuzz/tokenizer_checks.h)
  manifest/                       tests/package/data/*.json and their v2 model and policy variants
  policy/                         the bundled skills policy and exemplars, the policy test's
                                  policy, and small policies of each router kind
  batch_line/                     the lines of examples/*.jsonl
Usage: fuzz/seed_texts.py  (from anywhere; `scripts/fuzz seeds` runs it)."""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def tokenizer_texts():
    inp = (ROOT / "tests/data/vocab/ggml-vocab-gpt-2.gguf.inp").read_bytes()
    texts = inp.split(b"\n__ggml_vocab_test__\n")
    texts += [b"<s>Hello</s> <tool>x", b"<|endoftext|>hi<|endoftext|>", b"\xff\xfe bad utf-8",
              b"caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\xa6\x99 12345678"]
    return texts


def tokenizers():
    for i, t in enumerate(tokenizer_texts()):
        for sel in (0, 1):  # llama-spm, phi-3
            write("tokenizer_spm", "seed-%03d-%d" % (i, sel), bytes([sel | (0xC0 if i % 4 == 0 else 0)]) + t)
        for sel in range(5):  # gpt-2, starcoder, falcon, deepseek-coder, default pre-tokenizer
            write("tokenizer_bpe", "seed-%03d-%d" % (i, sel), bytes([sel | (0xC0 if i % 4 == 0 else 0)]) + t)


def manifests():
    data = ROOT / "tests/package/data"
    for p in sorted(data.glob("*.json")):
        write("manifest", "seed-" + p.stem + ".json", p.read_bytes())
    model = json.loads((data / "model_manifest.json").read_text())
    v2 = json.loads(json.dumps(model))
    v2["schema"] = "tessera.package/v2"
    v2["contract"]["role"] = "date-normalise"
    v2["contract"]["output"] = {"type": "text", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
    v2["contract"]["prompt"] = "date: {input}\n{{x}}"
    v2["contract"]["domain"] = "Calendar dates from 1950 to 2049."
    v2["contract"]["examples"] = [{"input": "5th of March, 2021", "output": "2021-03-05"}]
    write("manifest", "seed-v2-model.json", json.dumps(v2, ensure_ascii=False).encode())
    enum = json.loads(json.dumps(v2))
    enum["contract"]["output"] = {"type": "enum", "labels": ["negative", "positive"]}
    enum["contract"]["examples"] = [{"input": "great", "output": "positive"}]
    write("manifest", "seed-v2-enum.json", json.dumps(enum).encode())
    pol = json.loads(json.dumps(model))
    pol["schema"] = "tessera.package/v2"
    pol["id"] = "dev.tessera.policy.skills"
    pol["kind"] = "policy"
    for k in ("gguf", "contract", "resources", "quality", "rollback"):
        pol.pop(k, None)
    pol["capabilities"] = []
    pol["artifacts"] = [
        {"role": "policy", "name": "policy.json", "media_type": "application/vnd.tessera.policy+json",
         "size": 10, "sha256": "a" * 64},
        {"role": "router-exemplars", "name": "exemplars.jsonl", "media_type": "application/x-ndjson",
         "size": 10, "sha256": "b" * 64}]
    write("manifest", "seed-v2-policy.json", json.dumps(pol).encode())


SMALL_POLICY = {
    "schema": "tessera.policy/v1",
    "description": "two skills and an escalation target",
    "routers": [
        {"name": "rules", "type": "rules", "mode": "scored", "min_margin": 0.5,
         "rules": [{"route": "arith", "patterns": ["\\d+\\s*[-+]\\s*\\d+"], "weight": 2},
                   {"route": "date", "keywords": ["iso date", "normalize"], "max_chars": 200}]},
        {"name": "classifier", "type": "classifier", "module": "dev.t.router",
         "labels": {"arith": "arith", "date": "date"}, "abstain_labels": ["none"],
         "threshold": 0.6, "min_margin": 0.1},
        {"name": "nearest", "type": "embedding", "module": "dev.t.base@1.0.0",
         "exemplars": "exemplars.jsonl", "labels": {"arith": "arith", "date": "date"},
         "top_k": 3, "threshold": 0.7}],
    "routes": {
        "arith": {"description": "sums", "capabilities": ["emit:text"],
                  "cascade": [["dev.t.skills.arith", "dev.t.adapters.arith"], "dev.t.generalist"]},
        "date": {"cascade": [{"role": "date-normalise"}, "dev.t.generalist@2.1.0"],
                 "fallback": "arith", "input_pattern": "(?:[0-9]{1,2}/){2}[0-9]{4}|\\bmarch\\b"}},
    "cascade": {"max_steps": 2, "max_wall_ms": 5000, "max_load_bytes": 64000000,
                "min_confidence": -0.8, "use_calibration": False, "on_exhausted": "best"},
    "eligibility": {"licenses": ["Apache-2.0"], "require_verified": False},
    "residency": {"load_cost_per_mb": 1.5, "hysteresis": 0.5},
}


def policies():
    skills = ROOT / "models/policies/skills"
    write("policy", "seed-skills-policy.json", (skills / "policy.json").read_bytes())
    write("policy", "seed-skills-exemplars.jsonl", (skills / "exemplars.jsonl").read_bytes())
    write("policy", "seed-test-policy.json", json.dumps(SMALL_POLICY, indent=1).encode())
    for i, router in enumerate(SMALL_POLICY["routers"]):
        p = {"schema": "tessera.policy/v1", "routers": [router],
             "routes": {"arith": {"cascade": ["dev.t.generalist"]},
                        "date": {"cascade": [{"role": "date-normalise"}]}}}
        write("policy", "seed-router-%d.json" % i, json.dumps(p).encode())


def batch_lines():
    for p in sorted((ROOT / "examples").glob("*.jsonl")):
        for i, line in enumerate(p.read_bytes().splitlines()):
            write("batch_line", "seed-%s-%02d" % (p.stem, i), line)
    for i, line in enumerate([b'{"package":"dev.x@1.0.0","prompt":"hi","max_tokens":4096,"id":"a"}',
                              b'{"package":"auto","prompt":"\\ud83e\\udd99 caf\\u00e9"}', b"   \t\r"]):
        write("batch_line", "seed-extra-%02d" % i, line)


if __name__ == "__main__":
    tokenizers()
    manifests()
    policies()
    batch_lines()
