//! Speed ratios of chatctx's exact counters against the peer tokenizers, with whether the
//! counts agree.
//!
//! ```text
//! cargo run --release --example count_bench -- [--runs N] [--cold] [corpus files...]
//! ```
//!
//! While it measures, it prints chatctx's speed on each corpus and vocabulary as comment lines
//! (`# english-chat cl100k_base chatctx=146MB/s`); it ends with one line per corpus and
//! vocabulary:
//!
//! ```text
//! english-chat cl100k_base chatctx/tiktoken-rs=7.9x chatctx/bpe-openai=4.6x exact=yes
//! ```
//!
//! Without files it uses the fixture corpus (`fixtures/tokens/corpus/*.jsonl`, plus all of it
//! as `mixed`) and the worst cases (`one-letter-100k`, `spaces-1m`, `random-letters-100k`). A
//! `.jsonl` file holds one JSON string per line; any other file is one text.
//!
//! The counters are timed in N (default 5) rounds; a round runs every counter in turn, one
//! untimed pass over the corpus and then one timed pass (single-threaded), so that a noisy
//! machine slows all of them alike while each is timed with its own tables in the CPU caches.
//! A ratio is the median over the rounds of peer time / chatctx time, and MB/s comes from
//! chatctx's median pass. chatctx keeps a per-thread cache of
//! short pieces, which the warm-up pass fills; with `--cold` the cache is emptied before each
//! of chatctx's passes (not timed), as when a text is counted for the first time. Peers:
//! tiktoken-rs (Qwen via `CoreBPE::new` with the Qwen ranks and pattern, fed NFC text),
//! bpe-openai, and Hugging Face `tokenizers` (DeepSeek-V3). `exact=yes` means chatctx's total
//! equals every peer's total on that corpus (a peer that panics on an input is reported as
//! `panicked` and left out of the comparison).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/support/peers.rs"]
mod peers;

use std::hint::black_box;
use std::time::Instant;

use chatctx::tokens::{BpeCounter, TokenCounter, Vocabulary};
use peers::Corpus;
use unicode_normalization::UnicodeNormalization;

/// One contender: a name and how it counts a text.
struct Contender<'a> {
    name: &'static str,
    count: Box<dyn Fn(&str) -> usize + 'a>,
    /// The text it is fed (Qwen's peers get NFC text).
    chunks: &'a [String],
    /// Run before each timed pass, untimed.
    setup: fn(),
}

/// A peer contender, fed `chunks`.
fn peer<'a>(
    name: &'static str,
    chunks: &'a [String],
    count: Box<dyn Fn(&str) -> usize + 'a>,
) -> Contender<'a> {
    Contender {
        name,
        count,
        chunks,
        setup: || {},
    }
}

/// Seconds of one pass of `c` over its chunks, and the total.
fn pass(c: &Contender<'_>) -> (f64, usize) {
    (c.setup)();
    let t = Instant::now();
    let total: usize = c.chunks.iter().map(|s| (c.count)(black_box(s))).sum();
    (t.elapsed().as_secs_f64(), black_box(total))
}

/// The median of `xs` (not empty).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
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
        "chatctx's piece cache emptied before each of its passes"
    } else {
        "chatctx's piece cache warm"
    };
    println!(
        "# {runs} interleaved rounds of single-threaded passes ({cache}); ratio = median over rounds of peer time / chatctx time"
    );
    let no_setup: fn() = || {};
    let ours_setup: fn() = if cold {
        BpeCounter::clear_thread_cache
    } else {
        no_setup
    };
    let mut results = Vec::new();
    for v in Vocabulary::ALL {
        let ours = v.counter();
        let tiktoken = peers::tiktoken(v);
        let bpe_openai = peers::bpe_openai(v);
        let hf = peers::hf(v);
        let nfc = matches!(v, Vocabulary::Qwen25 | Vocabulary::Qwen35);
        for corpus in corpora {
            let peer_text: Vec<String> = if nfc {
                corpus.chunks.iter().map(|c| c.nfc().collect()).collect()
            } else {
                corpus.chunks.clone()
            };
            let mut contenders = vec![Contender {
                name: "chatctx",
                count: Box::new(|s| ours.count(s)),
                chunks: &corpus.chunks,
                setup: ours_setup,
            }];
            if let Some(t) = &tiktoken {
                contenders.push(peer(
                    "tiktoken-rs",
                    &peer_text,
                    Box::new(|s| t.count_ordinary(s)),
                ));
            }
            if let Some(t) = bpe_openai {
                contenders.push(peer("bpe-openai", &peer_text, Box::new(|s| t.count(s))));
            }
            if let Some(t) = &hf {
                contenders.push(peer(
                    "tokenizers",
                    &peer_text,
                    Box::new(|s| peers::hf_count(t, s)),
                ));
            }
            let (speed, ratios) = compare(runs, &contenders, corpus.bytes());
            println!("# {} {} chatctx={speed:.0}MB/s", corpus.name, v.name());
            results.push(format!("{} {} {ratios}", corpus.name, v.name()));
        }
    }
    for line in results {
        println!("{line}");
    }
}

/// Times `contenders` (chatctx first) in `runs` interleaved rounds: chatctx's MB/s, and the
/// ratios and exactness as the end of a result line.
fn compare(runs: usize, contenders: &[Contender<'_>], bytes: usize) -> (f64, String) {
    // A peer may panic on an input (tiktoken-rs's regex overflows its backtracking stack on
    // 1 MB of spaces with o200k): its warm-up pass finds out, and it is reported instead.
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let totals: Vec<Option<usize>> = contenders
        .iter()
        .map(|c| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pass(c).1)).ok())
        .collect();
    std::panic::set_hook(quiet);
    let mut secs: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
    for _ in 0..runs {
        for (i, c) in contenders.iter().enumerate() {
            if totals[i].is_some() {
                // An untimed pass first, so that each counter is timed with its own tables
                // in the CPU caches, not the previous counter's.
                pass(c);
                secs[i].push(pass(c).0);
            }
        }
    }
    let ours = &secs[0];
    let speed = bytes as f64 / 1e6 / median(ours.clone());
    let mut line = String::new();
    let mut exact = true;
    for (i, c) in contenders.iter().enumerate().skip(1) {
        match totals[i] {
            Some(n) => {
                exact &= Some(n) == totals[0];
                let ratios = secs[i].iter().zip(ours).map(|(p, o)| p / o).collect();
                line.push_str(&format!("chatctx/{}={:.1}x ", c.name, median(ratios)));
            }
            None => line.push_str(&format!("chatctx/{}=panicked ", c.name)),
        }
    }
    let exact = if exact { "yes" } else { "no" };
    (speed, format!("{line}exact={exact}"))
}
