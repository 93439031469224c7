//! The shared machinery of the policies: counting a selection, building the messages to send,
//! fitting the newest whole rounds into a budget, and writing the report.

use std::collections::BTreeMap;

use super::{Input, MessageCounts, Outcome, Report};
use crate::conversation::{Round, Step};
use crate::error::{Error, Result};
use crate::message::{Message, Role};

/// How a sent message differs from its history message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditKind {
    /// An old tool result replaced by a placeholder ([`super::ClearTools`]).
    Cleared,
    /// An oversized message cut to its first and last parts ([`super::Cap`]).
    Capped,
}

/// A history message sent altered, and the tokens that saves.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    pub(crate) message: Message,
    pub(crate) kind: EditKind,
    pub(crate) saved: usize,
    /// Prompt tokens of `message` at its history index ([`View::tokens_of`]).
    pub(crate) tokens: usize,
}

/// A message a selection sends: the message, its history index (`None` for the summary) and
/// the tokens of the edit it is, if any (see [`View::sent`]).
type Sent<'a> = (&'a Message, Option<usize>, Option<usize>);

/// Which history messages a policy sends, and what stands in for the others.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// History indices sent as they are, ascending.
    pub(crate) kept: Vec<usize>,
    /// The summary message, sent right after the leading instructions.
    pub(crate) summary: Option<Message>,
    /// History indices the summary represents, ascending.
    pub(crate) summarized: Vec<usize>,
    /// History indices of recalled rounds (a subset of `kept`), ascending.
    pub(crate) recalled: Vec<usize>,
    pub(crate) summarizer_ran: bool,
    pub(crate) summarizer_error: Option<String>,
    pub(crate) summarizer_tokens: Option<u64>,
    /// Kept history indices sent altered, with what is sent instead.
    pub(crate) edits: BTreeMap<usize, Edit>,
}

impl Selection {
    pub(crate) fn keep(kept: Vec<usize>) -> Self {
        Selection {
            kept,
            ..Selection::default()
        }
    }
}

/// A history seen by a policy, with the per-message counts it needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) input: Input<'a>,
    pub(crate) usable: usize,
    last_user: usize,
    /// The input's counts, when they are for its messages and counter.
    counts: Option<&'a MessageCounts>,
    /// Whether the counter derives whole counts from them
    /// ([`crate::template::PromptCounter::count_with_own`]).
    derives: bool,
}

impl<'a> View<'a> {
    pub(crate) fn new(input: &Input<'a>, usable: usize) -> Self {
        let last_user = input
            .messages
            .iter()
            .rposition(|message| message.role == Role::User)
            .unwrap_or(0);
        // (checked once here: every count is then read by index)
        let counts = input
            .counts
            .filter(|counts| counts.is_for(input.messages, input.counter));
        // a counter that cannot derive a whole count (it answers `None` even for no
        // messages) counts selections itself: no need to gather their own counts first
        let derives = counts.is_some() && input.counter.count_with_own(&[], &[]).is_some();
        View {
            input: *input,
            usable,
            last_user,
            counts,
            derives,
        }
    }

    /// Tokens of history message `index` inside a prompt.
    pub(crate) fn tokens(&self, index: usize) -> usize {
        self.input.messages.get(index).map_or(0, |message| {
            let in_last_round = index >= self.last_user;
            // counts checked for these messages in `View::new`
            self.counts
                .and_then(|counts| counts.get(index))
                .unwrap_or_else(|| self.input.counter.message_tokens(message, in_last_round))
        })
    }

    /// Prompt tokens of a selection derived from the kept counts
    /// ([`crate::template::PromptCounter::count_with_own`]), without building its messages;
    /// `None` without counts or when the counter cannot.
    fn counted(&self, selection: &Selection) -> Option<usize> {
        if !self.derives {
            return None;
        }
        let sent = self.sent(selection);
        let messages: Vec<&Message> = sent.iter().map(|&(message, _, _)| message).collect();
        let last_user = messages
            .iter()
            .rposition(|message| message.role == Role::User)
            .unwrap_or(0);
        let own: Vec<usize> = sent
            .iter()
            .enumerate()
            .map(|(position, &(message, index, edited))| {
                let in_last_round = position >= last_user;
                match index {
                    // the same side of the last round as in the history: the known count
                    Some(index) if in_last_round == (index >= self.last_user) => {
                        edited.unwrap_or_else(|| self.tokens(index))
                    }
                    _ => self.input.counter.message_tokens(message, in_last_round),
                }
            })
            .collect();
        self.input.counter.count_with_own(&messages, &own)
    }

    /// Tokens of `message` standing in for history message `index` inside a prompt.
    pub(crate) fn tokens_of(&self, message: &Message, index: usize) -> usize {
        self.input
            .counter
            .message_tokens(message, index >= self.last_user)
    }

    /// Tokens of the messages of `range` (a round or a step) that are not pinned (pinned ones
    /// are sent anyway).
    pub(crate) fn free_tokens(&self, range: std::ops::Range<usize>) -> usize {
        range
            .filter(|&index| !self.input.conversation.is_pinned(index))
            .map(|index| self.tokens(index))
            .sum()
    }

    /// The pinned messages before `start`, then every message from `start` on.
    ///
    /// `start` is a round start or a step start; when it lies inside a round, the round's
    /// opening message (the user's request) is kept too: the newest steps are sent after the
    /// request they work on.
    pub(crate) fn keep_from(&self, start: usize) -> Vec<usize> {
        let conversation = self.input.conversation;
        let rounds = conversation.rounds();
        let opening = rounds
            .get(rounds.partition_point(|round| round.end() <= start))
            .filter(|round| round.start() < start)
            .map(Round::start);
        let pinned = conversation.pinned();
        let before = pinned.partition_point(|&index| index < start);
        let mut kept = pinned.get(..before).unwrap_or_default().to_vec();
        if let Some(opening) = opening {
            if let Err(at) = kept.binary_search(&opening) {
                kept.insert(at, opening);
            }
        }
        kept.extend(start..self.input.messages.len());
        kept
    }

    /// The messages a selection sends, with their history indices.
    pub(crate) fn build(&self, selection: &Selection) -> (Vec<Message>, Vec<Option<usize>>) {
        self.sent(selection)
            .into_iter()
            .map(|(message, index, _)| (message.clone(), index))
            .unzip()
    }

    /// The messages a selection sends, in order: each with its history index (`None` for the
    /// summary) and, for an edit standing in for a history message, the edit's tokens. The
    /// summary goes after the leading instructions.
    fn sent<'s>(&'s self, selection: &'s Selection) -> Vec<Sent<'s>> {
        let leading = self.input.conversation.leading();
        let at = selection.kept.partition_point(|&index| index < leading);
        let mut sent = Vec::with_capacity(selection.kept.len() + 1);
        for (position, &index) in selection.kept.iter().enumerate() {
            if position == at {
                if let Some(summary) = &selection.summary {
                    sent.push((summary, None, None));
                }
            }
            match selection.edits.get(&index) {
                Some(edit) => sent.push((&edit.message, Some(index), Some(edit.tokens))),
                None => {
                    if let Some(message) = self.input.messages.get(index) {
                        sent.push((message, Some(index), None));
                    }
                }
            }
        }
        if at == selection.kept.len() {
            if let Some(summary) = &selection.summary {
                sent.push((summary, None, None));
            }
        }
        sent
    }

    /// Prompt tokens of a selection.
    pub(crate) fn count(&self, selection: &Selection) -> usize {
        if let Some(tokens) = self.counted(selection) {
            return tokens;
        }
        let everything = selection.kept.len() == self.input.messages.len();
        if everything && selection.summary.is_none() && selection.edits.is_empty() {
            // the history as it is: count it without copying it
            return self.input.counter.count(self.input.messages);
        }
        self.input.counter.count(&self.build(selection).0)
    }

    /// Whether a selection certainly exceeds `budget`: its messages' own tokens alone do
    /// (the framing overhead only adds). Cheaper than [`View::count`] on a large selection.
    fn surely_over(&self, selection: &Selection, budget: usize) -> bool {
        let mut own = 0;
        for &index in &selection.kept {
            own += match selection.edits.get(&index) {
                Some(edit) => edit.tokens,
                None => self.tokens(index),
            };
            if own > budget {
                return true;
            }
        }
        false
    }

    /// Pinned messages, `summary`, the last of `rounds` and as many of the newest other
    /// `rounds` as fit the usable tokens: the token-budget rule.
    ///
    /// `rounds` is a suffix of the conversation's rounds; everything before it except the
    /// pinned messages is left out. Fails with [`Error::DoesNotFit`] when the pinned messages,
    /// the summary and the last round alone are too many tokens.
    pub(crate) fn fit_suffix(
        &self,
        rounds: &[Round],
        summary: Option<Message>,
    ) -> Result<Selection> {
        self.fit_within(rounds, summary, self.usable)
    }

    /// [`View::fit_suffix`] with `budget` tokens instead of the usable tokens.
    ///
    /// When the last round does not fit whole, its opening message and as many of its newest
    /// whole steps as fit are kept instead ([`View::fit_steps`]).
    pub(crate) fn fit_within(
        &self,
        rounds: &[Round],
        summary: Option<Message>,
        budget: usize,
    ) -> Result<Selection> {
        let n = self.input.messages.len();
        let last_start = rounds.last().map_or(n, Round::start);
        let mut selection = Selection {
            kept: self.keep_from(last_start),
            summary,
            ..Selection::default()
        };
        if self.surely_over(&selection, budget) {
            return self.fit_steps(rounds.last(), selection, None, budget);
        }
        let required = self.count(&selection);
        if required > budget {
            return self.fit_steps(rounds.last(), selection, Some(required), budget);
        }
        let older = rounds.len().saturating_sub(1);
        let starts: Vec<usize> = rounds
            .get(..older)
            .unwrap_or_default()
            .iter()
            .map(Round::start)
            .collect();
        let costs = rounds
            .get(..older)
            .unwrap_or_default()
            .iter()
            .map(|round| self.free_tokens(round.range()));
        selection.kept = self.grow(&selection, &starts, costs, budget - required, budget);
        Ok(selection)
    }

    /// The newest of the units starting at `starts` (oldest first, each costing the matching
    /// item of `costs`, newest last) that fit `room` more tokens, added to `base` newest first;
    /// returns the kept indices. The framing overhead may change with the selection: the real
    /// count is checked and units are given back until it fits `budget` (`base` alone does).
    fn grow(
        &self,
        base: &Selection,
        starts: &[usize],
        costs: impl DoubleEndedIterator<Item = usize>,
        room: usize,
        budget: usize,
    ) -> Vec<usize> {
        let mut spent = 0;
        let mut take = 0;
        for cost in costs.rev() {
            if spent + cost > room {
                break;
            }
            spent += cost;
            take += 1;
        }
        let mut candidate = base.clone();
        while take > 0 {
            if let Some(&start) = starts.get(starts.len() - take) {
                candidate.kept = self.keep_from(start);
                if !self.surely_over(&candidate, budget) && self.count(&candidate) <= budget {
                    return candidate.kept;
                }
            }
            take -= 1;
        }
        base.kept.clone()
    }

    /// The last round does not fit whole (`whole` tokens with the rest of `selection`): keep
    /// its opening message and as many of its newest whole steps as fit `budget`.
    ///
    /// Fails with [`Error::DoesNotFit`] when the pinned messages, the summary, the opening
    /// message and the newest step alone are too many tokens.
    pub(crate) fn fit_steps(
        &self,
        last: Option<&Round>,
        mut selection: Selection,
        whole: Option<usize>,
        budget: usize,
    ) -> Result<Selection> {
        let n = self.input.messages.len();
        let last_start = last.map_or(n, Round::start);
        let steps: &[Step] = last.map_or(&[], |round| self.input.conversation.steps_in(round));
        let (Some(newest), true) = (steps.last(), steps.len() >= 2) else {
            self.check_pinned(budget)?;
            return Err(Error::DoesNotFit {
                required: whole.unwrap_or_else(|| self.count(&selection)),
                available: budget,
                what: self.mandatory_description(last_start, selection.summary.is_some()),
            });
        };
        selection.kept = self.keep_from(newest.start());
        let required = self.count(&selection);
        if required > budget {
            self.check_pinned(budget)?;
            return Err(Error::DoesNotFit {
                required,
                available: budget,
                what: self.steps_description(last_start, newest, selection.summary.is_some()),
            });
        }
        let older = steps.get(1..steps.len() - 1).unwrap_or_default();
        let starts: Vec<usize> = older.iter().map(Step::start).collect();
        let costs = older.iter().map(|step| self.free_tokens(step.range()));
        selection.kept = self.grow(&selection, &starts, costs, budget - required, budget);
        Ok(selection)
    }

    /// Fails with [`Error::DoesNotFit`] naming the pinned messages when they alone exceed
    /// `budget`.
    pub(crate) fn check_pinned(&self, budget: usize) -> Result<()> {
        let pinned = self.input.conversation.pinned();
        let required = self.count(&Selection::keep(pinned.to_vec()));
        if required <= budget {
            return Ok(());
        }
        let mut indices: Vec<String> = pinned.iter().take(8).map(usize::to_string).collect();
        if pinned.len() > 8 {
            indices.push("...".into());
        }
        Err(Error::DoesNotFit {
            required,
            available: budget,
            what: format!(
                "the {} pinned messages alone (messages {})",
                pinned.len(),
                indices.join(", ")
            ),
        })
    }

    fn mandatory_description(&self, last_start: usize, summary: bool) -> String {
        let pinned = self.input.conversation.pinned().len();
        let n = self.input.messages.len();
        let mut what = format!("the {pinned} pinned messages");
        if summary {
            what.push_str(", the summary");
        }
        if last_start < n {
            what.push_str(&format!(" and the last round (messages {last_start}..{n})"));
        }
        what
    }

    fn steps_description(&self, last_start: usize, newest: &Step, summary: bool) -> String {
        let pinned = self.input.conversation.pinned().len();
        let mut what = format!("the {pinned} pinned messages");
        if summary {
            what.push_str(", the summary");
        }
        what.push_str(&format!(
            ", the request that opens the last round (message {last_start}) and its newest step (messages {}..{})",
            newest.start(),
            newest.end()
        ));
        what
    }

    /// The outcome of a selection, with its report.
    pub(crate) fn finish(&self, policy: &str, selection: Selection) -> Outcome {
        let (messages, sources) = self.build(&selection);
        let tokens_after = self
            .counted(&selection)
            .unwrap_or_else(|| self.input.counter.count(&messages));
        let n = self.input.messages.len();
        let mut fate = vec![false; n];
        for &index in selection.kept.iter().chain(&selection.summarized) {
            if let Some(slot) = fate.get_mut(index) {
                *slot = true;
            }
        }
        let dropped = (0..n).filter(|&index| !fate[index]).collect();
        let edited = |kind: EditKind| -> (Vec<usize>, usize) {
            let mut indices = Vec::new();
            let mut saved = 0;
            for (&index, edit) in &selection.edits {
                if edit.kind == kind && selection.kept.binary_search(&index).is_ok() {
                    indices.push(index);
                    saved += edit.saved;
                }
            }
            (indices, saved)
        };
        let (cleared, tokens_cleared) = edited(EditKind::Cleared);
        let (capped, tokens_capped) = edited(EditKind::Capped);
        let report = Report {
            policy: policy.to_string(),
            tokens_before: self
                .counts
                .filter(|_| self.derives)
                .and_then(|counts| counts.derived(self.input.messages, self.input.counter))
                .unwrap_or_else(|| self.input.counter.count(self.input.messages)),
            tokens_after,
            usable: self.usable,
            kept: selection.kept,
            dropped,
            summarized: selection.summarized,
            recalled: selection.recalled,
            cleared,
            tokens_cleared,
            capped,
            tokens_capped,
            summarizer_ran: selection.summarizer_ran,
            summarizer_error: selection.summarizer_error,
            summarizer_tokens: selection.summarizer_tokens,
            recall_error: None,
            request_tokens: self.input.request_tokens,
            fits: tokens_after <= self.usable,
        };
        Outcome {
            messages,
            sources,
            report,
        }
    }
}
