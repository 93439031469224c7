#!/usr/bin/env bash
# Whole-file counting as whole processes: `chatctx count-text --tokenizer VOCAB FILE` against
# the same file counted by each peer in a process of its own (examples/count_text_peer.rs:
# bpe-openai, the `tiktoken` crate, tiktoken-rs). Each timing covers the whole process: start,
# building or loading the vocabulary, reading the file and counting it.
#
#   scripts/count_text_speed.sh [ROUNDS]     (default 15)
#
# The files are written to target/count_text/ from the fixture corpus:
#   - english.txt: the strings of fixtures/tokens/corpus/chat.jsonl (English chat), one per line;
#   - chinese.txt: the strings of fixtures/tokens/corpus/zh.jsonl (Chinese documentation);
#   - *-x8.txt: each of them eight times over (a file of a few MB, where counting outweighs
#     start-up).
# The commands run in ROUNDS interleaved rounds (each command once per round, in turn), so a
# noisy machine slows all of them alike. Per file and vocabulary it prints the median
# wall time of each command and the median over the rounds of peer time / chatctx time, and
# checks that every command printed the same count (`exact=yes`).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-15}"
cargo build --release --quiet --bin chatctx --example count_text_peer
bin=target/release
dir=target/count_text
mkdir -p "$dir"
python3 - "$dir" <<'EOF'
import json, sys, unicodedata
out = sys.argv[1]
for name, src in [("english", "chat.jsonl"), ("chinese", "zh.jsonl")]:
    with open(f"fixtures/tokens/corpus/{src}", encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    # NFC, so that Qwen's peers (which do not normalize) count what chatctx counts.
    text = unicodedata.normalize("NFC", "\n".join(texts) + "\n")
    for suffix, times in [("", 1), ("-x8", 8)]:
        with open(f"{out}/{name}{suffix}.txt", "w", encoding="utf-8") as f:
            f.write(text * times)
EOF

now() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for file in english chinese english-x8 chinese-x8; do
    path="$dir/$file.txt"
    bytes=$(wc -c <"$path")
    for vocab in cl100k_base o200k_base; do
        peers=(bpe-openai tiktoken tiktoken-rs)
        cmds=("$bin/chatctx count-text --tokenizer $vocab $path")
        for p in "${peers[@]}"; do cmds+=("$bin/examples/count_text_peer $p $vocab $path"); done
        declare -A times=()
        counts=()
        for i in "${!cmds[@]}"; do counts+=("$(${cmds[$i]})"); done
        for _ in $(seq "$rounds"); do
            for i in "${!cmds[@]}"; do
                start=$(now)
                ${cmds[$i]} >/dev/null
                times[$i]+="$(( $(now) - start )) "
            done
        done
        exact=yes
        for c in "${counts[@]}"; do [ "$c" = "${counts[0]}" ] || exact=no; done
        ours=(${times[0]})
        line="$file ($bytes bytes) $vocab chatctx=$(printf '%s\n' "${ours[@]}" | median | awk '{printf "%.1fms", $1/1e6}')"
        for i in $(seq 1 $(( ${#cmds[@]} - 1 ))); do
            theirs=(${times[$i]})
            ms=$(printf '%s\n' "${theirs[@]}" | median | awk '{printf "%.1fms", $1/1e6}')
            ratio=$(for r in $(seq 0 $(( rounds - 1 ))); do echo "${theirs[$r]} ${ours[$r]}" | awk '{print $1/$2}'; done | median)
            line+=" ${peers[$((i - 1))]}=$ms ($(printf '%.1f' "$ratio")x)"
        done
        echo "$line count=${counts[0]} exact=$exact"
        unset times
    done
done
