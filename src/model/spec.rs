//! [`ModelSpec`]: what chatctx knows about a model, and [`FileVocabulary`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::cost::Pricing;
use crate::error::Result;
use crate::template::media::QwenVision;
use crate::template::Family;
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
