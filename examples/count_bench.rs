//! Speed ratios of chatctx's exact counters against the peer tokenizers, with whether the
//! counts agree.
//!
//! ```text
//! cargo run --release --example count_bench -- [--runs N] [--cold] [--messages] [--vocabulary NAME]... [corpus files...]
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
//! short pieces, which the warm-up pass fills, and so does the `tiktoken` crate. With `--cold`
//! every pass of every counter (the untimed one too) runs on a thread of its own, started for
//! it: all per-thread caches start empty, as when a text is counted for the first time. The thread first counts
//! a short primer text (not in any corpus, not timed), so that the caches are allocated
//! before the timed pass. Peers: the `tiktoken` crate (cl100k, o200k, DeepSeek-V3, and
//! Qwen2.5 as its `qwen2`), tiktoken-rs (Qwen via `CoreBPE::new` with the Qwen ranks and
//! pattern), bpe-openai, and Hugging Face `tokenizers` (DeepSeek-V3); Qwen's peers are fed
//! NFC text (normalized before timing). `exact=yes` means chatctx's total equals every peer's
//! total on that corpus (a peer that panics on an input is reported as `panicked` and left out
//! of the comparison).
//!
//! `--messages` measures message by message, one `count` call per message, as a chat tool
//! counts: the chitchat messages (`chat-messages`), their lines of at most 16 bytes
//! (`chat-lines-16b`) and the Chinese lines of `zh.jsonl` (`chinese-lines`), each both
//! `repeated` (warm: the untimed pass before each timed one counted the same messages) and
//! `first` (as `--cold`: a fresh thread for each pass, the untimed one included, so that
//! each counter's tables are in the CPU caches as far as they fit and its per-thread caches
//! empty). Lines then read
//! `chat-messages cl100k_base first chatctx/tiktoken=2.3x ... exact=yes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../benches/support/peers.rs"]
mod peers;

use std::hint::black_box;
use std::time::Instant;

use chatctx::tokens::{TokenCounter, Vocabulary};
use peers::Corpus;
use unicode_normalization::UnicodeNormalization;

/// How a counter counts a text.
type CountFn<'a> = Box<dyn Fn(&str) -> usize + Sync + 'a>;

/// One contender: a name and how it counts a text.
struct Contender<'a> {
    name: &'static str,
    count: CountFn<'a>,
    /// The text it is fed (Qwen's peers get NFC text).
    chunks: &'a [String],
}

/// A contender, fed `chunks`.
fn contender<'a>(name: &'static str, chunks: &'a [String], count: CountFn<'a>) -> Contender<'a> {
    Contender {
        name,
        count,
        chunks,
    }
}

/// Counted on a fresh thread before its timed pass: allocates the per-thread caches without
/// putting any piece of the corpora in them.
const PRIMER: &str = "Zqx vvk.";

/// Seconds of one pass of `c` over its chunks, and the total. With `fresh`, on a new thread
/// (per-thread caches empty), after an untimed count of [`PRIMER`].
fn pass(c: &Contender<'_>, fresh: bool) -> (f64, usize) {
    let timed = || {
        let t = Instant::now();
        let total: usize = c.chunks.iter().map(|s| (c.count)(black_box(s))).sum();
        (t.elapsed().as_secs_f64(), black_box(total))
    };
    if !fresh {
        return timed();
    }
    std::thread::scope(|scope| {
        let run = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, || {
                black_box((c.count)(black_box(PRIMER)));
                timed()
            })
            .expect("spawn a pass thread");
        run.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// The median of `xs` (not empty).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let mut runs = 5;
    let mut cold = false;
    let mut messages = false;
    let mut files = Vec::new();
    let mut vocabularies = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--cold" {
            cold = true;
        } else if a == "--messages" {
            messages = true;
        } else if a == "--vocabulary" {
            let name = args.next().unwrap_or_default();
            vocabularies.push(name.parse::<Vocabulary>().expect("--vocabulary NAME"));
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
    if messages {
        corpora.extend(peers::message_corpora());
        corpora.extend(files.iter().map(|f| peers::load(f)));
    } else if files.is_empty() {
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
        .spawn(move || {
            let modes: &[bool] = if messages { &[false, true] } else { &[cold] };
            if vocabularies.is_empty() {
                vocabularies = Vocabulary::ALL.to_vec();
            }
            report(runs, modes, messages, &vocabularies, &corpora)
        })
        .expect("spawn");
    worker.join().expect("count_bench worker");
}

/// Measures each of `vocabularies` on every corpus, once per mode of `modes` (`true`: fresh
/// threads, caches empty), and prints the result lines; with `tagged`, each line names its
/// mode (`repeated` or `first`).
fn report(
    runs: usize,
    modes: &[bool],
    tagged: bool,
    vocabularies: &[Vocabulary],
    corpora: &[Corpus],
) {
    let cache = match modes {
        [false] => "per-thread caches warm",
        [true] => "every pass on a fresh thread: per-thread caches empty",
        _ => "repeated: caches warm; first: every pass on a fresh thread, caches empty",
    };
    println!(
        "# {runs} interleaved rounds of single-threaded passes ({cache}); ratio = median over rounds of peer time / chatctx time"
    );
    let mut results = Vec::new();
    for &v in vocabularies {
        let ours = v.counter();
        let tiktoken = peers::tiktoken(v);
        let fast_tiktoken = peers::tiktoken_crate(v);
        let bpe_openai = peers::bpe_openai(v);
        let hf = peers::hf(v);
        let nfc = matches!(v, Vocabulary::Qwen25 | Vocabulary::Qwen35);
        for corpus in corpora {
            let peer_text: Vec<String> = if nfc {
                corpus.chunks.iter().map(|c| c.nfc().collect()).collect()
            } else {
                corpus.chunks.clone()
            };
            let mut contenders = vec![contender(
                "chatctx",
                &corpus.chunks,
                Box::new(|s| ours.count(s)),
            )];
            if let Some(t) = fast_tiktoken {
                contenders.push(contender("tiktoken", &peer_text, Box::new(|s| t.count(s))));
            }
            if let Some(t) = &tiktoken {
                contenders.push(contender(
                    "tiktoken-rs",
                    &peer_text,
                    Box::new(|s| t.count_ordinary(s)),
                ));
            }
            if let Some(t) = bpe_openai {
                contenders.push(contender(
                    "bpe-openai",
                    &peer_text,
                    Box::new(|s| t.count(s)),
                ));
            }
            if let Some(t) = &hf {
                contenders.push(contender(
                    "tokenizers",
                    &peer_text,
                    Box::new(|s| peers::hf_count(t, s)),
                ));
            }
            for &fresh in modes {
                let (speeds, ratios) = compare(runs, &contenders, corpus.bytes(), fresh);
                let mode = match (tagged, fresh) {
                    (false, _) => "",
                    (true, false) => " repeated",
                    (true, true) => " first",
                };
                let calls = corpus.chunks.len();
                let per_call = corpus.bytes() as f64 / 1e6 / speeds[0] / calls as f64 * 1e9;
                let speeds: Vec<String> = contenders
                    .iter()
                    .zip(&speeds)
                    .map(|(c, s)| format!("{}={s:.0}MB/s", c.name))
                    .collect();
                println!(
                    "# {} {}{mode} {} (chatctx: {calls} calls, {per_call:.0} ns per call)",
                    corpus.name,
                    v.name(),
                    speeds.join(" ")
                );
                results.push(format!("{} {}{mode} {ratios}", corpus.name, v.name()));
            }
        }
    }
    for line in results {
        println!("{line}");
    }
}

/// Times `contenders` (chatctx first) in `runs` interleaved rounds: the MB/s of each (of its
/// median pass; 0 for a peer that panicked), and the ratios and exactness as the end of a
/// result line.
fn compare(
    runs: usize,
    contenders: &[Contender<'_>],
    bytes: usize,
    fresh: bool,
) -> (Vec<f64>, String) {
    // A peer may panic on an input (tiktoken-rs's regex overflows its backtracking stack on
    // 1 MB of spaces with o200k): its warm-up pass finds out, and it is reported instead.
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let totals: Vec<Option<usize>> = contenders
        .iter()
        .map(|c| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pass(c, false).1)).ok())
        .collect();
    std::panic::set_hook(quiet);
    let mut secs: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
    for _ in 0..runs {
        for (i, c) in contenders.iter().enumerate() {
            if totals[i].is_some() {
                // An untimed pass first, so that each counter is timed with its own tables
                // in the CPU caches, not the previous counter's. For a first-time pass the
                // untimed one runs on a fresh thread too: a counter whose per-thread cache
                // hits would otherwise leave its tables untouched (cold) for the timed pass.
                pass(c, fresh);
                secs[i].push(pass(c, fresh).0);
            }
        }
    }
    let ours = &secs[0];
    let speeds = secs
        .iter()
        .map(|s| {
            if s.is_empty() {
                0.0
            } else {
                bytes as f64 / 1e6 / median(s.clone())
            }
        })
        .collect();
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
    (speeds, format!("{line}exact={exact}"))
}
