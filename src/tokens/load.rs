//! Loading [`BpeCounter`]s from vocabulary files at run time.

use std::path::Path;

use serde_json::Value;

use super::counter::BpeCounter;
use super::pretokenize::{PreTokenizer, GPT2};
use super::table::{vocab_file, Tables};
use crate::error::{Error, Result};

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn vocab_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Vocabulary {
        name: path.display().to_string(),
        reason: reason.into(),
    }
}

impl BpeCounter {
    /// Loads a tiktoken-format vocabulary (`base64(token) rank` lines) with its pre-tokenizer
    /// `pattern` (tiktoken semantics: text the pattern does not match is dropped), applying NFC
    /// normalization first when `nfc` is true (as Qwen's tokenizer does).
    ///
    /// The counter is named after the file stem; it has no special tokens until
    /// [`BpeCounter::with_special_tokens`] adds them.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Vocabulary`] when it is malformed or
    /// the pattern does not compile.
    pub fn from_tiktoken_file(path: impl AsRef<Path>, pattern: &str, nfc: bool) -> Result<Self> {
        let path = path.as_ref();
        let tokens = vocab_file::parse_tiktoken(&read(path)?).map_err(|e| vocab_error(path, e))?;
        let tables = Tables::from_ranks(tokens).map_err(|e| vocab_error(path, e))?;
        let pre = PreTokenizer::tiktoken(pattern).map_err(|e| vocab_error(path, e))?;
        Ok(BpeCounter::new(stem(path), tables, pre, nfc))
    }

    /// Loads a Hugging Face `tokenizer.json` with a byte-level BPE model.
    ///
    /// Supported: model `BPE` (merges as `"a b"` strings or `["a", "b"]` pairs, `ignore_merges`),
    /// no normalizer / an empty `Sequence` / `NFC`, and pre-tokenizers `Split` (behavior
    /// `Isolated`, not inverted), `ByteLevel` (without `add_prefix_space`) and `Sequence`s of
    /// them. Counting follows Hugging Face's merge semantics (pair priority from the merges
    /// list). `added_tokens` become the special tokens.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Vocabulary`] naming the first
    /// unsupported or malformed part.
    pub fn from_tokenizer_json(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json: Value = serde_json::from_slice(&read(path)?)
            .map_err(|e| vocab_error(path, format!("invalid JSON: {e}")))?;
        let nfc = normalizer(json.get("normalizer")).map_err(|e| vocab_error(path, e))?;
        let mut steps = Vec::new();
        let mut byte_level = false;
        pre_tokenizer(json.get("pre_tokenizer"), &mut steps, &mut byte_level)
            .map_err(|e| vocab_error(path, e))?;
        if !byte_level {
            return Err(vocab_error(
                path,
                "no ByteLevel pre-tokenizer: only byte-level BPE is supported",
            ));
        }
        let model = vocab_file::parse_hf_model(&json).map_err(|e| vocab_error(path, e))?;
        let mut tables = Tables::from_merges(model.vocab, &model.merges, model.ignore_merges)
            .map_err(|e| vocab_error(path, e))?;
        tables.specials = model.added;
        let pre = PreTokenizer::sequence(&steps).map_err(|e| vocab_error(path, e))?;
        Ok(BpeCounter::new(stem(path), tables, pre, nfc))
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn ty(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("?")
}

/// Whether the normalizer is NFC (`false` for none); an error for anything else.
fn normalizer(n: Option<&Value>) -> Result<bool, String> {
    let Some(n) = n.filter(|n| !n.is_null()) else {
        return Ok(false);
    };
    match ty(n) {
        "NFC" => Ok(true),
        "Sequence" => {
            let list = n
                .get("normalizers")
                .and_then(Value::as_array)
                .ok_or("normalizer Sequence without `normalizers`")?;
            match list.as_slice() {
                [] => Ok(false),
                [one] => normalizer(Some(one)),
                _ => Err("normalizer Sequence of several normalizers is not supported".into()),
            }
        }
        other => Err(format!("normalizer {other} is not supported")),
    }
}

fn pre_tokenizer(
    p: Option<&Value>,
    steps: &mut Vec<String>,
    byte_level: &mut bool,
) -> Result<(), String> {
    let Some(p) = p.filter(|p| !p.is_null()) else {
        return Ok(());
    };
    match ty(p) {
        "Sequence" => {
            let list = p
                .get("pretokenizers")
                .and_then(Value::as_array)
                .ok_or("pre_tokenizer Sequence without `pretokenizers`")?;
            for item in list {
                pre_tokenizer(Some(item), steps, byte_level)?;
            }
            Ok(())
        }
        "Split" => {
            let behavior = p.get("behavior").and_then(Value::as_str);
            if behavior != Some("Isolated") {
                return Err(format!("Split behavior {behavior:?} is not supported"));
            }
            if p.get("invert").and_then(Value::as_bool) == Some(true) {
                return Err("inverted Split is not supported".into());
            }
            let pattern = p.get("pattern").ok_or("Split without `pattern`")?;
            let regex = match (
                pattern.get("Regex").and_then(Value::as_str),
                pattern.get("String").and_then(Value::as_str),
            ) {
                (Some(re), _) => re.to_string(),
                (None, Some(s)) => fancy_regex::escape(s).into_owned(),
                _ => return Err("Split pattern is neither Regex nor String".into()),
            };
            steps.push(regex);
            Ok(())
        }
        "ByteLevel" => {
            if p.get("add_prefix_space").and_then(Value::as_bool) == Some(true) {
                return Err("ByteLevel with add_prefix_space is not supported".into());
            }
            if p.get("use_regex").and_then(Value::as_bool) != Some(false) {
                steps.push(GPT2.to_string());
            }
            *byte_level = true;
            Ok(())
        }
        other => Err(format!("pre-tokenizer {other} is not supported")),
    }
}
