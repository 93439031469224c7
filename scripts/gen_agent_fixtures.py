#!/usr/bin/env python3
"""Build the agent-loop recordings of chatctx: fixtures/agent/*.json.

Each file is one chat request body in the OpenAI-compatible format (as every fixture, see
fixtures/README.md): a finished recording of an agent loop, whose tool calls are scripted by us
and whose tool results are real text the project may ship:

- Python 3.11.7 standard library sources (PSF License), read from the local interpreter's
  `lib/python3.11/` and shown under CPython's repository paths (`Lib/argparse.py`);
- chatctx's own sources and README (MIT OR Apache-2.0), read from git commit `REPO_COMMIT`
  (so a later edit of the code does not change the fixtures).

The tools behave like the usual coding-agent tools, computed for real on those files:
`read_file` (a line range, numbered like `cat -n`), `grep` (a regular expression, lines as
`path:line:text`) and `list_dir` (entries with sizes). The system prompts, user messages,
assistant texts and `reasoning_content` are ours. Call ids are derived from a hash of the file
name and position, so regenerating gives identical files.

Recordings:
1. coding_agent.json: deepseek-chat, system + one user message + 12 `read_file` steps whose
   results are 8,000-9,000 tokens each (DeepSeek-V3 tokenizer) + the final answer;
2. thinking_parallel.json: deepseek-v4-flash in thinking mode (`"thinking": {"type":
   "enabled"}`), two user turns, parallel tool calls (2-4 per assistant message), and
   `reasoning_content` on every assistant message;
3. oversized_result.json: deepseek-chat, one `read_file` result of about 45,000 tokens (more
   than a 32,000-token window), between smaller steps.

Also writes fixtures/agent/SOURCES.md: the SHA-256 of every source file used.

Run from the repository root: python3 scripts/gen_agent_fixtures.py
Needs: tokenizers (pip), git, Python 3.11.7's standard library at STDLIB.
"""
import hashlib
import json
import os
import re
import subprocess
import sys

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "agent")
STDLIB = "/root/.pyenv/versions/3.11.7/lib/python3.11"
REPO_COMMIT = "f913e1fa52c3d2d73ea83e9d76b63ec311552c15"
SOURCES = {}  # shown path -> (origin, sha256)

_ds = json.load(open(os.path.join(ROOT, "vocab", "deepseek-v3.tokenizer.json"), encoding="utf-8"))
_ds["added_tokens"] = []
DS = Tokenizer.from_str(json.dumps(_ds))


def tokens(text):
    """DeepSeek-V3 tokens of `text` as ordinary text (what chatctx's deepseek-v3 counter counts)."""
    return len(DS.encode(text, add_special_tokens=False).ids)


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True).stdout


def stdlib_file(shown):
    """A standard-library file by its CPython path (`Lib/argparse.py`)."""
    path = os.path.join(STDLIB, shown[len("Lib/"):])
    data = open(path, "rb").read()
    SOURCES[shown] = (f"Python 3.11.7 `{path}`", hashlib.sha256(data).hexdigest())
    return data.decode("utf-8")


def repo_file(shown):
    """A file of this repository at REPO_COMMIT."""
    data = git("show", f"{REPO_COMMIT}:{shown}")
    SOURCES[shown] = (f"chatctx `{REPO_COMMIT[:12]}`", hashlib.sha256(data).hexdigest())
    return data.decode("utf-8")


def numbered(text, offset, limit):
    """Lines offset..offset+limit-1 (1-based) of `text`, numbered like `cat -n`."""
    lines = text.split("\n")
    chosen = lines[offset - 1 : offset - 1 + limit]
    return "\n".join(f"{offset + i:>6}\t{line}" for i, line in enumerate(chosen))


def grep(pattern, files):
    """`grep -n -E pattern` over (shown path, text) pairs, as `path:line:text`."""
    rx = re.compile(pattern)
    out = []
    for shown, text in files:
        for i, line in enumerate(text.split("\n"), 1):
            if rx.search(line):
                out.append(f"{shown}:{i}:{line}")
    return "\n".join(out) if out else "(no matches)"


def list_stdlib(shown):
    """`list_dir` of a standard-library directory: sorted entries, directories with `/`."""
    path = os.path.join(STDLIB, shown[len("Lib"):].lstrip("/"))
    out = []
    for name in sorted(os.listdir(path)):
        if name == "__pycache__" or name.startswith("."):
            continue
        full = os.path.join(path, name)
        if os.path.isdir(full):
            out.append(f"{name}/")
        else:
            out.append(f"{name}  {os.path.getsize(full)} bytes")
    return "\n".join(out)


def list_repo(shown):
    """`list_dir` of a directory of this repository at REPO_COMMIT."""
    out = []
    for line in git("ls-tree", "-l", f"{REPO_COMMIT}:{shown}").decode().splitlines():
        meta, name = line.split("\t")
        kind, size = meta.split()[1], meta.split()[3]
        out.append(f"{name}/" if kind == "tree" else f"{name}  {size} bytes")
    return "\n".join(out)


TOOLS = {
    "read_file": {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a text file of the workspace. Returns the lines offset..offset+limit-1, each prefixed with its line number and a tab.",
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Path relative to the workspace root."},
                    "offset": {"type": "integer", "description": "First line to read, 1-based. Default 1."},
                    "limit": {"type": "integer", "description": "Number of lines to read. Default 2000."},
                },
                "required": ["path"],
            },
        },
    },
    "grep": {
        "type": "function",
        "function": {
            "name": "grep",
            "description": "Search files for a regular expression (extended syntax). Returns matching lines as path:line:text.",
            "parameters": {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "The regular expression."},
                    "path": {"type": "string", "description": "A file or directory to search, relative to the workspace root."},
                },
                "required": ["pattern", "path"],
            },
        },
    },
    "list_dir": {
        "type": "function",
        "function": {
            "name": "list_dir",
            "description": "List a directory of the workspace: subdirectories end with '/', files show their size.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "Directory relative to the workspace root."}},
                "required": ["path"],
            },
        },
    },
}


class Recording:
    """Builds one request body step by step."""

    def __init__(self, name, model, system, tools):
        self.name = name
        self.body = {"model": model, "messages": [{"role": "system", "content": system}]}
        self.tools = [TOOLS[t] for t in tools]
        self.calls = 0

    def user(self, text):
        self.body["messages"].append({"role": "user", "content": text})

    def step(self, calls, content=None, reasoning=None):
        """An assistant message with `calls` [(tool, arguments, result)], then the results."""
        msg = {"role": "assistant", "content": content}
        if reasoning is not None:
            msg["reasoning_content"] = reasoning
        ids = []
        tool_calls = []
        for tool, args, _ in calls:
            digest = hashlib.sha256(f"{self.name}:{self.calls}".encode()).hexdigest()[:24]
            call_id = f"call_{self.calls:02d}_{digest}"
            self.calls += 1
            ids.append(call_id)
            tool_calls.append({"id": call_id, "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}})
        msg["tool_calls"] = tool_calls
        self.body["messages"].append(msg)
        for call_id, (_, _, result) in zip(ids, calls):
            self.body["messages"].append({"role": "tool", "tool_call_id": call_id, "content": result})

    def answer(self, text, reasoning=None):
        msg = {"role": "assistant", "content": text}
        if reasoning is not None:
            msg["reasoning_content"] = reasoning
        self.body["messages"].append(msg)

    def write(self, extra=None):
        self.body["tools"] = self.tools
        self.body.update(extra or {})
        path = os.path.join(OUT, self.name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.body, f, ensure_ascii=False, indent=1)
            f.write("\n")
        results = [tokens(m["content"]) for m in self.body["messages"] if m["role"] == "tool"]
        assistants = sum(1 for m in self.body["messages"] if m["role"] == "assistant")
        print(f"{self.name}: {len(self.body['messages'])} messages, {assistants} assistant, "
              f"{len(results)} tool results, result tokens {results}, max {max(results)}, "
              f"{os.path.getsize(path)} bytes", file=sys.stderr)


def read_range(shown, text, offset, lo=8000, hi=9000):
    """The largest `limit` (a multiple of 10 lines) from `offset` whose result counts at most
    `hi` tokens; it must count at least `lo`."""
    lines = text.split("\n")
    limit = 10
    while offset - 1 + limit < len(lines) and tokens(numbered(text, offset, limit + 10)) <= hi:
        limit += 10
    result = numbered(text, offset, limit)
    n = tokens(result)
    assert lo <= n <= hi, (shown, offset, limit, n)
    return limit, result


def coding_agent():
    rec = Recording(
        "coding_agent.json",
        "deepseek-chat",
        "You are a coding agent working in a checkout of CPython 3.11.7. Use the tools to read "
        "the code before answering; cite file paths and line numbers. Be precise and brief.",
        ["read_file", "grep", "list_dir"],
    )
    rec.user(
        "We are porting our release tool from Python to Rust. It uses argparse for its command "
        "line, subprocess to run git and the compilers, and tarfile and zipfile to unpack and "
        "pack artifacts. Read those four modules and list the behaviours our port must "
        "reproduce exactly: option abbreviation and @file arguments, how commands are run with "
        "and without a shell, and what extraction does with absolute paths and '..'."
    )
    notes = {
        "Lib/argparse.py": ["I'll start with argparse.", "Continuing with argparse: the parsing core.", "The rest of argparse's parser."],
        "Lib/subprocess.py": ["Now subprocess.", "subprocess, continued: Popen.", "subprocess: the POSIX child setup."],
        "Lib/tarfile.py": ["Now tarfile.", "tarfile: the extraction filters and TarInfo.", "tarfile: TarFile and extraction."],
        "Lib/zipfile.py": ["Finally zipfile.", "zipfile: ZipFile.", "zipfile: extraction."],
    }
    for shown, texts in notes.items():
        text = stdlib_file(shown)
        offset = 1
        for note in texts:
            limit, result = read_range(shown, text, offset)
            rec.step([("read_file", {"path": shown, "offset": offset, "limit": limit}, result)], content=note)
            offset += limit
    rec.answer(
        "Behaviours to reproduce:\n\n"
        "**argparse** (`Lib/argparse.py`)\n"
        "- Long options may be abbreviated to any unambiguous prefix while `allow_abbrev=True` "
        "(the default, line 1749): `_get_option_tuples` (line 2287) collects every option "
        "starting with the prefix (text after `=` is the value); more than one match is the "
        "error `ambiguous option: %(option)s could match %(matches)s` (line 2263).\n"
        "- With `fromfile_prefix_chars`, an argument starting with one of them names a file "
        "whose lines are read as further arguments, recursively (`_read_args_from_files`, line "
        "2163); by default one line is one argument (`convert_arg_line_to_args`, line 2188).\n\n"
        "**subprocess** (`Lib/subprocess.py`)\n"
        "- On POSIX with `shell=True` a string command becomes `['/bin/sh', '-c', cmd]` "
        "(`/system/bin/sh` on Android, lines 1812-1814), and extra list items become the "
        "shell's positional parameters; without a shell the list is executed directly through "
        "`_fork_exec` (line 1883).\n"
        "- On Windows a list is joined by `list2cmdline` (line 576) with the MS C runtime "
        "quoting rules.\n\n"
        "**tarfile** (`Lib/tarfile.py`)\n"
        "- Extraction filters exist in 3.11.7 (`fully_trusted_filter`, `tar_filter`, "
        "`data_filter`, lines 816-829). With no `filter` argument and no "
        "`TarFile.extraction_filter` the default is `fully_trusted` (line 2220): absolute "
        "names and `..` are extracted as they are. `data` rejects them "
        "(`AbsolutePathError`, `OutsideDestinationError`, lines 724-729).\n\n"
        "**zipfile** (`Lib/zipfile.py`)\n"
        "- `_extract_member` (line 1698) always drops the drive, empty, `.` and `..` "
        "components of a member name, so extraction never leaves the target directory; on "
        "Windows it also replaces characters that are illegal in file names.\n\n"
        "So the port needs argparse's prefix matching and @file expansion, POSIX and Windows "
        "command construction, and two different safety models for the archives: zipfile "
        "sanitizes always, tarfile only with a filter."
    )
    rec.write()


def thinking_parallel():
    rec = Recording(
        "thinking_parallel.json",
        "deepseek-v4-flash",
        "You are a code assistant for the chatctx repository (a Rust library). Answer from the "
        "code: use the tools, call independent tools in parallel, cite paths.",
        ["read_file", "grep", "list_dir"],
    )
    src = {p: repo_file(p) for p in [
        "README.md", "src/tokens/mod.rs", "src/tokens/counter.rs", "src/tokens/bpe/mod.rs",
        "src/tokens/piece_cache.rs", "src/tokens/scan/mod.rs", "src/tokens/short_tokens.rs",
    ]}

    def read(path):
        text = src[path]
        return ("read_file", {"path": path}, numbered(text, 1, len(text.split("\n"))))

    rec.user("How does chatctx count tokens without building the token list? Point me to the code.")
    rec.step(
        [
            ("list_dir", {"path": "src/tokens"}, list_repo("src/tokens")),
            ("grep", {"pattern": "fn count_piece|fn count_normalized", "path": "src/tokens"},
             grep("fn count_piece|fn count_normalized", [(p, t) for p, t in src.items() if p.startswith("src/tokens")])),
            read("src/tokens/mod.rs"),
        ],
        content="",
        reasoning="The user wants the counting path. The tokens module should document it; I'll "
        "list src/tokens, grep for the per-piece counting function and read the module docs in "
        "parallel, since none of these depends on another.",
    )
    rec.step(
        [read("src/tokens/counter.rs"), read("src/tokens/bpe/mod.rs")],
        content="",
        reasoning="mod.rs says the text is NFC-normalized when needed, cut into pieces by the "
        "pre-tokenizer and each piece counted by byte-pair merging. count_normalized is in "
        "counter.rs and count_piece in bpe/mod.rs; reading both shows the whole path.",
    )
    rec.answer(
        "Counting never materializes tokens. `BpeCounter::count_normalized` "
        "(src/tokens/counter.rs) walks the pre-tokenizer's pieces and adds up "
        "`bpe::count_piece` for each (src/tokens/bpe/mod.rs). `count_piece` returns the number "
        "of parts left after merging: a piece that is a whole vocabulary token counts 1, short "
        "pieces are cached per thread, and the merge loops (scan, run-length, heap, bucket "
        "queue) only track how many parts remain. Characters that always merge the same way "
        "start merged, and runs are cut at seams no merge can cross.",
        reasoning="I have both files. The answer: pieces, per-piece counting, the cache and the "
        "merge loops that only count.",
    )
    rec.user("And how are short pieces keyed in that per-thread cache?")
    rec.step(
        [
            ("grep", {"pattern": "with_head|head_word", "path": "src/tokens"},
             grep("with_head|head_word", [(p, t) for p, t in src.items() if p.startswith("src/tokens")])),
            read("src/tokens/piece_cache.rs"),
        ],
        content="",
        reasoning="The cache is in piece_cache.rs; Key::with_head is what count_piece calls. "
        "Grep where the head word comes from and read the cache module together.",
    )
    rec.step(
        [
            read("src/tokens/scan/mod.rs"),
            read("src/tokens/short_tokens.rs"),
            ("list_dir", {"path": "src/tokens/scan"}, list_repo("src/tokens/scan")),
            ("grep", {"pattern": "Cache|cache", "path": "README.md"}, grep("Cache|cache", [("README.md", src["README.md"])])),
        ],
        content="",
        reasoning="head_word is defined in scan/mod.rs. To be complete I also want the short "
        "token table (it uses the same inline keys), the scanner files and what the README says "
        "about the cache; four independent calls.",
    )
    rec.answer(
        "A piece of up to a few words' length is keyed by its bytes packed into machine words "
        "(`Key` in src/tokens/piece_cache.rs). The first word comes for free: the scanner "
        "hands each piece over with `head_word` (src/tokens/scan/mod.rs), the eight bytes of "
        "text from the piece's start as a little-endian word, so `Key::with_head` only masks "
        "off the bytes past the piece's end. Entries also carry the counter's unique id, so "
        "counters sharing a thread never see each other's counts. Longer pieces are not cached.",
        reasoning="with_head masks the head word; the owner id separates counters. Enough to answer.",
    )
    rec.write({"thinking": {"type": "enabled"}})


def oversized_result():
    rec = Recording(
        "oversized_result.json",
        "deepseek-chat",
        "You are a coding agent working in a checkout of CPython 3.11.7. Use the tools to read "
        "the code before answering; cite file paths and line numbers.",
        ["read_file", "grep", "list_dir"],
    )
    text = stdlib_file("Lib/_pydecimal.py")
    rec.user(
        "In Python 3.11, `round(Decimal('2.675'), 2)` gives `Decimal('2.68')` while our "
        "JavaScript port gives 2.67. Find in the pure-Python decimal module how `__round__`, "
        "`quantize` and the rounding modes work, so we can port the same behaviour."
    )
    rec.step([("list_dir", {"path": "Lib"}, list_stdlib("Lib"))], content="Let me find the pure-Python decimal implementation.")
    pattern = r"def (__round__|quantize|_rescale|_round_half_even|_round_half_up)\b|_pick_rounding_function ="
    rec.step(
        [("grep", {"pattern": pattern, "path": "Lib/_pydecimal.py"}, grep(pattern, [("Lib/_pydecimal.py", text)]))],
        content="`_pydecimal.py` it is. Where are the rounding functions?",
    )
    # One big read: the first lines of the module, about 45,000 tokens.
    limit = 3700
    while tokens(numbered(text, 1, limit)) < 45_000:
        limit += 10
    big = numbered(text, 1, limit)
    rec.step([("read_file", {"path": "Lib/_pydecimal.py", "offset": 1, "limit": limit}, big)],
             content="I'll read the module from the top through the rounding code and the context class.")
    rec.step([("read_file", {"path": "Lib/_pydecimal.py", "offset": 6080, "limit": 30}, numbered(text, 6080, 30))],
             content="And the default context's settings.")
    rec.answer(
        "`Decimal('2.675')` is exactly 2.675 (a decimal, not the binary double 2.67499...), so "
        "rounding it to 2 places is a tie. `round(d, n)` calls `Decimal.__round__` (line 1840), "
        "which returns `self.quantize(Decimal('1E-2'))` with the context's rounding; the default "
        "context (line 6089) uses `ROUND_HALF_EVEN`, and `_round_half_even` (line 1800) rounds a "
        "tie to the even last digit: 2.68. Your JavaScript port rounds the binary double 2.675, "
        "which is below the tie, so it gets 2.67. Port `quantize` (line 2546) and `_rescale` "
        "(line 2622) on decimal digits, and pick the rounding function from the table "
        "`_pick_rounding_function` (line 1829)."
    )
    rec.write()


def main():
    os.makedirs(OUT, exist_ok=True)
    coding_agent()
    thinking_parallel()
    oversized_result()
    with open(os.path.join(OUT, "SOURCES.md"), "w") as f:
        f.write("# Sources of the agent recordings\n\n")
        f.write("Written by `scripts/gen_agent_fixtures.py`: every file whose text is a tool result, "
                "where it was read and its SHA-256.\n\n| path | read from | SHA-256 |\n|---|---|---|\n")
        for shown, (origin, sha) in sorted(SOURCES.items()):
            f.write(f"| `{shown}` | {origin} | `{sha}` |\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"fixtures/agent: {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
