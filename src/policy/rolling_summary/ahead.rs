//! Summarizing ahead of the threshold: a background summary started early, taken when the
//! threshold is reached if it still fits the history.

use std::sync::{Arc, PoisonError};

use super::RollingSummary;
use crate::conversation::Round;
use crate::policy::select::View;
use crate::policy::SummaryState;
use crate::summarizer::background::{self, Background};

/// A summary being made ahead of the threshold, and what it is for.
#[derive(Debug)]
pub(super) struct Ahead {
    /// Where the summarized part started (the state's `covers_until` then).
    covered: usize,
    /// Where it ends: the first message not summarized.
    split: usize,
    /// The summary it merges into.
    previous: Option<String>,
    job: Background,
}

impl RollingSummary {
    /// Start a background summary of the rounds a compaction would age now, unless one for the
    /// same starting point is already under way.
    pub(super) fn start_ahead(
        &self,
        view: &View<'_>,
        pending: &[Round],
        covered: usize,
        previous: Option<&SummaryState>,
        now: usize,
        limit: f64,
    ) {
        let mut ahead = self.ahead.lock().unwrap_or_else(PoisonError::into_inner);
        let previous_text = previous.map(|state| state.text.clone());
        if ahead
            .as_ref()
            .is_some_and(|a| a.covered == covered && a.previous == previous_text)
        {
            return;
        }
        let count = self.rounds_to_age(view, pending, previous, now, limit);
        let Some(split) = pending.get(count).map(Round::start) else {
            return;
        };
        let aged: Vec<usize> = (covered..split)
            .filter(|&index| !view.input.conversation.is_pinned(index))
            .collect();
        let (summary_input, _) = self.summary_input(view, &aged, previous);
        let job = Background::start(Arc::clone(&self.summarizer), summary_input, self.timeout);
        *ahead = Some(Ahead {
            covered,
            split,
            previous: previous_text,
            job,
        });
    }

    /// A finished background summary for this compaction, with where it ends; anything else
    /// (not finished, made for another state) is discarded.
    pub(super) fn take_ahead(
        &self,
        pending: &[Round],
        covered: usize,
        previous: Option<&SummaryState>,
    ) -> Option<(usize, background::Outcome)> {
        let ahead = self
            .ahead
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let last = pending.last().map(Round::start)?;
        let still_pending = pending.iter().any(|round| round.start() == ahead.split);
        let same = ahead.covered == covered
            && ahead.previous.as_deref() == previous.map(|state| state.text.as_str());
        if !(same && still_pending && ahead.split < last && ahead.split > covered) {
            return None;
        }
        ahead.job.try_take().map(|outcome| (ahead.split, outcome))
    }
}
