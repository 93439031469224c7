//! One whole file counted by a peer tokenizer, as a process: the peer counterpart of
//! `chatctx count-text --tokenizer VOCAB FILE`, for `scripts/count_text_speed.sh`, which times
//! both as whole processes (start, loading the vocabulary, reading the file, counting).
//!
//! ```text
//! cargo run --release --example count_text_peer -- PEER VOCAB FILE
//! ```
//!
//! `PEER` is `bpe-openai` (cl100k_base, o200k_base), `tiktoken` (the `tiktoken` crate:
//! cl100k_base, o200k_base, deepseek-v3, and qwen2.5 as its `qwen2`) or `tiktoken-rs`
//! (cl100k_base, o200k_base, qwen2.5, qwen3.5). It prints the token count of the file taken
//! as one text, ordinary text only (special-token text is not special), as `count-text` does.
//! Qwen's peers count the file as given: it must already be in NFC (the script's files are).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/support/peers.rs"]
mod peers;

use chatctx::tokens::Vocabulary;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [peer, vocab, file] = args.as_slice() else {
        eprintln!("usage: count_text_peer PEER VOCAB FILE");
        std::process::exit(2);
    };
    let vocab: Vocabulary = vocab.parse().expect("a vocabulary name");
    let text = std::fs::read_to_string(file).expect("a UTF-8 file");
    let count = match peer.as_str() {
        "bpe-openai" => peers::bpe_openai(vocab).map(|t| t.count(&text)),
        "tiktoken" => peers::tiktoken_crate(vocab).map(|t| t.count(&text)),
        "tiktoken-rs" => peers::tiktoken(vocab).map(|t| t.encode_ordinary(&text).len()),
        other => {
            eprintln!("unknown peer {other:?}: bpe-openai, tiktoken or tiktoken-rs");
            std::process::exit(2);
        }
    };
    match count {
        Some(n) => println!("{n}"),
        None => {
            eprintln!("{peer} has no {vocab}");
            std::process::exit(2);
        }
    }
}
