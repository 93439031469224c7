//! How fast is exact counting, against the peers, per kind of input.
//!
//! One criterion group per question ("counting English chat", "counting Chinese prose", ...,
//! "worst case: 1 MB of spaces"), with chatctx and its peers as functions of the same group,
//! `Throughput::Bytes`, and inputs prepared outside the timed closures. Peers: the `tiktoken`
//! crate (cl100k/o200k/DeepSeek-V3, and Qwen2.5 as its `qwen2`), tiktoken-rs (cl100k/o200k,
//! and Qwen via `CoreBPE::new` with the Qwen ranks and pattern), `bpe-openai` (cl100k/o200k)
//! and Hugging Face `tokenizers` (DeepSeek-V3).
//!
//! The `per message` groups count a corpus of chat messages one `count` call per message
//! (`peers::message_corpora`: English chat messages, their lines of at most 16 bytes, Chinese
//! lines): `repeated` on the bench thread, whose caches the earlier iterations filled, and
//! `first` with every iteration on a fresh thread, so that per-thread caches (chatctx's piece
//! cache, the `tiktoken` crate's) start empty; that thread first counts a short primer, not
//! timed, which allocates them. Filter with `cargo bench --bench counting -- 'per message'`. A peer that would overflow its
//! stack or panic on an input is probed first in a thread with a small stack and skipped with a
//! printed note when it panics; all of it runs on a 1 GB stack (see `STACK`).
//!
//! `cargo bench --bench counting -- --measurement-time 2 --warm-up-time 1`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/peers.rs"]
mod peers;

use std::time::Duration;

use chatctx::tokens::{TokenCounter, Vocabulary};
use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};

type Count = Box<dyn Fn(&str) -> usize + Send + Sync>;

/// The counters to compare for a vocabulary: chatctx first, then its peers.
fn contenders(v: Vocabulary) -> Vec<(String, std::sync::Arc<Count>)> {
    let mut out: Vec<(String, std::sync::Arc<Count>)> = Vec::new();
    let ours = v.counter();
    out.push((
        format!("chatctx/{v}"),
        std::sync::Arc::new(Box::new(move |s: &str| ours.count(s))),
    ));
    if let Some(t) = peers::tiktoken_crate(v) {
        out.push((
            format!("tiktoken/{v}"),
            std::sync::Arc::new(Box::new(move |s: &str| t.count(s))),
        ));
    }
    if let Some(t) = peers::tiktoken(v) {
        out.push((
            format!("tiktoken-rs/{v}"),
            std::sync::Arc::new(Box::new(move |s: &str| t.count_ordinary(s))),
        ));
    }
    if let Some(t) = peers::bpe_openai(v) {
        out.push((
            format!("bpe-openai/{v}"),
            std::sync::Arc::new(Box::new(move |s: &str| t.count(s))),
        ));
    }
    if let Some(t) = peers::hf(v) {
        out.push((
            format!("tokenizers/{v}"),
            std::sync::Arc::new(Box::new(move |s: &str| peers::hf_count(&t, s))),
        ));
    }
    out
}

/// Stack of the benchmark threads: tiktoken-rs's regex engine recurses once per character of
/// a whitespace run and overflows an 8 MB stack on 1 MB of spaces (an overflow aborts the
/// process, it cannot be caught).
const STACK: usize = 1 << 30;

/// Whether `count` returns on `text` without panicking.
fn survives(count: &std::sync::Arc<Count>, text: &std::sync::Arc<String>) -> bool {
    let (count, text) = (count.clone(), text.clone());
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || count(&text))
        .map(|h| h.join().is_ok())
        .unwrap_or(false)
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    bytes: usize,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(500));
    g
}

/// The corpus inputs: one group per corpus and vocabulary family.
fn corpora(c: &mut Criterion) {
    let files = peers::fixture_files();
    let loaded: Vec<peers::Corpus> = files.iter().map(|f| peers::load(f)).collect();
    let mixed = peers::mixed(&loaded);
    let pick = |name: &str| {
        loaded
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.chunks.clone())
    };
    let inputs = [
        ("english chat", pick("english-chat").unwrap_or_default()),
        ("chinese prose", pick("chinese").unwrap_or_default()),
        ("code", pick("code").unwrap_or_default()),
        ("mixed", mixed.chunks),
    ];
    for v in Vocabulary::ALL {
        let who = contenders(v);
        for (input, chunks) in &inputs {
            let bytes: usize = chunks.iter().map(String::len).sum();
            let mut g = group(c, &format!("counting {input} ({v})"), bytes);
            for (name, count) in &who {
                g.bench_function(name.as_str(), |b| {
                    b.iter(|| chunks.iter().map(|s| count(s)).sum::<usize>())
                });
            }
            g.finish();
        }
    }
}

/// Worst cases: long runs that are one piece, or whitespace that backtracking regexes recurse on.
fn worst_cases(c: &mut Criterion) {
    for corpus in peers::worst_cases() {
        let input = corpus.name;
        let text = corpus.chunks.concat();
        let text = std::sync::Arc::new(text);
        for v in [
            Vocabulary::Cl100kBase,
            Vocabulary::O200kBase,
            Vocabulary::DeepseekV3,
        ] {
            let mut g = group(c, &format!("worst case {input} ({v})"), text.len());
            for (name, count) in contenders(v) {
                if !survives(&count, &text) {
                    println!(
                        "note: skipping {name} on {input}: it crashes (stack overflow or panic)"
                    );
                    continue;
                }
                g.bench_function(name.as_str(), |b| b.iter(|| count(&text)));
            }
            g.finish();
        }
    }
}

/// Counted on a fresh thread before its timed pass: allocates the per-thread caches without
/// putting any piece of the corpora in them.
const PRIMER: &str = "Zqx vvk.";

/// Time of one pass of `count` over `messages` on a fresh thread (per-thread caches empty),
/// after an untimed count of [`PRIMER`].
fn fresh_pass(count: &Count, messages: &[String]) -> Duration {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, || {
                std::hint::black_box(count(PRIMER));
                let t = std::time::Instant::now();
                let n: usize = messages.iter().map(|m| count(m)).sum();
                std::hint::black_box(n);
                t.elapsed()
            })
            .expect("spawn a pass thread")
            .join()
            .expect("pass thread")
    })
}

/// One `count` call per message, repeated (caches warm) and the first time (fresh threads).
fn per_message(c: &mut Criterion) {
    let corpora = peers::message_corpora();
    for v in Vocabulary::ALL {
        let who = contenders(v);
        for corpus in &corpora {
            for first in [false, true] {
                let mode = if first { "first" } else { "repeated" };
                let title = format!("per message {} {mode} ({v})", corpus.name);
                let mut g = group(c, &title, corpus.bytes());
                for (name, count) in &who {
                    let messages = &corpus.chunks;
                    g.bench_function(name.as_str(), |b| {
                        if first {
                            b.iter_custom(|iters| {
                                (0..iters).map(|_| fresh_pass(count, messages)).sum()
                            })
                        } else {
                            b.iter(|| messages.iter().map(|m| count(m)).sum::<usize>())
                        }
                    });
                }
                g.finish();
            }
        }
    }
}

criterion_group!(benches, corpora, per_message, worst_cases);

fn main() {
    let run = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            benches();
            Criterion::default().configure_from_args().final_summary();
        })
        .expect("spawn the bench thread");
    run.join().expect("benches");
}
