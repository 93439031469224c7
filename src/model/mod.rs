//! Model names: which vocabulary, chat template, context window, reply budget and prices.
//!
//! [`Model::resolve`] looks a name up among the models registered at run time
//! ([`Model::register`], or a JSON models file: [`load_models`]) and then in the built-in
//! table [`BUILTIN`]. A pattern is a name or a prefix ending in `*`; an exact name beats a
//! prefix and a longer prefix beats a shorter one. Every built-in entry names its source and
//! the date it was checked.
//!
//! - `spec.rs`: [`ModelSpec`], what chatctx knows about a model, and [`FileVocabulary`];
//! - `builtin.rs`: the built-in table [`BUILTIN`], each entry with its source;
//! - `file.rs`: JSON models files ([`load_models`], [`models_from_json`]);
//! - here: [`Model`], resolving a name against the registered models and the table.

mod builtin;
mod file;
mod spec;

use std::str::FromStr;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

pub use builtin::{BuiltinModel, BUILTIN};
pub use file::{load_models, models_from_json};
pub use spec::{FileVocabulary, ModelSpec};

use crate::cost::{pattern_rank, Pricing};
use crate::error::{Error, Result};
use crate::template::chatml::{ChatMl, Flavor};
use crate::template::{Family, PromptCounter};

/// Models registered at run time, checked before [`BUILTIN`].
static REGISTERED: RwLock<Vec<ModelSpec>> = RwLock::new(Vec::new());

/// A model: its name and spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The name as given.
    pub name: String,
    /// What chatctx knows about it.
    pub spec: ModelSpec,
}

impl Model {
    /// Look a model name up: registered models first, then [`BUILTIN`] (an exact name beats a
    /// prefix, a longer prefix a shorter one; a dated or sized variant such as
    /// `gpt-4o-2024-08-06` or `qwen2.5-72b-instruct` matches its family).
    ///
    /// ```
    /// use chatctx::model::Model;
    /// use chatctx::tokens::Vocabulary;
    ///
    /// let model = Model::resolve("gpt-4o-2024-08-06").unwrap();
    /// assert_eq!(model.spec.vocabulary, Vocabulary::O200kBase);
    /// assert!(Model::resolve("llama-3").is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownModel`] listing the closest known names;
    /// [`Error::VocabularyNotCompiled`] naming the cargo feature to enable when the model
    /// counts with a built-in vocabulary this build leaves out.
    pub fn resolve(name: &str) -> Result<Model> {
        let lower = name.to_ascii_lowercase();
        let registered = REGISTERED.read().ok().and_then(|registered| {
            registered
                .iter()
                .filter_map(|spec| pattern_rank(&spec.name, &lower).map(|rank| (rank, spec)))
                .max_by_key(|(rank, _)| *rank)
                .map(|(_, spec)| spec.clone())
        });
        let spec = match registered {
            Some(spec) => spec,
            None => {
                let builtin = BUILTIN
                    .iter()
                    .filter_map(|entry| {
                        pattern_rank(entry.pattern, &lower).map(|rank| (rank, entry))
                    })
                    .max_by_key(|(rank, _)| *rank)
                    .map(|(_, entry)| entry.spec())
                    .ok_or_else(|| Error::UnknownModel {
                        name: name.to_string(),
                        known: Model::closest(name, 6),
                    })?;
                ModelSpec {
                    pricing: Pricing::for_model(name),
                    ..builtin
                }
            }
        };
        if spec.file_vocabulary.is_none() {
            spec.vocabulary.available_as(name)?;
        }
        Ok(Model {
            name: name.to_string(),
            spec,
        })
    }

    /// Register a model under its spec's name (a name, or a prefix ending in `*`), before
    /// the built-in table; its prices (if any) become [`Pricing::for_model`]'s. A later
    /// registration of the same name replaces an earlier one.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the spec has no name or a `*` that is not at the end;
    /// [`Error::VocabularyNotCompiled`] when it counts with a built-in vocabulary this build
    /// leaves out.
    pub fn register(spec: ModelSpec) -> Result<()> {
        check_pattern(&spec.name)?;
        if spec.file_vocabulary.is_none() {
            spec.vocabulary.available_as(&spec.name)?;
        }
        match spec.pricing {
            Some(pricing) => Pricing::register(&spec.name, pricing),
            None => Pricing::unregister(&spec.name),
        }
        if let Ok(mut registered) = REGISTERED.write() {
            registered.retain(|known| !known.name.eq_ignore_ascii_case(&spec.name));
            registered.push(spec);
        }
        Ok(())
    }

    /// A model with an explicit spec.
    pub fn custom(name: impl Into<String>, spec: ModelSpec) -> Model {
        Model {
            name: name.into(),
            spec,
        }
    }

    /// The names and patterns [`Model::resolve`] knows: registered ones, then built-in ones.
    pub fn known() -> Vec<String> {
        let mut known: Vec<String> = REGISTERED
            .read()
            .map(|registered| registered.iter().map(|spec| spec.name.clone()).collect())
            .unwrap_or_default();
        known.extend(BUILTIN.iter().map(|entry| entry.pattern.to_string()));
        known
    }

    /// Up to `n` known names and patterns closest to `name` (edit distance; a prefix pattern
    /// is compared with the name cut to its length too).
    pub fn closest(name: &str, n: usize) -> Vec<String> {
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, String)> = Model::known()
            .into_iter()
            .map(|pattern| {
                let stem = pattern.trim_end_matches('*').to_ascii_lowercase();
                let cut: String = lower.chars().take(stem.chars().count()).collect();
                let distance = if pattern.ends_with('*') {
                    edit_distance(&lower, &stem).min(edit_distance(&cut, &stem) + 1)
                } else {
                    edit_distance(&lower, &stem)
                };
                (distance, pattern)
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(n).map(|(_, name)| name).collect()
    }

    /// The model with a request's `thinking` field applied (`{"type": "enabled"}` or
    /// `{"type": "disabled"}`, or `true`/`false`; absent: the model's default).
    ///
    /// ```
    /// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
    /// use chatctx::model::Model;
    /// use chatctx::ChatRequest;
    ///
    /// let body = r#"{"model":"deepseek-v4-flash","messages":[],"thinking":{"type":"disabled"}}"#;
    /// let request = ChatRequest::from_json(body).unwrap();
    /// let model = Model::resolve("deepseek-v4-flash").unwrap().for_request(&request.fields).unwrap();
    /// assert_eq!(model.spec.thinking, Some(false));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field when `thinking` is none of those and the
    /// model's template has a thinking switch (DeepSeek); other templates ignore the field.
    pub fn for_request(mut self, fields: &Map<String, Value>) -> Result<Model> {
        let switch = matches!(self.spec.template, Family::DeepSeek | Family::DeepSeekV4);
        match thinking_of(fields) {
            Ok(Some(thinking)) => self.spec.thinking = Some(thinking),
            Ok(None) => {}
            Err(err) if switch => return Err(err),
            Err(_) => {}
        }
        Ok(self)
    }

    /// The prompt counter of the model: its template over its vocabulary, in its thinking
    /// mode.
    pub fn prompt_counter(&self) -> Arc<dyn PromptCounter> {
        let counter = self.spec.counter();
        match (self.spec.template, self.spec.vision) {
            (Family::Qwen25, Some(vision)) => {
                Arc::new(ChatMl::new(Flavor::Qwen25, counter).with_vision(vision))
            }
            (Family::Qwen3, Some(vision)) => {
                Arc::new(ChatMl::new(Flavor::Qwen3, counter).with_vision(vision))
            }
            (family, _) => family.prompt_counter_with(counter, self.spec.thinking),
        }
    }
}

/// A request's `thinking` field: `Some(true)` for `{"type": "enabled"}` (or `true`),
/// `Some(false)` for `{"type": "disabled"}` (or `false`), `None` when absent.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the field for anything else.
pub fn thinking_of(fields: &Map<String, Value>) -> Result<Option<bool>> {
    let Some(thinking) = fields.get("thinking") else {
        return Ok(None);
    };
    if let Value::Bool(thinking) = thinking {
        return Ok(Some(*thinking));
    }
    match thinking.get("type").and_then(Value::as_str) {
        Some("enabled") => Ok(Some(true)),
        Some("disabled") => Ok(Some(false)),
        _ => Err(Error::config(
            "thinking",
            format!("expected {{\"type\": \"enabled\"}} or {{\"type\": \"disabled\"}}, found {thinking}"),
        )),
    }
}

fn check_pattern(name: &str) -> Result<()> {
    let stem = name.strip_suffix('*').unwrap_or(name);
    if stem.is_empty() {
        return Err(Error::config(
            "name",
            format!("a model name must not be empty (found {name:?})"),
        ));
    }
    if stem.contains('*') {
        return Err(Error::config(
            "name",
            format!("`*` may only end a model name (found {name:?})"),
        ));
    }
    Ok(())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

impl FromStr for Model {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Model::resolve(s)
    }
}

#[cfg(test)]
mod tests;
