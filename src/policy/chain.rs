//! Apply policies one after the other.

use async_trait::async_trait;

use super::{ContextPolicy, Input, Outcome, PolicyState};
use crate::conversation::Conversation;
use crate::error::{Error, Result};

/// Applies its policies in order, each to the previous one's output: `Chain` of
/// [`super::LastRounds`] and [`super::TokenBudget`] keeps at most N rounds *and* fits the
/// window.
///
/// In later stages the pinned messages stay pinned and a summary message is pinned too. The
/// report speaks of the original history: `kept`, `dropped` and `summarized` are original
/// indices, `tokens_before` is the full history's count and `tokens_after` the final one.
/// A stateful policy ([`super::RollingSummary`]) belongs first.
///
/// ```
/// use std::num::NonZeroUsize;
/// use chatctx::policy::{Chain, LastRounds, TokenBudget};
///
/// let policy = Chain::new(LastRounds::new(NonZeroUsize::new(8).unwrap())).then(TokenBudget::new());
/// assert_eq!(policy.len(), 2);
/// ```
#[derive(Debug)]
pub struct Chain {
    policies: Vec<Box<dyn ContextPolicy>>,
}

impl Chain {
    /// A chain starting with `first`.
    pub fn new(first: impl ContextPolicy + 'static) -> Self {
        Chain {
            policies: vec![Box::new(first)],
        }
    }

    /// A chain of boxed policies; an empty chain sends the history unchanged.
    pub fn from_boxed(policies: Vec<Box<dyn ContextPolicy>>) -> Self {
        Chain { policies }
    }

    /// Append `next`, applied to the output of the policies before it.
    pub fn then(mut self, next: impl ContextPolicy + 'static) -> Self {
        self.policies.push(Box::new(next));
        self
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether the chain has no policy.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}

#[async_trait]
impl ContextPolicy for Chain {
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome> {
        let Some((first, rest)) = self.policies.split_first() else {
            return super::PassThrough.apply(input, state).await;
        };
        let mut outcome = first.apply(input, state).await?;
        let mut names = vec![outcome.report.policy.clone()];
        for policy in rest {
            let sources = outcome.sources.clone();
            let pinned = |index: usize, _: &_| {
                sources
                    .get(index)
                    .is_some_and(|source| source.map_or(true, |s| input.conversation.is_pinned(s)))
            };
            let conversation = Conversation::with_pins(&outcome.messages, pinned);
            // The history's counts serve the stage's unchanged messages: only the edited ones
            // (and any summary) are counted again.
            let stage_counts = input
                .counts
                .filter(|counts| counts.is_for(input.messages, input.counter))
                .map(|counts| {
                    let report = &outcome.report;
                    let mut edited: Vec<usize> = report
                        .cleared
                        .iter()
                        .chain(&report.capped)
                        .copied()
                        .collect();
                    edited.sort_unstable();
                    counts.for_stage(&outcome.messages, &sources, &edited, input.counter)
                });
            let mut stage_input = Input::new(
                &outcome.messages,
                &conversation,
                input.limits,
                input.counter,
            )
            .with_request_tokens(input.request_tokens);
            if let Some(counts) = &stage_counts {
                stage_input = stage_input.with_counts(counts);
            }
            let next = policy.apply(stage_input, state).await?;
            let original = |stage: &[usize]| -> Vec<usize> {
                stage
                    .iter()
                    .filter_map(|&index| sources.get(index).copied().flatten())
                    .collect()
            };
            let report = &mut outcome.report;
            report.kept = original(&next.report.kept);
            report.recalled.extend(original(&next.report.recalled));
            report
                .recalled
                .retain(|index| report.kept.binary_search(index).is_ok());
            report.recalled.sort_unstable();
            report.recalled.dedup();
            // A later stage may edit a message again (clear a capped result): the newest
            // edit names it.
            let cleared = original(&next.report.cleared);
            let capped = original(&next.report.capped);
            report
                .capped
                .retain(|index| cleared.binary_search(index).is_err());
            report
                .cleared
                .retain(|index| capped.binary_search(index).is_err());
            report.cleared.extend(cleared);
            report.capped.extend(capped);
            for list in [&mut report.cleared, &mut report.capped] {
                list.retain(|index| report.kept.binary_search(index).is_ok());
                list.sort_unstable();
                list.dedup();
            }
            report.tokens_cleared += next.report.tokens_cleared;
            report.tokens_capped += next.report.tokens_capped;
            report.summarized.extend(original(&next.report.summarized));
            report.summarized.sort_unstable();
            report.summarizer_ran |= next.report.summarizer_ran;
            report.summarizer_error = report
                .summarizer_error
                .take()
                .or(next.report.summarizer_error);
            report.recall_error = report.recall_error.take().or(next.report.recall_error);
            report.summarizer_tokens =
                match (report.summarizer_tokens, next.report.summarizer_tokens) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
            report.tokens_after = next.report.tokens_after;
            report.fits = next.report.fits;
            names.push(next.report.policy);
            outcome.sources = next
                .sources
                .iter()
                .map(|source| source.and_then(|index| sources.get(index).copied().flatten()))
                .collect();
            outcome.messages = next.messages;
        }
        let report = &mut outcome.report;
        report.policy = names.join("+");
        let n = input.messages.len();
        let mut accounted = vec![false; n];
        for &index in report.kept.iter().chain(&report.summarized) {
            match accounted.get_mut(index) {
                Some(slot) => *slot = true,
                None => {
                    return Err(Error::config(
                        "policy",
                        format!(
                            "a chained policy reported message {index} of a {n}-message history"
                        ),
                    ))
                }
            }
        }
        report.dropped = (0..n).filter(|&index| !accounted[index]).collect();
        Ok(outcome)
    }
}
