//! Parsers for vocabulary files: tiktoken's `.tiktoken` and the model part of a Hugging Face
//! byte-level BPE `tokenizer.json`.
//!
//! Errors are plain strings that callers wrap into `chatctx::Error::Vocabulary`.

use base64::Engine as _;
use serde_json::Value;

/// Token bytes with their id.
pub(crate) type Token = (Vec<u8>, u32);

/// Parses a `.tiktoken` file: one `base64(token) rank` per line.
pub(crate) fn parse_tiktoken(text: &[u8]) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let (Some(b64), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(format!("line {}: expected `base64 rank`", n + 1));
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("line {}: bad base64: {e}", n + 1))?;
        let rank = std::str::from_utf8(rank)
            .ok()
            .and_then(|r| r.parse::<u32>().ok())
            .ok_or_else(|| format!("line {}: bad rank", n + 1))?;
        tokens.push((bytes, rank));
    }
    if tokens.is_empty() {
        return Err("no tokens".into());
    }
    Ok(tokens)
}

/// GPT-2's byte-to-character map used by byte-level BPE: printable Latin-1 bytes stand for
/// themselves, the others are shifted to U+0100 and up, in byte order. Returns the inverse:
/// character -> byte.
fn byte_level_inverse() -> std::collections::HashMap<char, u8> {
    let mut map = std::collections::HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        let c = if printable {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        map.insert(c, b);
    }
    map
}

/// Decodes a byte-level token string to bytes; `None` if a character is not byte-level.
fn byte_level_decode(map: &std::collections::HashMap<char, u8>, token: &str) -> Option<Vec<u8>> {
    token.chars().map(|c| map.get(&c).copied()).collect()
}

/// The model part of a byte-level BPE `tokenizer.json`.
#[derive(Debug)]
pub(crate) struct HfModel {
    /// Vocabulary entries that are byte-level strings.
    pub(crate) vocab: Vec<Token>,
    /// Merges as (left id, right id), in priority order.
    pub(crate) merges: Vec<(u32, u32)>,
    /// The model's `ignore_merges` option.
    pub(crate) ignore_merges: bool,
    /// `added_tokens`: (id, content).
    pub(crate) added: Vec<(u32, String)>,
}

/// Extracts the BPE model and added tokens of a parsed `tokenizer.json`.
pub(crate) fn parse_hf_model(json: &Value) -> Result<HfModel, String> {
    let model = json.get("model").ok_or("no `model`")?;
    let ty = model.get("type").and_then(Value::as_str);
    if ty != Some("BPE") {
        return Err(format!("model type {ty:?} is not supported (only BPE)"));
    }
    for (key, unsupported) in [
        ("dropout", "dropout"),
        ("continuing_subword_prefix", "a continuing-subword prefix"),
        ("end_of_word_suffix", "an end-of-word suffix"),
    ] {
        if model.get(key).is_some_and(|v| !v.is_null()) {
            return Err(format!("BPE with {unsupported} is not supported"));
        }
    }
    if model.get("byte_fallback").and_then(Value::as_bool) == Some(true) {
        return Err("BPE with byte_fallback is not supported (not byte-level)".into());
    }
    let ignore_merges = model.get("ignore_merges").and_then(Value::as_bool) == Some(true);
    let map = byte_level_inverse();
    let vocab_json = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or("model.vocab is not an object")?;
    let mut by_text = std::collections::HashMap::with_capacity(vocab_json.len());
    let mut vocab = Vec::with_capacity(vocab_json.len());
    for (text, id) in vocab_json {
        let id = id
            .as_u64()
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| format!("vocab entry {text:?} has no valid id"))?;
        by_text.insert(text.as_str(), id);
        if let Some(bytes) = byte_level_decode(&map, text) {
            vocab.push((bytes, id));
        }
    }
    let merges_json = model
        .get("merges")
        .and_then(Value::as_array)
        .ok_or("model.merges is not an array")?;
    let mut merges = Vec::with_capacity(merges_json.len());
    for (k, m) in merges_json.iter().enumerate() {
        let (left, right) = match m {
            Value::String(s) => s
                .split_once(' ')
                .ok_or_else(|| format!("merge {k} is not `left right`"))?,
            Value::Array(a) => match a.as_slice() {
                [Value::String(l), Value::String(r)] => (l.as_str(), r.as_str()),
                _ => return Err(format!("merge {k} is not a pair of strings")),
            },
            _ => return Err(format!("merge {k} is neither a string nor a pair")),
        };
        let (Some(&l), Some(&r)) = (by_text.get(left), by_text.get(right)) else {
            return Err(format!(
                "merge {k} ({left:?}, {right:?}) names unknown tokens"
            ));
        };
        merges.push((l, r));
    }
    let mut added = Vec::new();
    if let Some(list) = json.get("added_tokens").and_then(Value::as_array) {
        for t in list {
            let id = t.get("id").and_then(Value::as_u64).map(u32::try_from);
            let content = t.get("content").and_then(Value::as_str);
            match (id, content) {
                (Some(Ok(id)), Some(content)) => added.push((id, content.to_string())),
                _ => return Err("an added token lacks `id` or `content`".into()),
            }
        }
    }
    Ok(HfModel {
        vocab,
        merges,
        ignore_merges,
        added,
    })
}
