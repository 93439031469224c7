//! Counts one corpus file repeatedly with one vocabulary, for profilers.
//! `cargo run --release --example profile_count -- <vocabulary> <file.jsonl> [passes] [cold]`
//! (`cold` empties the piece cache before each pass). In place of a file, the name of a
//! message corpus of `count_bench --messages` (`chat-messages`, `chat-lines-16b`,
//! `chinese-lines`) counts it one call per message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "../benches/support/peers.rs"]
mod peers;
use chatctx::tokens::{TokenCounter, Vocabulary};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let v: Vocabulary = args[1].parse().unwrap();
    let c = peers::message_corpora()
        .into_iter()
        .find(|c| c.name == args[2])
        .unwrap_or_else(|| peers::load(std::path::Path::new(&args[2])));
    let passes: usize = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(1);
    let cold = args.get(4).is_some_and(|a| a == "cold");
    let counter = v.counter();
    let mut n = 0;
    for _ in 0..passes {
        if cold {
            chatctx::tokens::BpeCounter::clear_thread_cache();
        }
        n += c.chunks.iter().map(|s| counter.count(s)).sum::<usize>();
    }
    println!("{n}");
}
