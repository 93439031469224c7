//! Speed ratios of chatctx's exact counters against the peer tokenizers, one line per corpus
//! and vocabulary, with whether the counts agree.
//!
//! ```text
//! cargo run --release --example count_bench -- [--runs N] [--cold] [corpus files...]
//! ```
//!
//! Without files it uses the fixture corpus (`fixtures/tokens/corpus/*.jsonl`, plus all of it
//! as `mixed`) and the worst cases (`one-letter-100k`, `spaces-1m`, `random-letters-100k`). A `.jsonl` file holds one JSON string per line; any other file is one text.
//! Each timing is the median of N (default 5) single-threaded passes over the corpus, after
//! one warm-up pass. chatctx keeps a per-thread cache of short pieces, which the warm-up pass
//! fills; with `--cold` the cache is emptied before each pass (not timed), as when a text is
//! counted for the first time. Peers: tiktoken-rs (Qwen via `CoreBPE::new` with the Qwen ranks and
//! pattern, fed NFC text), bpe-openai, and Hugging Face `tokenizers` (DeepSeek-V3).
//! `exact=yes` means chatctx's total equals every peer's total on that corpus (a peer that
//! panics on an input is reported as `panicked` and left out of the comparison).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/support/peers.rs"]
mod peers;

use std::hint::black_box;
use std::time::Instant;

use chatctx::tokens::{BpeCounter, TokenCounter, Vocabulary};
use peers::Corpus;
use unicode_normalization::UnicodeNormalization;

/// Median seconds of `runs` timed calls of `pass` (each after an untimed `setup`), and the
/// total the last one returned.
fn median_secs(runs: usize, setup: impl Fn(), pass: impl Fn() -> usize) -> (f64, usize) {
    let mut total = 0;
    let mut secs: Vec<f64> = (0..runs)
        .map(|_| {
            setup();
            let t = Instant::now();
            total = black_box(pass());
            t.elapsed().as_secs_f64()
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    (secs[secs.len() / 2], total)
}

/// Median seconds of `runs` passes of `counter` over the chunks, the thread's piece cache
/// emptied before each, and the total.
fn time_cold(runs: usize, chunks: &[String], counter: &dyn TokenCounter) -> (f64, usize) {
    median_secs(runs, BpeCounter::clear_thread_cache, || {
        chunks.iter().map(|c| counter.count(black_box(c))).sum()
    })
}

/// Median seconds of `runs` passes of `count` over the chunks (after an untimed one), and the
/// total it returned.
fn time(runs: usize, chunks: &[String], count: &dyn Fn(&str) -> usize) -> (f64, usize) {
    let total: usize = chunks.iter().map(|c| count(c)).sum();
    let (secs, _) = median_secs(
        runs,
        || {},
        || chunks.iter().map(|c| count(black_box(c))).sum(),
    );
    (secs, total)
}

fn main() {
    let mut runs = 5;
    let mut cold = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--cold" {
            cold = true;
        } else if a == "--runs" {
            runs = args
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(runs)
                .max(1);
        } else {
            files.push(std::path::PathBuf::from(a));
        }
    }
    let mut corpora: Vec<Corpus> = Vec::new();
    if files.is_empty() {
        corpora.extend(peers::fixture_files().iter().map(|f| peers::load(f)));
        let all = peers::mixed(&corpora);
        corpora.push(all);
        corpora.extend(peers::worst_cases());
    } else {
        corpora.extend(files.iter().map(|f| peers::load(f)));
    }
    // tiktoken-rs recurses in its regex engine and overflows small stacks on long whitespace.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || report(runs, cold, &corpora))
        .expect("spawn");
    worker.join().expect("count_bench worker");
}

fn report(runs: usize, cold: bool, corpora: &[Corpus]) {
    let cache = if cold {
        "chatctx's piece cache empty at the start of each pass"
    } else {
        "chatctx's piece cache warm"
    };
    println!(
        "# median of {runs} single-threaded passes ({cache}); ratio = peer time / chatctx time"
    );
    for v in Vocabulary::ALL {
        let ours = v.counter();
        let tiktoken = peers::tiktoken(v);
        let bpe_openai = peers::bpe_openai(v);
        let hf = peers::hf(v);
        let nfc = matches!(v, Vocabulary::Qwen25 | Vocabulary::Qwen35);
        for corpus in corpora {
            let mb = corpus.bytes() as f64 / 1e6;
            let (t_ours, n_ours) = if cold {
                time_cold(runs, &corpus.chunks, ours.as_ref())
            } else {
                time(runs, &corpus.chunks, &|s| ours.count(s))
            };
            let peer_text: Vec<String> = if nfc {
                corpus.chunks.iter().map(|c| c.nfc().collect()).collect()
            } else {
                corpus.chunks.clone()
            };
            let mut line = format!(
                "{} {} chatctx={:.0}MB/s",
                corpus.name,
                v.name(),
                mb / t_ours
            );
            let mut exact = true;
            let mut peer = |name: &str, count: &dyn Fn(&str) -> usize| {
                // A peer may panic on an input (tiktoken-rs's regex overflows its backtracking
                // stack on 1 MB of spaces with o200k): report it instead of stopping.
                let quiet = std::panic::take_hook();
                std::panic::set_hook(Box::new(|_| {}));
                let timed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    time(runs, &peer_text, count)
                }));
                std::panic::set_hook(quiet);
                match timed {
                    Ok((t, n)) => {
                        exact &= n == n_ours;
                        line.push_str(&format!(" chatctx/{name}={:.1}x", t / t_ours));
                    }
                    Err(_) => line.push_str(&format!(" chatctx/{name}=panicked")),
                }
            };
            if let Some(t) = &tiktoken {
                peer("tiktoken-rs", &|s| t.encode_ordinary(s).len());
            }
            if let Some(t) = bpe_openai {
                peer("bpe-openai", &|s| t.count(s));
            }
            if let Some(t) = &hf {
                peer("tokenizers", &|s| peers::hf_count(t, s));
            }
            let exact = if exact { "yes" } else { "no" };
            println!("{line} exact={exact}");
        }
    }
}
