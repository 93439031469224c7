//! JSON models files: `{"models": [{"name", "vocabulary", "template", "window", ...}]}`.

use std::path::Path;
use std::str::FromStr;

use serde_json::Value;

use super::check_pattern;
use super::spec::{FileVocabulary, ModelSpec};
use crate::cost::{CacheModel, Pricing};
use crate::error::{Error, Result};
use crate::template::Family;
use crate::tokens::Vocabulary;

/// The models of a JSON models file:
/// `{"models": [{"name", "vocabulary", "template", "window", "max_output", "cache",
/// "pricing": {"input", "cached_input", "output"}}]}` (see the README's "Adding a model").
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::InvalidConfig`] naming the entry and
/// the field for anything malformed.
pub fn load_models(path: impl AsRef<Path>) -> Result<Vec<ModelSpec>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|err| Error::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    })?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    models_from_json(&text, base, &path.display().to_string())
}

/// [`load_models`] on text; vocabulary paths are relative to `base`, errors name `origin`.
///
/// ```
/// use chatctx::model::models_from_json;
///
/// let text = r#"{"models": [{"name": "acme-chat-7", "vocabulary": "o200k_base",
///     "template": "openai", "window": 5000, "max_output": 1000, "cache": "openai",
///     "pricing": {"input": 1.0, "cached_input": 0.1, "output": 2.0}}]}"#;
/// let models = models_from_json(text, ".".as_ref(), "models.json").unwrap();
/// assert_eq!(models[0].window, 5000);
/// let bad = r#"{"models": [{"name": "x", "vocabulary": "o200k_base", "template": "openai", "window": "big"}]}"#;
/// let err = models_from_json(bad, ".".as_ref(), "models.json").unwrap_err().to_string();
/// assert!(err.contains("models[0]") && err.contains("`window`"), "{err}");
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] naming the entry and the field.
pub fn models_from_json(text: &str, base: &Path, origin: &str) -> Result<Vec<ModelSpec>> {
    let bad = |reason: String| Error::config(format!("models file {origin}"), reason);
    let json: Value =
        serde_json::from_str(text).map_err(|err| bad(format!("invalid JSON: {err}")))?;
    let list = json
        .get("models")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("expected an object with a `models` array".to_string()))?;
    let mut specs = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("?");
        let at = format!("models[{index}] ({name:?})");
        let spec = model_entry(entry, base).map_err(|reason| bad(format!("{at}: {reason}")))?;
        specs.push(spec);
    }
    Ok(specs)
}

const FIELDS: [&str; 10] = [
    "name",
    "vocabulary",
    "pattern",
    "nfc",
    "template",
    "window",
    "max_output",
    "thinking",
    "cache",
    "pricing",
];

fn model_entry(entry: &Value, base: &Path) -> std::result::Result<ModelSpec, String> {
    let object = entry.as_object().ok_or("expected an object")?;
    if let Some(unknown) = object.keys().find(|key| !FIELDS.contains(&key.as_str())) {
        return Err(format!(
            "unknown field `{unknown}` (known: {})",
            FIELDS.join(", ")
        ));
    }
    let string = |key: &str| -> std::result::Result<&str, String> {
        match object.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text),
            Some(other) => Err(format!(
                "field `{key}`: expected a non-empty string, found {other}"
            )),
            None => Err(format!("field `{key}` is missing")),
        }
    };
    let count = |key: &str| -> std::result::Result<Option<usize>, String> {
        match object.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .filter(|n| *n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    format!("field `{key}`: expected a positive integer, found {value}")
                }),
        }
    };
    let name = string("name")?;
    check_pattern(name).map_err(|err| format!("field `name`: {err}"))?;
    let template: Family = string("template")?
        .parse()
        .map_err(|err| format!("field `template`: {err}"))?;
    let window = count("window")?.ok_or("field `window` is missing")?;
    let max_output = count("max_output")?.unwrap_or(4_096.min(window / 4).max(1));
    if max_output >= window {
        return Err(format!(
            "field `max_output`: {max_output} leaves no room in the window of {window}"
        ));
    }
    let vocabulary_name = string("vocabulary")?;
    let mut spec = match Vocabulary::from_str(vocabulary_name) {
        Ok(vocabulary) => ModelSpec::new(vocabulary, template),
        Err(err @ Error::VocabularyNotCompiled { .. }) => {
            return Err(format!("field `vocabulary`: {err}"))
        }
        Err(_) if vocabulary_name.ends_with(".tiktoken") => {
            let pattern = string("pattern").map_err(|err| {
                format!("{err} (a `.tiktoken` vocabulary needs its pre-tokenizer `pattern`)")
            })?;
            let nfc = match object.get("nfc") {
                None => false,
                Some(Value::Bool(nfc)) => *nfc,
                Some(other) => return Err(format!("field `nfc`: expected true or false, found {other}")),
            };
            let file = FileVocabulary::load(base.join(vocabulary_name), pattern, nfc)
                .map_err(|err| format!("field `vocabulary`: {err}"))?;
            ModelSpec::new(Vocabulary::O200kBase, template).with_file_vocabulary(file)
        }
        Err(_) => {
            return Err(format!(
                "field `vocabulary`: {vocabulary_name:?} is neither a built-in vocabulary ({}) nor a path to a `.tiktoken` file",
                Vocabulary::ALL.map(Vocabulary::name).join(", ")
            ))
        }
    };
    if object.contains_key("pattern") && spec.file_vocabulary.is_none() {
        return Err("field `pattern`: only for a `.tiktoken` vocabulary".to_string());
    }
    spec = spec
        .with_name(name)
        .with_window(window)
        .with_max_output(max_output);
    match object.get("thinking") {
        None => {}
        Some(Value::Bool(thinking)) => spec = spec.with_thinking(*thinking),
        Some(other) => {
            return Err(format!(
                "field `thinking`: expected true or false, found {other}"
            ))
        }
    }
    let cache = match object.get("cache") {
        None => CacheModel::NONE,
        Some(Value::String(name)) => CacheModel::named(name).ok_or_else(|| {
            format!(
                "field `cache`: unknown cache model {name:?} (known: {})",
                CacheModel::NAMES.join(", ")
            )
        })?,
        Some(other) => return Err(format!("field `cache`: expected a string, found {other}")),
    };
    if let Some(pricing) = object.get("pricing") {
        let prices = pricing
            .as_object()
            .ok_or_else(|| format!("field `pricing`: expected an object, found {pricing}"))?;
        if let Some(unknown) = prices
            .keys()
            .find(|key| !["input", "cached_input", "output"].contains(&key.as_str()))
        {
            return Err(format!(
                "field `pricing.{unknown}` is unknown (known: input, cached_input, output)"
            ));
        }
        let price = |key: &str| -> std::result::Result<Option<f64>, String> {
            match prices.get(key) {
                None => Ok(None),
                Some(value) => value
                    .as_f64()
                    .filter(|price| price.is_finite() && *price >= 0.0)
                    .map(Some)
                    .ok_or_else(|| {
                        format!("field `pricing.{key}`: expected a price in USD per million tokens (a number >= 0), found {value}")
                    }),
            }
        };
        let input = price("input")?.ok_or("field `pricing.input` is missing")?;
        let output = price("output")?.ok_or("field `pricing.output` is missing")?;
        let cached_input = price("cached_input")?.unwrap_or(input);
        spec = spec.with_pricing(Pricing {
            input,
            cached_input,
            output,
            cache,
        });
    } else if object.contains_key("cache") {
        return Err("field `cache`: given without `pricing`".to_string());
    }
    Ok(spec)
}
