//! Summarize the older part of the conversation once the request grows past a threshold.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::select::{Selection, View};
use super::{ContextPolicy, Input, Outcome, PolicyState, SummaryState};
use crate::conversation::Round;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::summarizer::background;
use crate::summarizer::message::{summary_message, summary_text};
use crate::summarizer::{catch_panic, timeout, Summarizer, SummaryInput};

mod ahead;

use ahead::Ahead;

/// Keeps the request small by summarizing its older part.
///
/// While the request (pinned messages, the current summary, the rounds not yet summarized)
/// stays under `threshold × usable` tokens it is sent as it is. When it reaches the threshold,
/// the oldest not-yet-summarized rounds holding `fraction` of their tokens (more if needed to
/// get under the threshold; never the last round) go to the [`Summarizer`] together with the
/// previous summary, and the request becomes: leading instructions, ONE summary message (see
/// [`summary_message`]), other pinned messages, the recent rounds. The
/// [`PolicyState`] remembers the summary and how far it reaches, so no message is summarized
/// twice, and everything before the summary message is byte-identical from one compaction to
/// the next (provider prompt caches keep working).
///
/// If the summarizer fails, exceeds the timeout, or returns an empty summary or one not
/// shorter than what it replaces, the policy falls back to [`super::TokenBudget`] truncation
/// (keeping the previous summary when it fits) and reports the error; it never returns a
/// request over the window. Put it first in a [`super::Chain`]: its state refers to indices of
/// the full history.
///
/// # Default
///
/// - `threshold`: 0.7 of the usable tokens
/// - `fraction`: 0.5 (the older half of the pending rounds, by tokens)
/// - `timeout`: 120 seconds (runtime-agnostic: a timer thread)
#[derive(Clone)]
pub struct RollingSummary {
    summarizer: Arc<dyn Summarizer>,
    threshold: f64,
    fraction: f64,
    timeout: Duration,
    early: Option<f64>,
    ahead: Arc<Mutex<Option<Ahead>>>,
}

impl std::fmt::Debug for RollingSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollingSummary")
            .field("threshold", &self.threshold)
            .field("fraction", &self.fraction)
            .field("timeout", &self.timeout)
            .field("early", &self.early)
            .finish_non_exhaustive()
    }
}

impl RollingSummary {
    /// The default threshold, as a share of the usable tokens.
    pub const DEFAULT_THRESHOLD: f64 = 0.7;

    /// A rolling summary made by `summarizer`.
    pub fn new(summarizer: Arc<dyn Summarizer>) -> Self {
        RollingSummary {
            summarizer,
            threshold: Self::DEFAULT_THRESHOLD,
            fraction: 0.5,
            timeout: Duration::from_secs(120),
            early: None,
            ahead: Arc::new(Mutex::new(None)),
        }
    }

    /// Start the summarizer in the background once the request reaches `mark × usable`
    /// tokens (`0 < mark < threshold`), so that the summary is ready when the threshold is
    /// reached and preparing that request does not wait for it.
    ///
    /// Transactional: the prepared summary is used only if it is finished when the threshold is
    /// reached and still fits the history (same previous summary, same start, its rounds still
    /// pending); otherwise the policy behaves exactly as without it. A failed background call
    /// never changes anything. The call runs on the current tokio runtime when there is one
    /// (with the `http`, `postgres` or `cli` features), else on its own thread.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chatctx::policy::RollingSummary;
    /// use chatctx::summarizer::Extractive;
    /// let policy = RollingSummary::new(Arc::new(Extractive::new())).with_early_start(0.6);
    /// ```
    pub fn with_early_start(mut self, mark: f64) -> Self {
        self.early = Some(mark);
        self
    }

    /// Summarize when the request reaches `threshold × usable` tokens (`0 < threshold ≤ 1`).
    pub const fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Summarize the oldest pending rounds holding this share of their tokens (`0 < f ≤ 1`).
    pub const fn with_fraction(mut self, fraction: f64) -> Self {
        self.fraction = fraction;
        self
    }

    /// Give up on the summarizer after `timeout`.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The threshold.
    pub const fn threshold(&self) -> f64 {
        self.threshold
    }

    fn check(&self) -> Result<()> {
        if let Some(mark) = self.early {
            if !(mark > 0.0 && mark < self.threshold) {
                return Err(Error::config(
                    "early start",
                    format!("{mark} is not a share in (0, threshold {})", self.threshold),
                ));
            }
        }
        for (setting, value) in [("threshold", self.threshold), ("fraction", self.fraction)] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::config(
                    setting,
                    format!("{value} is not a share in (0, 1]"),
                ));
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!("rolling-summary:{}", self.threshold)
    }

    /// How many of the pending `rounds` to summarize (at least one, never the last).
    fn rounds_to_age(
        &self,
        view: &View<'_>,
        rounds: &[Round],
        previous: Option<&SummaryState>,
        now: usize,
        limit: f64,
    ) -> usize {
        let costs: Vec<usize> = rounds
            .iter()
            .map(|round| view.free_tokens(round.range()))
            .collect();
        let total: usize = costs.iter().sum();
        let most = rounds.len().saturating_sub(1);
        // The new summary will take about the room of the previous one, or of a short one.
        let reserve = match previous {
            Some(_) => 0, // already counted in `now`
            None => {
                view.input
                    .counter
                    .message_tokens(&summary_message(""), false)
                    + 16
            }
        };
        let (mut aged, mut tokens) = (0, 0);
        for &cost in &costs {
            let after = (now + reserve).saturating_sub(tokens);
            let enough = tokens as f64 >= self.fraction * total as f64 && (after as f64) < limit;
            if aged >= most || (aged > 0 && enough) {
                break;
            }
            tokens += cost;
            aged += 1;
        }
        aged
    }

    /// The summarizer's input for `aged` messages, and the tokens the summary replaces.
    fn summary_input(
        &self,
        view: &View<'_>,
        aged: &[usize],
        previous: Option<&SummaryState>,
    ) -> (SummaryInput, usize) {
        let input = view.input;
        let messages = aged
            .iter()
            .filter_map(|&index| input.messages.get(index).cloned())
            .collect();
        let previous_text = previous.map(|state| state.text.clone());
        let replaced: usize = aged.iter().map(|&index| view.tokens(index)).sum::<usize>()
            + previous_text.as_deref().map_or(0, |text| {
                input.counter.message_tokens(&summary_message(text), false)
            });
        // the conversation's own request prefix, so the summarizer's request hits the cache
        let mut prefix: Vec<Message> = (0..input.conversation.leading())
            .filter_map(|index| input.messages.get(index).cloned())
            .collect();
        if let Some(text) = previous_text.as_deref() {
            prefix.push(summary_message(text));
        }
        let summary_input = SummaryInput::new(messages, previous_text).with_prefix(prefix);
        (summary_input, replaced)
    }

    /// Ask the summarizer; `Err` carries the reason its result cannot be used.
    async fn summarize(
        &self,
        view: &View<'_>,
        aged: &[usize],
        previous: Option<&SummaryState>,
        selection: &mut Selection,
    ) -> std::result::Result<Message, String> {
        let (summary_input, replaced) = self.summary_input(view, aged, previous);
        selection.summarizer_ran = true;
        let call = self.summarizer.summarize(summary_input);
        // A panicking summarizer is reported like a failing one, never unwinds through here.
        let summary = match timeout(self.timeout, catch_panic(call)).await {
            None => Err(format!("timed out after {:?}", self.timeout)),
            Some(Err(panic)) => Err(format!("the summarizer panicked: {panic}")),
            Some(Ok(Err(error))) => Err(error.to_string()),
            Some(Ok(Ok(summary))) => Ok(summary),
        };
        accept(view, summary, replaced, selection)
    }
}

/// Check a summarizer's answer: not empty, and shorter than what it replaces.
fn accept(
    view: &View<'_>,
    summary: background::Outcome,
    replaced: usize,
    selection: &mut Selection,
) -> std::result::Result<Message, String> {
    let summary = summary?;
    selection.summarizer_tokens = summary.tokens_used;
    let text = summary.text.trim();
    if text.is_empty() {
        return Err("the summarizer returned an empty summary".into());
    }
    let message = summary_message(text);
    let tokens = view.input.counter.message_tokens(&message, false);
    if tokens >= replaced {
        return Err(format!(
            "the summary ({tokens} tokens) is not shorter than what it replaces ({replaced} tokens)"
        ));
    }
    Ok(message)
}

#[async_trait]
impl ContextPolicy for RollingSummary {
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome> {
        let usable = input.check()?;
        self.check()?;
        let view = View::new(&input, usable);
        let conversation = input.conversation;
        let leading = conversation.leading();
        let rounds = conversation.rounds();
        let covered = match &state.summary {
            None => leading,
            Some(summary) => {
                let at = summary.covers_until;
                if at != leading && !rounds.iter().any(|round| round.start() == at) {
                    return Err(Error::config(
                        "policy state",
                        format!("the summary reaches message {at}, which starts no round of this {}-message history", input.messages.len()),
                    ));
                }
                at
            }
        };
        let pending = rounds
            .get(rounds.partition_point(|round| round.start() < covered)..)
            .unwrap_or_default();
        let summarized = |until: usize| -> Vec<usize> {
            (leading..until)
                .filter(|&index| !conversation.is_pinned(index))
                .collect()
        };
        let previous = state.summary.as_ref().map(|s| summary_message(&s.text));
        let current = Selection {
            kept: view.keep_from(covered),
            summary: previous.clone(),
            summarized: summarized(covered),
            ..Selection::default()
        };
        let now = view.count(&current);
        let limit = self.threshold * usable as f64;
        if (now as f64) < limit {
            if let Some(mark) = self.early {
                if now as f64 >= mark * usable as f64 && pending.len() >= 2 {
                    self.start_ahead(&view, pending, covered, state.summary.as_ref(), now, limit);
                }
            }
            return Ok(view.finish(&self.name(), current));
        }

        let mut selection = Selection::default();
        let mut error = None;
        if pending.len() >= 2 {
            let ready = self.take_ahead(pending, covered, state.summary.as_ref());
            let count = match &ready {
                Some((split, _)) => pending
                    .iter()
                    .position(|round| round.start() == *split)
                    .unwrap_or(0),
                None => self.rounds_to_age(&view, pending, state.summary.as_ref(), now, limit),
            };
            let split = pending
                .get(count)
                .map_or(input.messages.len(), Round::start);
            let aged: Vec<usize> = (covered..split)
                .filter(|&index| !conversation.is_pinned(index))
                .collect();
            let made = match ready {
                // made ahead of time: checked like a fresh answer
                Some((_, outcome)) => {
                    selection.summarizer_ran = true;
                    let (_, replaced) = self.summary_input(&view, &aged, state.summary.as_ref());
                    accept(&view, outcome, replaced, &mut selection)
                }
                None => {
                    self.summarize(&view, &aged, state.summary.as_ref(), &mut selection)
                        .await
                }
            };
            match made {
                Ok(message) => {
                    // Below the threshold if the summary and the last round allow it, else
                    // within the window; rounds left out here are summarized next time.
                    let recent = pending.get(count..).unwrap_or_default();
                    let below = (limit.ceil() as usize).saturating_sub(1).min(usable);
                    let fitted = view
                        .fit_within(recent, Some(message.clone()), below)
                        .or_else(|_| view.fit_suffix(recent, Some(message)));
                    match fitted {
                        Ok(fitted) => {
                            let text = summary_text(fitted.summary.as_ref());
                            state.summary = Some(SummaryState {
                                text,
                                covers_until: split,
                            });
                            selection.kept = fitted.kept;
                            selection.summary = fitted.summary;
                            selection.summarized = summarized(split);
                            return Ok(view.finish(&self.name(), selection));
                        }
                        Err(err) => error = Some(err.to_string()),
                    }
                }
                Err(reason) => error = Some(reason),
            }
        }

        // Fallback: token-budget truncation of the pending rounds, with the previous summary
        // when it fits.
        let (fitted, summarized) = match view.fit_suffix(pending, previous.clone()) {
            Ok(fitted) => (fitted, summarized(covered)),
            Err(err) if previous.is_none() => return Err(err),
            Err(_) => (view.fit_suffix(pending, None)?, Vec::new()),
        };
        selection.kept = fitted.kept;
        selection.summary = fitted.summary;
        selection.summarized = summarized;
        selection.summarizer_error = error;
        Ok(view.finish(&self.name(), selection))
    }
}

#[cfg(test)]
mod tests;
