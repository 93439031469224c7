//! Replaying a recorded conversation through a session, model call by model call, as a chat
//! tool or an agent would.
//!
//! Every recorded assistant message is one request (one model call): everything before it
//! (the user turn, earlier steps' assistant messages and tool results) is in the transcript,
//! the policy prepares the request, the request is billed (prompt tokens, prompt-cache hits,
//! that assistant message's output tokens, the summarizer's own calls), the assistant message
//! is recorded ([`Session::record_reply`], so the reasoning rule applies) and the tool results
//! after it are pushed. A chat round (a user turn and one reply) is therefore one request, as
//! is a round whose user turn has no reply (billed with no output); an agent round is one
//! request per step. A recording that ends with tool results after its last call ends with
//! one more request, the open call (no output), as one ending with a user turn does.
//!
//! This is how policies are compared on cost and on how much recent context they keep. A
//! recording's request-level fields (`tools`, `response_format`) go with every request: they
//! take their tokens from the budget, count in the prompt tokens and open the cached prefix.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;

use crate::conversation::Transcript;
use crate::cost::{CacheModel, CacheSimulator, Pricing, PromptBlock};
use crate::error::Result;
use crate::message::{ChatRequest, Message, Role};
use crate::policy::{is_summary, summary_message, ContextPolicy, Limits};
use crate::session::Session;
use crate::summarizer::{SummaryInput, DEFAULT_PROMPT};
use crate::template::{PromptCounter, RequestTools};
use crate::Conversation;

/// One request of a replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    /// 1-based request number (one per model call).
    pub turn: usize,
    /// 1-based number of the round (user turn) the request belongs to.
    pub round: usize,
    /// 1-based number of the model call within its round: 1 for a chat reply, one more for
    /// each step of an agent loop.
    pub step: usize,
    /// Prompt tokens sent.
    pub prompt_tokens: usize,
    /// Prompt tokens that hit the provider's prefix cache.
    pub cache_hit_tokens: usize,
    /// Output tokens of the recorded reply.
    pub output_tokens: usize,
    /// Tokens of history left out (dropped or represented by the summary).
    pub tokens_left_out: usize,
    /// Messages dropped.
    pub dropped: usize,
    /// Messages represented by the summary.
    pub summarized: usize,
    /// Whether the summarizer ran for this request.
    pub summarizer_called: bool,
    /// Tokens billed for the summarizer's own call (input + output), 0 when it did not run.
    pub summarizer_tokens: usize,
    /// Input tokens of the summarizer's call served from the prompt cache: its request starts
    /// with the conversation's own prefix ([`crate::summarizer::SummaryInput::to_messages`]).
    pub summarizer_cache_hit_tokens: usize,
    /// How many of the most recent rounds are present verbatim.
    pub retained_rounds: usize,
    /// Messages sent as a placeholder instead of their content (`clear-tools`).
    pub cleared: usize,
    /// Prompt tokens saved by those placeholders.
    pub tokens_cleared: usize,
    /// Messages sent cut to their first and last parts (`cap`).
    pub capped: usize,
    /// Prompt tokens saved by cutting them.
    pub tokens_capped: usize,
    /// Cost of the request (and of its summarizer call) in US dollars, when priced.
    pub cost_usd: Option<f64>,
    /// Why vector recall fell back to recency for this request (its embedder or store
    /// failed), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall_error: Option<String>,
}

/// Totals of a replay under one policy (the JSON shape of `chatctx replay --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// The policy spec.
    pub policy: String,
    /// Number of requests.
    pub turns: usize,
    /// Prompt tokens over all requests.
    pub prompt_tokens: usize,
    /// Prompt tokens that hit the cache.
    pub cache_hit_tokens: usize,
    /// Tokens billed for summarizer calls.
    pub summarizer_tokens: usize,
    /// Summarizer input tokens that hit the prompt cache.
    pub summarizer_cache_hit_tokens: usize,
    /// Total cost in US dollars (`None` when the model has no known pricing).
    pub cost_usd: Option<f64>,
    /// Mean number of most-recent rounds present verbatim per request.
    pub mean_retained_rounds: f64,
    /// Largest prompt sent.
    pub max_prompt_tokens: usize,
    /// Number of summarizer calls.
    pub summarizer_calls: usize,
    /// Requests on which vector recall fell back to recency because its embedder or store
    /// failed ([`Turn::recall_error`]).
    pub recall_failures: usize,
}

/// A replay: its turns and totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    /// Per-request records.
    pub turns: Vec<Turn>,
    /// The totals.
    pub totals: Totals,
}

/// What a replay bills against.
#[derive(Debug, Clone)]
pub struct Billing {
    /// Prices, if known; without them costs are `None` (cache hits are still simulated).
    pub pricing: Option<Pricing>,
    /// The provider's prompt cache.
    pub cache: CacheModel,
}

impl Billing {
    /// Billing with the published pricing of `model` (no pricing: no cost, no cache).
    pub fn for_model(model: &str) -> Self {
        let pricing = Pricing::for_model(model);
        Billing {
            cache: pricing.map_or(CacheModel::NONE, |p| p.cache),
            pricing,
        }
    }
}

/// Replay the recorded conversation `recording` (its messages, and its tools and response
/// format if it has them) under `policy`.
///
/// `progress` is called after each request with (request number, total requests).
pub async fn replay(
    recording: &ChatRequest,
    spec: &str,
    policy: Box<dyn ContextPolicy>,
    counter: Arc<dyn PromptCounter>,
    limits: Limits,
    billing: &Billing,
    mut progress: impl FnMut(usize, usize),
) -> Result<Replay> {
    let tools = RequestTools::from_fields(&recording.fields);
    let recording = recording.messages.as_slice();
    let conversation = Conversation::new(recording);
    let leading = conversation.leading();
    let start = recording.get(..leading).unwrap_or_default().to_vec();
    let mut session = Session::new(Transcript::new(start), policy, Arc::clone(&counter), limits)
        .with_request_tools(tools.clone());
    let mut cache = CacheSimulator::new(billing.cache);
    let mut turns = Vec::new();
    let rounds = conversation.rounds();
    let plans: Vec<Vec<Action<'_>>> = rounds
        .iter()
        .enumerate()
        .map(|(index, round)| {
            let messages = recording.get(round.range()).unwrap_or_default();
            plan_round(messages, index + 1 == rounds.len())
        })
        .collect();
    let requests = plans
        .iter()
        .flatten()
        .filter(|action| matches!(action, Action::Call(_)))
        .count();
    let mut covered: HashSet<usize> = HashSet::new();
    let mut round_number = 0;
    for plan in &plans {
        let mut step = 0;
        for action in plan {
            let reply = match action {
                Action::Push(message) => {
                    session.push_message((*message).clone());
                    continue;
                }
                Action::Call(reply) => *reply,
            };
            if step == 0 {
                round_number += 1;
            }
            step += 1;
            // the summary text before this request (the summarizer merges into it)
            let previous_summary = session.state().summary.as_ref().map(|s| s.text.clone());
            let (sent, report) = session.prepare().await?;
            let history = session.transcript().messages();
            let tools_tokens = report.request_tokens;
            let prompt_tokens = report.tokens_after + tools_tokens;
            let cache_hit_tokens = cache
                .send(&blocks(&tools, tools_tokens, &sent, counter.as_ref()))
                .min(prompt_tokens);
            let output_tokens = reply.map_or(0, |message| counter.message_tokens(message, true));
            let summary = sent
                .iter()
                .find(|m| is_summary(m))
                .map(|m| m.content.text());
            let call = if report.summarizer_ran && report.summarizer_error.is_none() {
                let fresh: Vec<usize> = report
                    .summarized
                    .iter()
                    .copied()
                    .filter(|index| !covered.contains(index))
                    .collect();
                covered.extend(fresh.iter().copied());
                summarizer_call(
                    &fresh,
                    history,
                    leading,
                    previous_summary.as_deref(),
                    summary.as_deref(),
                    counter.as_ref(),
                    &mut cache,
                )
            } else {
                SummarizerCall::default()
            };
            let cost_usd = billing.pricing.map(|pricing| {
                pricing
                    .bill(prompt_tokens, cache_hit_tokens, output_tokens)
                    .usd
                    + pricing.bill(call.input, call.cache_hits, call.output).usd
            });
            turns.push(Turn {
                turn: turns.len() + 1,
                round: round_number,
                step,
                prompt_tokens,
                cache_hit_tokens,
                output_tokens,
                tokens_left_out: report.tokens_before.saturating_sub(report.tokens_after),
                dropped: report.dropped.len(),
                summarized: report.summarized.len(),
                summarizer_called: report.summarizer_ran,
                summarizer_tokens: call.input + call.output,
                summarizer_cache_hit_tokens: call.cache_hits,
                retained_rounds: retained_rounds(history, &report.kept),
                cleared: report.cleared.len(),
                tokens_cleared: report.tokens_cleared,
                capped: report.capped.len(),
                tokens_capped: report.tokens_capped,
                cost_usd,
                recall_error: report.recall_error.clone(),
            });
            progress(turns.len(), requests);
            if let Some(reply) = reply {
                session.record_reply(reply.clone());
            }
        }
    }
    let totals = totals(spec, &turns);
    Ok(Replay { turns, totals })
}

/// One thing a replay does with a recorded message.
#[derive(Debug, Clone, Copy)]
enum Action<'a> {
    /// Push the message into the transcript (history: a user turn, a tool result...).
    Push(&'a Message),
    /// Prepare and bill a request; then record the reply it got, if the recording has one.
    Call(Option<&'a Message>),
}

/// What a replay does with one round of the recording (`last`: the recording's last round).
///
/// A round that does not start with a user turn (a greeting before the first one) is history.
/// Otherwise there is a request before each assistant message, its reply; a round without
/// one is a single request right after its user turn, billed with no output. When the last
/// round ends with tool results after its last assistant message, the recording ends in an
/// open tool loop, and the call that continues it is one more request.
fn plan_round(messages: &[Message], last: bool) -> Vec<Action<'_>> {
    let Some((first, rest)) = messages.split_first() else {
        return Vec::new();
    };
    if first.role != Role::User {
        return messages.iter().map(Action::Push).collect();
    }
    let mut plan = vec![Action::Push(first)];
    if !rest.iter().any(|message| message.role == Role::Assistant) {
        plan.push(Action::Call(None));
        plan.extend(rest.iter().map(Action::Push));
        return plan;
    }
    for message in rest {
        plan.push(if message.role == Role::Assistant {
            Action::Call(Some(message))
        } else {
            Action::Push(message)
        });
    }
    if last
        && rest
            .last()
            .is_some_and(|message| message.role == Role::Tool)
    {
        plan.push(Action::Call(None));
    }
    plan
}

/// The tokens of one summarizer call.
#[derive(Debug, Clone, Copy, Default)]
struct SummarizerCall {
    input: usize,
    cache_hits: usize,
    output: usize,
}

/// What a summarizer call costs: its request is the conversation's own prefix (the leading
/// instructions and the previous summary), the newly summarized messages (`fresh`) and the
/// instruction ([`SummaryInput::to_messages`] with the default prompt), sent through the same
/// prompt cache as the conversation; the new summary comes out.
fn summarizer_call(
    fresh: &[usize],
    history: &[Message],
    leading: usize,
    previous: Option<&str>,
    summary: Option<&str>,
    counter: &dyn PromptCounter,
    cache: &mut CacheSimulator,
) -> SummarizerCall {
    let messages: Vec<Message> = fresh
        .iter()
        .filter_map(|&index| history.get(index).cloned())
        .collect();
    let mut prefix: Vec<Message> = history.get(..leading).unwrap_or_default().to_vec();
    if let Some(previous) = previous {
        prefix.push(summary_message(previous));
    }
    let input = SummaryInput::new(messages, previous.map(str::to_string)).with_prefix(prefix);
    let request = input.to_messages(DEFAULT_PROMPT);
    let cache_hits = cache.send(&blocks(&RequestTools::new(), 0, &request, counter));
    let output = summary.map_or(0, |text| {
        counter.message_tokens(&Message::assistant(text), true)
    });
    SummarizerCall {
        input: counter.count(&request),
        cache_hits,
        output,
    }
}

/// The prompt-cache blocks of a request: the request-level fields (`tools_tokens` of them),
/// which providers render ahead of the conversation, then one block per message.
fn blocks(
    tools: &RequestTools,
    tools_tokens: usize,
    messages: &[Message],
    counter: &dyn PromptCounter,
) -> Vec<PromptBlock> {
    let head = (tools_tokens > 0).then(|| {
        let fields: Vec<String> = tools
            .tools()
            .iter()
            .chain(tools.response_format())
            .map(|value| value.to_string())
            .collect();
        PromptBlock::of(&fields, tools_tokens)
    });
    let body = messages.iter().enumerate().map(|(position, message)| {
        let in_last = position + 1 == messages.len();
        PromptBlock::of(
            &message.to_value().to_string(),
            counter.message_tokens(message, in_last),
        )
    });
    head.into_iter().chain(body).collect()
}

/// How many of the newest rounds of `history` are sent in full.
pub fn retained_rounds(history: &[Message], kept: &[usize]) -> usize {
    let kept: HashSet<usize> = kept.iter().copied().collect();
    Conversation::new(history)
        .rounds()
        .iter()
        .rev()
        .take_while(|round| round.range().all(|index| kept.contains(&index)))
        .count()
}

fn totals(spec: &str, turns: &[Turn]) -> Totals {
    let count = turns.len();
    Totals {
        policy: spec.to_string(),
        turns: count,
        prompt_tokens: turns.iter().map(|t| t.prompt_tokens).sum(),
        cache_hit_tokens: turns.iter().map(|t| t.cache_hit_tokens).sum(),
        summarizer_tokens: turns.iter().map(|t| t.summarizer_tokens).sum(),
        summarizer_cache_hit_tokens: turns.iter().map(|t| t.summarizer_cache_hit_tokens).sum(),
        cost_usd: turns.iter().map(|t| t.cost_usd).sum::<Option<f64>>(),
        mean_retained_rounds: if count == 0 {
            0.0
        } else {
            turns.iter().map(|t| t.retained_rounds as f64).sum::<f64>() / count as f64
        },
        max_prompt_tokens: turns.iter().map(|t| t.prompt_tokens).max().unwrap_or(0),
        summarizer_calls: turns.iter().filter(|t| t.summarizer_called).count(),
        recall_failures: turns.iter().filter(|t| t.recall_error.is_some()).count(),
    }
}
