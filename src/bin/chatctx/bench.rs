//! `chatctx recall-bench`: how often vector recall sends a fact asked for in other words.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;
use serde_json::json;

use crate::input::read_input;
use crate::setup::{self, Counting, Seconds};
use crate::Failure;
use chatctx::policy::{ContextPolicy, Input, Limits, PolicyState, Recall, TokenBudget};
use chatctx::retrieval::{Embedder, InMemory, Index};
use chatctx::{ChatRequest, Conversation, Error};

/// Arguments of `chatctx recall-bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// An embedder to measure: ngrams, http (as `fit --embedder http`), or hybrid (both,
    /// cosines fused by `Hybrid`); repeat the flag for several. The token-budget baseline is
    /// always measured.
    #[arg(long = "embedder", default_value = "ngrams", value_parser = ["ngrams", "http", "hybrid"])]
    embedders: Vec<String>,
    /// Weight of the lexical (n-gram) similarity in `hybrid`; the model's is 1 - W.
    #[arg(long, value_name = "W", default_value_t = chatctx::retrieval::Hybrid::DEFAULT_LEXICAL_WEIGHT)]
    lexical_weight: f32,
    /// Rounds recalled per request (the policy is recall:K).
    #[arg(long, default_value_t = NonZeroUsize::MIN.saturating_add(2))]
    k: NonZeroUsize,
    /// Tokens usable by the prompt.
    #[arg(long, default_value_t = 1024)]
    usable: usize,
    /// Give up on one embedding request after SECS seconds, retries included (default: 120).
    #[arg(long, value_name = "SECS")]
    embedder_timeout: Option<Seconds>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Also print the cases whose fact was not sent.
    #[arg(long, conflicts_with = "json")]
    misses: bool,
    /// The benchmark: one chat request body per line, each with a `chatctx_bench` field
    /// (`fixtures/recall/bench.jsonl`, made by `scripts/gen_recall_bench.py`).
    file: String,
}

/// The `chatctx_bench` field of a case.
#[derive(Debug, Deserialize)]
struct About {
    id: String,
    lang: String,
    /// The messages stating the fact (all must be sent).
    fact_messages: Vec<usize>,
}

/// Facts sent, per language, of one policy.
#[derive(Debug, Default)]
struct Score {
    sent: BTreeMap<String, (usize, usize)>,
    misses: Vec<String>,
}

impl Score {
    fn add(&mut self, lang: &str, id: &str, sent: bool) {
        let entry = self.sent.entry(lang.to_string()).or_default();
        entry.1 += 1;
        if sent {
            entry.0 += 1;
        } else {
            self.misses.push(id.to_string());
        }
    }

    fn total(&self) -> (usize, usize) {
        self.sent
            .values()
            .fold((0, 0), |(a, b), (s, n)| (a + s, b + n))
    }
}

fn bad_case(line: usize, reason: impl std::fmt::Display) -> Error {
    Error::InvalidConfig {
        setting: "recall-bench".to_string(),
        reason: format!("case on line {line}: {reason}"),
    }
}

pub(crate) async fn run(args: BenchArgs) -> Result<(), Failure> {
    let text = read_input(Some(&args.file))?;
    let mut cases = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let request = ChatRequest::from_json(line)?;
        let about = request
            .fields
            .get("chatctx_bench")
            .cloned()
            .ok_or_else(|| bad_case(number + 1, "no `chatctx_bench` field"))?;
        let about: About =
            serde_json::from_value(about).map_err(|err| bad_case(number + 1, err))?;
        if about.fact_messages.is_empty()
            || about
                .fact_messages
                .iter()
                .any(|&index| index + 1 >= request.messages.len())
        {
            return Err(bad_case(number + 1, "`fact_messages` must name older messages").into());
        }
        cases.push((request, about));
    }
    let limits = Limits::new(args.usable, 0);
    limits.usable()?;
    let mut embedders: Vec<(String, Arc<dyn Embedder>)> = Vec::new();
    // One model embedder shared by `http` and `hybrid`: each distinct text is embedded once.
    let mut model: Option<Arc<dyn Embedder>> = None;
    for name in &args.embedders {
        if embedders.iter().any(|(seen, _)| seen == name) {
            continue;
        }
        let embedder = match name.as_str() {
            "http" | "hybrid" => {
                let shared = match &model {
                    Some(shared) => Arc::clone(shared),
                    None => {
                        let built = setup::embedder("http", args.embedder_timeout)?;
                        model = Some(Arc::clone(&built));
                        built
                    }
                };
                if name == "http" {
                    shared
                } else {
                    Arc::new(
                        chatctx::retrieval::Hybrid::new(
                            Arc::new(chatctx::retrieval::NGrams::new()),
                            shared,
                        )
                        .with_lexical_weight(args.lexical_weight)?,
                    )
                }
            }
            _ => setup::embedder(name, args.embedder_timeout)?,
        };
        embedders.push((name.clone(), embedder));
    }
    let mut baseline = Score::default();
    let mut scores: Vec<Score> = embedders.iter().map(|_| Score::default()).collect();
    let policy_name = format!("recall:{}", args.k);
    for (done, (request, about)) in cases.iter().enumerate() {
        let counting = Counting::resolve(None, None, request.model())?.with_request(request)?;
        let counter = counting.prompt_counter();
        let conversation = Conversation::new(&request.messages);
        let input = || Input::new(&request.messages, &conversation, limits, counter.as_ref());
        let sent = |kept: &[usize]| {
            about
                .fact_messages
                .iter()
                .all(|index| kept.binary_search(index).is_ok())
        };
        let outcome = TokenBudget::new()
            .apply(input(), &mut PolicyState::default())
            .await?;
        baseline.add(&about.lang, &about.id, sent(&outcome.report.kept));
        for ((name, embedder), score) in embedders.iter().zip(&mut scores) {
            let store = Arc::new(InMemory::new(embedder.dimension()));
            let index = Index::new(Arc::clone(embedder), store, format!("{}-{name}", about.id))?;
            // A failing embedder must not pass for a poor one: no fallback here.
            let recall = Recall::new(index, args.k).with_fail_on_error(true);
            let outcome = recall.apply(input(), &mut PolicyState::default()).await?;
            score.add(&about.lang, &about.id, sent(&outcome.report.kept));
        }
        if !args.json && (done + 1) % 10 == 0 {
            eprint!("\rrecall-bench: case {}/{}", done + 1, cases.len());
            if done + 1 == cases.len() {
                eprintln!();
            }
        }
    }
    let mut rows = vec![("token-budget".to_string(), &baseline)];
    for ((name, _), score) in embedders.iter().zip(&scores) {
        rows.push((format!("{policy_name} {name}"), score));
    }
    if args.json {
        let results: Vec<_> = rows
            .iter()
            .map(|(name, score)| {
                let (sent, cases) = score.total();
                let by_lang: serde_json::Map<String, serde_json::Value> = score
                    .sent
                    .iter()
                    .map(|(lang, (s, n))| (lang.clone(), json!({"sent": s, "cases": n})))
                    .collect();
                json!({
                    "policy": name,
                    "sent": sent,
                    "cases": cases,
                    "by_lang": by_lang,
                    "misses": score.misses,
                })
            })
            .collect();
        println!(
            "{}",
            json!({"usable": args.usable, "k": args.k, "results": results})
        );
        return Ok(());
    }
    let langs: Vec<String> = baseline.sent.keys().cloned().collect();
    println!(
        "fact sent at {} usable tokens, {} cases ({})",
        args.usable,
        cases.len(),
        args.file
    );
    let mut header = format!("{:<24} {:>9}", "policy", "all");
    for lang in &langs {
        header.push_str(&format!(" {lang:>9}"));
    }
    println!("{header}");
    for (name, score) in &rows {
        let (sent, total) = score.total();
        let mut line = format!("{name:<24} {:>9}", format!("{sent}/{total}"));
        for lang in &langs {
            let (s, n) = score.sent.get(lang).copied().unwrap_or_default();
            line.push_str(&format!(" {:>9}", format!("{s}/{n}")));
        }
        println!("{line}");
    }
    if args.misses {
        for (name, score) in &rows {
            println!("{name} missed: {}", score.misses.join(" "));
        }
    }
    Ok(())
}
