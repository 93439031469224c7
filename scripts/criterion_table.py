#!/usr/bin/env python3
"""Print the README's tables of `cargo bench --bench counting` from criterion's results.

    cargo bench --bench counting            # writes target/criterion/
    python3 scripts/criterion_table.py [--ratios] [target/criterion]

For every group of benches/counting.rs ("counting english chat (cl100k_base)", "worst case ...",
"per message chat-messages first (o200k_base)") it reads each function's `benchmark.json` (its
names and throughput in bytes) and `new/estimates.json` (the median time of one iteration), and
prints MiB/s as `chatctx / peer / peer ...` in the peers' order of the header, one row per input
and one column per vocabulary; `-` is a peer that does not have the vocabulary or was skipped
(it crashed on the input). With `--ratios`, each table is followed by the
ratios chatctx / peer.
"""

import json
import os
import sys
from collections import defaultdict

PEERS = ["tiktoken", "tiktoken-rs", "bpe-openai", "tokenizers"]
VOCABS = ["cl100k_base", "o200k_base", "qwen2.5", "qwen3.5", "deepseek-v3"]


def load(root):
    """{group: {function: MiB/s}} for every bench criterion has results for."""
    out = defaultdict(dict)
    for dirpath, _dirs, files in os.walk(root):
        if "benchmark.json" not in files or os.path.basename(dirpath) != "new":
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        bytes_ = (bench.get("throughput") or {}).get("Bytes")
        if not bytes_:
            continue
        ns = est["median"]["point_estimate"]
        out[bench["group_id"]][bench["function_id"]] = bytes_ / ns * 1e9 / 2**20
    return out


def split_group(group):
    """("counting english chat", "cl100k_base") from "counting english chat (cl100k_base)"."""
    head, _, vocab = group.rpartition(" (")
    return head, vocab.rstrip(")")


def fmt(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def table(results, prefix, title, with_ratios):
    rows = defaultdict(dict)
    for group, funcs in results.items():
        if not group.startswith(prefix):
            continue
        name, vocab = split_group(group)
        rows[name[len(prefix):].strip()][vocab] = funcs
    if not rows:
        return
    vocabs = [v for v in VOCABS if any(v in r for r in rows.values())]
    present = {f.split("/")[0] for r in rows.values() for funcs in r.values() for f in funcs}
    peers = [p for p in PEERS if p in present]
    print(f"{title}: MiB/s, chatctx / " + " / ".join(peers) + " (- where a peer lacks the vocabulary or crashed)\n")
    print("| input | " + " | ".join(vocabs) + " |")
    print("|---|" + "---|" * len(vocabs))
    ratios = defaultdict(list)
    for name in sorted(rows):
        cells = []
        for v in vocabs:
            funcs = rows[name].get(v, {})
            ours = funcs.get(f"chatctx/{v}")
            if ours is None:
                cells.append("")
                continue
            speeds = [fmt(ours)]
            for p in peers:
                theirs = funcs.get(f"{p}/{v}")
                if theirs is None:
                    speeds.append("-")
                    continue
                speeds.append(fmt(theirs))
                ratios[(name, p)].append(f"{v} {ours / theirs:.1f}x")
            cells.append(" / ".join(speeds))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    if with_ratios:
        for (name, p), rs in sorted(ratios.items()):
            print(f"- {name}, chatctx / {p}: " + ", ".join(rs))
        print()


def main():
    args = [a for a in sys.argv[1:] if a != "--ratios"]
    with_ratios = "--ratios" in sys.argv[1:]
    root = args[0] if args else "target/criterion"
    results = load(root)
    if not results:
        sys.exit(f"no criterion results under {root}: run `cargo bench --bench counting` first")
    table(results, "counting", "Long texts (piece cache warm)", with_ratios)
    table(results, "worst case", "Worst cases", with_ratios)
    table(results, "per message", "Per message, one call each", with_ratios)


if __name__ == "__main__":
    main()
