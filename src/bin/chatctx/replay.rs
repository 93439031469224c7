//! `chatctx replay`: a recorded conversation, request by request, under one or more policies:
//! the totals table by default, the per-request tables with `--turns`, the totals as JSON with
//! `--json`, and charts with `--html FILE` and `--svg DIR`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::input::read_input;
use crate::report::{self, About};
use crate::setup::{self, BudgetArgs};
use crate::Failure;
use chatctx::replay::{replay, Billing, Replay};
use chatctx::{ChatRequest, Conversation};

/// Arguments of `chatctx replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// A policy to replay under; repeat the flag to compare several side by side.
    #[arg(long = "policy", required = true)]
    policies: Vec<String>,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Print the totals as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Print one table per policy with a row per request before the totals.
    #[arg(long, conflicts_with = "json")]
    turns: bool,
    /// Also write a self-contained HTML report with charts (no network needed to open it).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Also write the report's charts as SVG files into DIR (created when missing).
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,
    /// The recorded conversation: a chat request body or a bare messages array.
    file: String,
}

pub(crate) async fn run(args: ReplayArgs) -> Result<(), Failure> {
    let text = read_input(Some(&args.file))?;
    let request = ChatRequest::from_json(&text)?;
    let (counting, limits) = args.budget.resolve(&request)?;
    let billing = Billing::for_model(counting.model.as_deref().unwrap_or_default());
    let counter = counting.prompt_counter();
    let show_progress = std::io::stderr().is_terminal();
    // every spec is checked before any replay starts
    // one embedder for all policies: each distinct round is embedded once
    let embedder = args.budget.embedder()?;
    let mut policies = Vec::new();
    for spec in &args.policies {
        policies.push(setup::policy(spec, &args.budget, &embedder).await?);
    }
    let mut replays = Vec::new();
    for built in policies {
        let setup::Built {
            spec,
            policy,
            index,
        } = built;
        let name = spec.to_string();
        let result = replay(
            &request,
            &name,
            policy,
            counter.clone(),
            limits,
            &billing,
            |turn, total| {
                if show_progress && (turn % 50 == 0 || turn == total) {
                    eprint!("\rreplaying {name}: turn {turn}/{total}");
                    if turn == total {
                        eprintln!();
                    }
                }
            },
        )
        .await;
        setup::forget(&index).await;
        replays.push(result?);
    }
    if let Some(path) = &args.html {
        let about = About {
            recording: &args.file,
            model: counting.model.as_deref(),
            window: limits.window,
            rounds: Conversation::new(&request.messages).rounds().len(),
        };
        report::write_html(path, &about, &replays)?;
    }
    if let Some(dir) = &args.svg {
        report::write_svgs(dir, &replays)?;
    }
    if args.json {
        let totals: Vec<_> = replays.iter().map(|r| &r.totals).collect();
        println!("{}", json!({ "policies": totals }));
    } else {
        if args.turns {
            for replay in &replays {
                print_turns(replay);
            }
        }
        print_totals(&replays, limits.window, counting.model.as_deref());
        print_recall_failures(&replays);
    }
    Ok(())
}

/// A line per policy whose recall fell back to recency because the embedder or store failed.
fn print_recall_failures(replays: &[Replay]) {
    for replay in replays {
        let failures = replay.totals.recall_failures;
        if let Some(error) = replay.turns.iter().find_map(|t| t.recall_error.as_deref()) {
            println!(
                "{}: recall fell back to the newest rounds on {failures} of {} requests ({error})",
                replay.totals.policy, replay.totals.turns
            );
        }
    }
}

fn print_turns(replay: &Replay) {
    println!("policy {}", replay.totals.policy);
    println!(
        "{:>5} {:>8} {:>8} {:>9} {:>8} {:>6} {:>8} {:>10}",
        "turn", "prompt", "cached", "left-out", "dropped", "summ", "sum-tok", "retained"
    );
    for turn in &replay.turns {
        println!(
            "{:>5} {:>8} {:>8} {:>9} {:>8} {:>6} {:>8} {:>10}",
            turn.turn,
            turn.prompt_tokens,
            turn.cache_hit_tokens,
            turn.tokens_left_out,
            turn.dropped,
            if turn.summarizer_called { "yes" } else { "" },
            turn.summarizer_tokens,
            turn.retained_rounds,
        );
    }
    println!();
}

fn print_totals(replays: &[Replay], window: usize, model: Option<&str>) {
    println!(
        "totals (model {}, window {window})",
        model.unwrap_or("unknown")
    );
    let width = replays
        .iter()
        .map(|r| r.totals.policy.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    println!(
        "{:<width$} {:>8} {:>10} {:>10} {:>9} {:>6} {:>10} {:>9} {:>10}",
        "policy",
        "requests",
        "prompt",
        "cached",
        "sum-tok",
        "calls",
        "cost-usd",
        "retained",
        "max-prompt"
    );
    for replay in replays {
        let t = &replay.totals;
        let cost = t
            .cost_usd
            .map_or_else(|| "n/a".to_string(), |usd| format!("{usd:.6}"));
        println!(
            "{:<width$} {:>8} {:>10} {:>10} {:>9} {:>6} {:>10} {:>9.2} {:>10}",
            t.policy,
            t.turns,
            t.prompt_tokens,
            t.cache_hit_tokens,
            t.summarizer_tokens,
            t.summarizer_calls,
            cost,
            t.mean_retained_rounds,
            t.max_prompt_tokens
        );
    }
}
