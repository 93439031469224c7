#!/usr/bin/env python3
"""Check every fixture under fixtures/: JSON parses, requests are well formed, tool_call_ids match.

    python3 scripts/validate_fixtures.py
"""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES = {"system", "developer", "user", "assistant", "tool"}
errors = []


def check_request(name, req):
    if not isinstance(req.get("model"), str):
        errors.append(f"{name}: missing model")
    msgs = req.get("messages")
    if not isinstance(msgs, list) or not msgs:
        errors.append(f"{name}: missing messages")
        return
    pending = set()  # tool_call ids announced by the last assistant message, not yet answered
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role not in ROLES:
            errors.append(f"{name}: messages[{i}] role {role!r}")
        if role == "assistant" and m.get("tool_calls"):
            if pending:
                errors.append(f"{name}: messages[{i}] new tool calls while {pending} unanswered")
            ids = [c["id"] for c in m["tool_calls"]]
            if len(set(ids)) != len(ids):
                errors.append(f"{name}: messages[{i}] duplicate tool_call ids")
            for c in m["tool_calls"]:
                if c.get("type") != "function":
                    errors.append(f"{name}: messages[{i}] tool call type {c.get('type')!r}")
                json.loads(c["function"]["arguments"])  # arguments is a JSON *string*
            pending = set(ids)
        elif role == "tool":
            tid = m.get("tool_call_id")
            if tid not in pending:
                errors.append(f"{name}: messages[{i}] tool_call_id {tid!r} matches no open call")
            pending.discard(tid)
        elif pending:
            errors.append(f"{name}: messages[{i}] ({role}) before tool calls {pending} answered")
            pending = set()
    tools = {t["function"]["name"] for t in req.get("tools", [])}
    for m in msgs:
        for c in m.get("tool_calls") or []:
            if c["function"]["name"] not in tools:
                errors.append(f"{name}: tool {c['function']['name']!r} not in tools")


def main():
    count = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "**", "*.json*"), recursive=True)):
        name = os.path.relpath(path, ROOT)
        # Token corpus / counts / boundaries and template renders are data, not requests.
        if name.startswith((os.path.join("fixtures", "tokens"), os.path.join("fixtures", "templates"))):
            continue
        with open(path, encoding="utf-8") as f:
            if path.endswith(".jsonl"):
                docs = [json.loads(line) for line in f if line.strip()]
            else:
                docs = [json.load(f)]
        for j, doc in enumerate(docs):
            label = f"{name}:{j + 1}" if path.endswith(".jsonl") else name
            if doc.get("object") == "chat.completion":
                msg = doc["choices"][0]["message"]
                if msg.get("role") != "assistant":
                    errors.append(f"{label}: response message is not assistant")
            else:
                check_request(label, doc)
            count += 1
    for e in errors:
        print("ERROR", e)
    print(f"{count} JSON documents checked, {len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
