//! `chatctx`: count, fit and replay chat conversations from the shell.
//!
//! Reads JSON the way the chat APIs write it and writes JSON back. Exit codes: 0 ok,
//! 1 runtime failure, 2 bad input or usage; errors are one line on stderr.

mod bench;
mod count;
mod fit;
mod input;
mod replay;
mod report;
mod session;
mod setup;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Manage the context of multi-round conversations with stateless chat APIs.
#[derive(Debug, Parser)]
#[command(name = "chatctx", version, about, long_about = None)]
struct Cli {
    /// A JSON models file whose models every command can use (default: the file named by the
    /// CHATCTX_MODELS environment variable): {"models": [{"name", "vocabulary", "template",
    /// "window", "max_output", "cache", "pricing"}]}.
    #[arg(long, global = true, value_name = "FILE")]
    models: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Count the prompt tokens of a chat request (template overhead included).
    #[command(
        after_help = "Examples:\n  chatctx count --model deepseek-v4-flash fixtures/seeds/deepseek_multi_round.json\n  cat request.json | chatctx count --tokenizer o200k_base"
    )]
    Count(count::CountArgs),
    /// Count the tokens of plain text, or of the `text` field of each JSON line.
    #[command(
        after_help = "Examples:\n  echo 'hello world' | chatctx count-text --tokenizer cl100k_base\n  chatctx count-text --tokenizer qwen2.5 --jsonl data.jsonl > counted.jsonl"
    )]
    CountText(count::CountTextArgs),
    /// Print the request with its messages managed by a context policy.
    #[command(
        after_help = "Examples:\n  chatctx fit --policy last-rounds:3 --model deepseek-v4-flash request.json\n  chatctx fit --policy rolling-summary:0.7 --model qwen-plus --window 4000 --report report.json request.json\n  chatctx fit --policy rolling-summary --summarizer 'command:./summarize.sh' --model gpt-4o request.json"
    )]
    Fit(fit::FitArgs),
    /// Replay a recorded conversation request by request under one or more policies.
    #[command(
        after_help = "Examples:\n  chatctx replay --policy token-budget --policy compact:0.5 --model deepseek-v4-flash --window 4000 fixtures/chitchat/long_session_1.json\n  chatctx replay --policy rolling-summary --model deepseek-v4-flash --window 3000 --json session.json\n  chatctx replay --policy token-budget --policy rolling-summary --model deepseek-v4-flash --window 4000 --html report.html --svg charts/ session.json"
    )]
    Replay(replay::ReplayArgs),
    /// Keep conversations in a store (SQLite file or PostgreSQL): append, prepare, show,
    /// fork, delete, list.
    #[command(
        after_help = "Examples:\n  chatctx session append c1 turn.json\n  chatctx session --store sqlite:chats.db prepare c1 --policy rolling-summary --model deepseek-chat\n  chatctx session --store postgres://app@db/chat?sslmode=verify-full show c1"
    )]
    Session(session::SessionArgs),
    /// Measure how often recall:K sends a fact asked for in other words (a benchmark file).
    #[command(
        after_help = "Examples:\n  chatctx recall-bench fixtures/recall/bench.jsonl\n  chatctx recall-bench --embedder ngrams --embedder http --embedder hybrid fixtures/recall/bench.jsonl"
    )]
    RecallBench(bench::BenchArgs),
}

/// A failure, with the exit code it maps to.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl From<chatctx::Error> for Failure {
    fn from(err: chatctx::Error) -> Self {
        use chatctx::Error as E;
        let code = match &err {
            E::Summarizer { .. } | E::Embedder { .. } | E::Store { .. } | E::Vocabulary { .. } => 1,
            E::Conflict { .. } | E::SessionStore { .. } => 1,
            _ => 2,
        };
        Failure {
            code,
            message: err.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = setup::register_models(cli.models.as_deref()) {
        let failure = Failure::from(err);
        eprintln!("chatctx: {}", failure.message);
        return ExitCode::from(failure.code);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("chatctx: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Count(args) => count::run_count(args),
            Command::CountText(args) => count::run_count_text(args),
            Command::Fit(args) => fit::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Session(args) => session::run(args).await,
            Command::RecallBench(args) => bench::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("chatctx: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
