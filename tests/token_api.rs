//! Behaviour of the public token-counting API: names, parsing, specials, memoization.
// Needs every vocabulary (the default feature `all-vocabularies`).
#![cfg(feature = "all-vocabularies")]

use std::sync::Arc;

use chatctx::tokens::{BpeCounter, CachedCounter, EstimateCounter, TokenCounter, Vocabulary};
use chatctx::Error;

#[path = "../benches/support/peers.rs"]
mod peers;

#[test]
fn names_round_trip_and_unknown_names_list_the_known() {
    for v in Vocabulary::ALL {
        assert_eq!(v.name().parse::<Vocabulary>().unwrap(), v);
        assert_eq!(v.counter().name(), v.name());
        assert!(v.counter().is_exact());
    }
    match "gpt2".parse::<Vocabulary>() {
        Err(Error::UnknownTokenizer { name, known }) => {
            assert_eq!(name, "gpt2");
            assert_eq!(
                known,
                [
                    "cl100k_base",
                    "o200k_base",
                    "qwen2.5",
                    "qwen3.5",
                    "deepseek-v3"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn special_tokens() {
    let table = [
        (Vocabulary::Cl100kBase, "<|endoftext|>", Some(100257)),
        (Vocabulary::Cl100kBase, "<|im_start|>", Some(100264)),
        (Vocabulary::Cl100kBase, "<|im_end|>", Some(100265)),
        (Vocabulary::O200kBase, "<|endoftext|>", Some(199999)),
        (Vocabulary::O200kBase, "<|im_start|>", Some(200264)),
        (Vocabulary::Qwen25, "<|im_start|>", Some(151644)),
        (Vocabulary::Qwen25, "<|im_end|>", Some(151645)),
        (Vocabulary::Qwen25, "<|extra_204|>", Some(151643 + 3 + 204)),
        (Vocabulary::Qwen35, "<think>", Some(248068)),
        (Vocabulary::Qwen35, "<|audio_pad|>", Some(248076)),
        (Vocabulary::DeepseekV3, "<｜begin▁of▁sentence｜>", Some(0)),
        (Vocabulary::DeepseekV3, "<｜end▁of▁sentence｜>", Some(1)),
        (Vocabulary::DeepseekV3, "<|im_start|>", None),
        (Vocabulary::Cl100kBase, "hello", None),
    ];
    for (v, token, id) in table {
        assert_eq!(v.counter().special_token(token), id, "{v} {token}");
    }
}

#[test]
fn special_token_text_is_ordinary_text() {
    for v in Vocabulary::ALL {
        assert!(v.counter().count("<|endoftext|>") > 1, "{v}");
    }
}

#[test]
fn empty_text_is_zero_tokens() {
    for v in Vocabulary::ALL {
        assert_eq!(v.counter().count(""), 0, "{v}");
    }
}

#[test]
fn growing_conversation_counts_each_message_once() {
    let cached = CachedCounter::new(Vocabulary::Qwen25.counter());
    let messages = [
        "You are a helpful assistant.",
        "你好！请介绍一下你自己。",
        "我是通义千问，一个大型语言模型。",
        "What is 2 + 2?",
        "2 + 2 = 4.",
    ];
    let exact = Vocabulary::Qwen25.counter();
    for round in 1..=messages.len() {
        let total: usize = messages[..round].iter().map(|m| cached.count(m)).sum();
        let want: usize = messages[..round].iter().map(|m| exact.count(m)).sum();
        assert_eq!(total, want);
    }
    assert_eq!(cached.computed(), messages.len());
    // An edited message is recounted; the others are not.
    assert_eq!(cached.count("2 + 2 = 5."), exact.count("2 + 2 = 5."));
    assert_eq!(cached.computed(), messages.len() + 1);
}

#[test]
fn cached_counter_is_thread_safe() {
    let cached = Arc::new(CachedCounter::new(Vocabulary::O200kBase.counter()));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let c = Arc::clone(&cached);
            s.spawn(move || {
                for i in 0..50 {
                    c.count(&format!("message number {i}"));
                }
            });
        }
    });
    assert_eq!(cached.len(), 50);
    assert!(cached.computed() >= 50);
}

#[test]
fn counters_are_object_safe_and_shareable() {
    let all: Vec<Arc<dyn TokenCounter>> = vec![
        Vocabulary::O200kBase.counter(),
        Arc::new(EstimateCounter::default()),
        Arc::new(CachedCounter::new(Vocabulary::Cl100kBase.counter())),
    ];
    let counts: Vec<usize> = all.iter().map(|c| c.count("hello world")).collect();
    // o200k and cl100k: "hello", " world"; the estimate: 11 ASCII bytes at 4 per token
    let o200k = tiktoken_rs::o200k_base_singleton().encode_ordinary("hello world");
    let cl100k = tiktoken_rs::cl100k_base_singleton().encode_ordinary("hello world");
    assert_eq!(counts, vec![o200k.len(), 3, cl100k.len()]);
    assert_eq!(counts, vec![2, 3, 2]);
}

#[test]
fn loader_errors_name_the_problem() {
    match BpeCounter::from_tiktoken_file("/nonexistent/x.tiktoken", ".", false) {
        Err(Error::Io { path, .. }) => assert!(path.contains("nonexistent")),
        other => panic!("{other:?}"),
    }
    let dir = std::env::temp_dir().join(format!("chatctx-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.tiktoken");
    std::fs::write(&bad, "not base64!! 0\n").unwrap();
    assert!(matches!(
        BpeCounter::from_tiktoken_file(&bad, ".", false),
        Err(Error::Vocabulary { .. })
    ));
    let wordpiece = dir.join("tokenizer.json");
    std::fs::write(&wordpiece, r#"{"model":{"type":"WordPiece","vocab":{}}}"#).unwrap();
    match BpeCounter::from_tokenizer_json(&wordpiece) {
        Err(Error::Vocabulary { reason, .. }) => assert!(reason.contains("ByteLevel"), "{reason}"),
        other => panic!("{other:?}"),
    }
    std::fs::write(
        &wordpiece,
        r#"{"pre_tokenizer":{"type":"ByteLevel","use_regex":false},"model":{"type":"WordPiece"}}"#,
    )
    .unwrap();
    match BpeCounter::from_tokenizer_json(&wordpiece) {
        Err(Error::Vocabulary { reason, .. }) => assert!(reason.contains("WordPiece"), "{reason}"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn huge_whitespace_and_single_char_runs_do_not_crash() {
    let texts = |n: usize| {
        [
            " ".repeat(2 * n),
            format!("{}x", " ".repeat(n)),
            "\n".repeat(n),
            "a".repeat(3 * n),
            "你".repeat(n),
        ]
    };
    // The exact counts: at full size against bpe-openai (linear); the Qwen and DeepSeek
    // references are slow on such runs in a debug build, so they check a tenth of the size.
    let (full, tenth) = (texts(100_000), texts(10_000));
    for v in Vocabulary::ALL {
        let counts: Vec<usize> = full.iter().map(|t| v.counter().count(t)).collect();
        if matches!(v, Vocabulary::Cl100kBase | Vocabulary::O200kBase) {
            assert_eq!(counts, reference_counts(v, &full), "{v}");
        } else {
            let counts: Vec<usize> = tenth.iter().map(|t| v.counter().count(t)).collect();
            assert_eq!(counts, reference_counts(v, &tenth), "{v}");
        }
    }
}

/// The counts of the reference implementation: bpe-openai for cl100k/o200k (linear on long
/// runs), tiktoken-rs with the Qwen ranks (on NFC text), Hugging Face tokenizers for
/// DeepSeek-V3.
fn reference_counts(vocabulary: Vocabulary, texts: &[String]) -> Vec<usize> {
    use unicode_normalization::UnicodeNormalization;
    match vocabulary {
        Vocabulary::DeepseekV3 => {
            let hf = peers::hf(vocabulary).unwrap();
            texts.iter().map(|t| peers::hf_count(&hf, t)).collect()
        }
        Vocabulary::Qwen25 | Vocabulary::Qwen35 => {
            let tiktoken = peers::tiktoken(vocabulary).unwrap();
            texts
                .iter()
                .map(|t| tiktoken.encode_ordinary(&t.nfc().collect::<String>()).len())
                .collect()
        }
        _ => {
            let bpe = peers::bpe_openai(vocabulary).unwrap();
            texts.iter().map(|t| bpe.count(t.as_str())).collect()
        }
    }
}
