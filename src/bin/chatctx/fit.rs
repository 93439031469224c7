//! `chatctx fit`: the request with its messages managed by a policy.

use clap::Args;

use crate::input::read_input;
use crate::setup::{self, BudgetArgs};
use crate::Failure;
use chatctx::policy::{Input, PolicyState};
use chatctx::template::RequestTools;
use chatctx::{ChatRequest, Conversation, Error};

/// Arguments of `chatctx fit`.
#[derive(Debug, Args)]
pub(crate) struct FitArgs {
    /// The policy: pass-through, last-rounds:N, token-budget, rolling-summary[:THRESHOLD],
    /// compact:LOW, recall:K, or a chain A+B.
    #[arg(long)]
    policy: String,
    #[command(flatten)]
    budget: BudgetArgs,
    /// Write the policy's report as JSON to this file.
    #[arg(long)]
    report: Option<String>,
    /// A chat request body or a bare messages array; `-` or nothing for standard input.
    file: Option<String>,
}

pub(crate) async fn run(args: FitArgs) -> Result<(), Failure> {
    let text = read_input(args.file.as_deref())?;
    let request = ChatRequest::from_json(&text)?;
    let (counting, limits) = args.budget.resolve(&request)?;
    let built = setup::policy(&args.policy, &args.budget, &args.budget.embedder()?).await?;
    let counter = counting.prompt_counter();
    let conversation = Conversation::new(&request.messages);
    let tools = RequestTools::from_fields(&request.fields);
    let request_tokens = counter.request_tokens(&request.messages, &tools).tokens;
    let input = Input::new(&request.messages, &conversation, limits, counter.as_ref())
        .with_request_tokens(request_tokens);
    let outcome = built.policy.apply(input, &mut PolicyState::default()).await;
    setup::forget(&built.index).await;
    let outcome = outcome?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&outcome.report).unwrap_or_default();
        std::fs::write(path, json + "\n").map_err(|err| Failure {
            code: 1,
            message: Error::Io {
                path: path.clone(),
                message: err.to_string(),
            }
            .to_string(),
        })?;
    }
    println!("{}", request.with_messages(outcome.messages).to_json());
    Ok(())
}
