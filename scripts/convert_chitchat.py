#!/usr/bin/env python3
"""Convert real human chats from the chitchat-dataset package into chat request fixtures.

Source: chitchat-dataset 0.9.0 (MIT, BYU Perception, Control & Cognition lab,
https://github.com/BYU-PCCL/chitchat-dataset). This script installs nothing; install the
data first with:

    pip install chitchat-dataset==0.9.0

then regenerate the fixtures (deterministic, same output on every run) with:

    python3 scripts/convert_chitchat.py

Conversion rules:
  * Every chitchat conversation is a list of turns; a turn is a list of utterances by one
    sender. Utterances whose text is empty/whitespace-only are dropped; the remaining
    utterances are regrouped by consecutive sender and joined with "\n" (text otherwise
    verbatim).
  * The first speaker becomes "user", the other "assistant". A "round" is one user message
    followed by one assistant message.
  * Every request body is {"model": "deepseek-chat", "messages": [system, ...]} and ends with a
    user message (the turn the next API call would answer).

Outputs (under fixtures/chitchat/):
  * conversations.jsonl: N_CONVERSATIONS conversations, one request per line: the first ones
    by sorted conversation key that have >= MIN_ROUNDS complete rounds followed by a user turn
    (a trailing assistant turn is dropped).
  * long_session_{1,2,3}.json: each >= LONG_ROUNDS rounds, made by concatenating the complete
    rounds of the next unused conversations with >= POOL_MIN_ROUNDS complete rounds (sorted
    key order); a chat boundary is simply the next user turn. Ends with the first user turn
    of the following conversation.
  * recall_fact.json: a fact round written by us (FACT_USER / FACT_ASSISTANT, NOT chitchat
    data) followed by RECALL_FILLER_ROUNDS rounds of real chitchat (next unused conversations),
    ending with RECALL_QUESTION (also written by us).
  * LICENSE: copy of the chitchat-dataset MIT license.
"""
import json
import os
import shutil
import sys

try:
    import chitchat_dataset
except ImportError:  # pragma: no cover
    sys.exit("chitchat-dataset is not installed: pip install chitchat-dataset==0.9.0")

MODEL = "deepseek-v4-flash"
# deepseek-chat, the model these requests were first written for, was V4-Flash non-thinking
THINKING = {"type": "disabled"}
SYSTEM_PROMPT = (
    "You are a friendly conversation partner. Chat casually and keep your replies short."
)
N_CONVERSATIONS = 200
MIN_ROUNDS = 6
N_LONG_SESSIONS = 3
LONG_ROUNDS = 300
POOL_MIN_ROUNDS = 3  # chats used for long sessions / recall filler
RECALL_FILLER_ROUNDS = 60

# Written by the chatctx authors (not chitchat data): the distinctive fact to recall.
FACT_USER = "Before we start: my sister's cat is named Pistachio and she is allergic to salmon."
FACT_ASSISTANT = (
    "Got it! Pistachio the cat, and no salmon for her. Thanks for letting me know."
)
RECALL_QUESTION = "What is my sister's cat called and what is it allergic to?"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "fixtures", "chitchat")
PKG_DIR = os.path.dirname(os.path.abspath(chitchat_dataset.__file__))
DATASET = os.path.join(PKG_DIR, "dataset.json")


def find_license():
    """The package's LICENSE lives in its dist-info directory."""
    site = os.path.dirname(PKG_DIR)
    for name in sorted(os.listdir(site)):
        if name.lower().startswith("chitchat_dataset") and name.endswith(".dist-info"):
            path = os.path.join(site, name, "LICENSE")
            if os.path.exists(path):
                return path, name
    sys.exit("could not find the chitchat-dataset LICENSE in " + site)


def to_turns(conv):
    """Return [(role, text), ...] alternating user/assistant, starting with user."""
    utterances = [u for turn in conv["messages"] for u in turn if u["text"].strip()]
    groups = []  # [sender, [texts]]
    for u in utterances:
        if groups and groups[-1][0] == u["sender"]:
            groups[-1][1].append(u["text"])
        else:
            groups.append([u["sender"], [u["text"]]])
    roles = ("user", "assistant")
    return [(roles[i % 2], "\n".join(texts)) for i, (_, texts) in enumerate(groups)]


def rounds_of(turns):
    """Complete (user, assistant) pairs, and the trailing user turn text if any."""
    pairs = [(turns[i][1], turns[i + 1][1]) for i in range(0, len(turns) - 1, 2)]
    tail = turns[-1][1] if len(turns) % 2 == 1 else None
    return pairs, tail


def request(pairs, final_user, prefix_pairs=()):
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for user, assistant in list(prefix_pairs) + list(pairs):
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": final_user})
    return {"model": MODEL, "thinking": THINKING, "messages": messages}


def dump_pretty(obj):
    """One message per line: readable, diff-friendly, and still plain JSON."""
    lines = ["{", '  "model": %s,' % json.dumps(obj["model"]),
             '  "thinking": %s,' % json.dumps(obj["thinking"]), '  "messages": [']
    msgs = obj["messages"]
    for i, m in enumerate(msgs):
        sep = "," if i + 1 < len(msgs) else ""
        lines.append("    " + json.dumps(m, ensure_ascii=False) + sep)
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write(name, text):
    with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def check_version():
    from importlib import metadata

    version = metadata.version("chitchat-dataset")
    if version != "0.9.0":
        print("warning: fixtures were made from chitchat-dataset 0.9.0, found " + version)


def main():
    check_version()
    with open(DATASET, encoding="utf-8") as f:
        data = json.load(f)
    keys = sorted(data)
    os.makedirs(OUT_DIR, exist_ok=True)

    # 1. conversations.jsonl
    lines, used = [], set()
    for key in keys:
        pairs, tail = rounds_of(to_turns(data[key]))
        if tail is None and pairs:
            # Drop the trailing assistant turn so the request ends with a user message.
            pairs, tail = pairs[:-1], pairs[-1][0]
        if tail is None or len(pairs) < MIN_ROUNDS:
            continue
        lines.append(json.dumps(request(pairs, tail), ensure_ascii=False))
        used.add(key)
        if len(lines) == N_CONVERSATIONS:
            break
    write("conversations.jsonl", "\n".join(lines) + "\n")

    # Remaining conversations, in sorted key order, with >= POOL_MIN_ROUNDS complete rounds.
    pool = []
    for key in keys:
        if key in used:
            continue
        pairs, _ = rounds_of(to_turns(data[key]))
        if len(pairs) >= POOL_MIN_ROUNDS:
            pool.append((key, pairs))
    pos = 0

    # 2. long sessions
    for n in range(1, N_LONG_SESSIONS + 1):
        pairs = []
        while len(pairs) < LONG_ROUNDS:
            pairs.extend(pool[pos][1])
            pos += 1
        final_user = pool[pos][1][0][0]  # opening line of the next chat
        write("long_session_%d.json" % n, dump_pretty(request(pairs, final_user)))
    pos += 1

    # 3. recall fact
    filler = []
    while len(filler) < RECALL_FILLER_ROUNDS:
        need = RECALL_FILLER_ROUNDS - len(filler)
        filler.extend(pool[pos][1][:need])
        pos += 1
    write(
        "recall_fact.json",
        dump_pretty(request(filler, RECALL_QUESTION, [(FACT_USER, FACT_ASSISTANT)])),
    )

    # 4. license
    license_path, dist = find_license()
    shutil.copyfile(license_path, os.path.join(OUT_DIR, "LICENSE"))
    print("wrote %s from %s (%d conversations in dataset)" % (OUT_DIR, dist, len(data)))


if __name__ == "__main__":
    main()
