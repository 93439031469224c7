//! Bring back the older rounds relevant to the question, then fill with the newest rounds.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;

use async_trait::async_trait;

use super::select::{Selection, View};
use super::{ContextPolicy, Input, Outcome, PolicyState};
use crate::conversation::Round;
use crate::error::Result;
use crate::message::Role;
use crate::retrieval::{Hit, Index};

/// Sends the pinned messages, up to `rounds` older rounds recalled from a vector [`Index`] for
/// their similarity to the last user message, and as many of the newest rounds as fit.
///
/// On every request it first indexes the finished rounds (all but the last) that the index's
/// store does not hold yet, so a [`crate::Session`] needs nothing more than
/// [`crate::Session::prepare`]: each round is embedded once, on the first request after it is
/// finished. It then searches the `rounds` stored rounds nearest to the last user message and,
/// nearest first, keeps each one whose tokens still fit the budget (`window - reserved`, after
/// the pinned messages and the last round); then it fills what is left with the newest rounds,
/// newest first, up to the first one that does not fit. Whole rounds only, in their original
/// order: recalled rounds come before the recent ones, each round is sent at most once, and the
/// last round is always sent. The [`super::Report`] lists the recalled messages in `recalled`
/// (rounds the recency fill would have sent anyway are not counted as recalled).
///
/// Hits whose round no longer matches the history (the store describes another message range)
/// are ignored, as are hits not above the minimum score. Put it first in a [`super::Chain`]: it
/// indexes the history it is given, by round position. Fails with [`crate::Error::DoesNotFit`]
/// when the pinned messages and the last round do not fit.
///
/// When indexing or searching fails (the embedder is down, times out or returns vectors of the
/// wrong dimension; the store is unreachable), the policy falls back to recency: it recalls
/// nothing, sends the newest rounds that fit (what [`super::TokenBudget`] sends) and says why
/// in [`super::Report::recall_error`]. Nothing is lost: the rounds that could not be embedded
/// are not in the store, so the next request embeds them. With
/// [`Recall::with_fail_on_error`] it fails with the embedder's or the store's error instead
/// ([`crate::Error::Embedder`], [`crate::Error::Store`], [`crate::Error::DimensionMismatch`]).
///
/// # Default
///
/// - `min_score`: 0.0 (a recalled round must have a positive cosine similarity)
/// - `fail_on_error`: false (fall back to recency and report the error)
///
/// ```
/// use std::num::NonZeroUsize;
/// use chatctx::conversation::Conversation;
/// use chatctx::message::Message;
/// use chatctx::policy::{ContextPolicy, Input, Limits, PolicyState, Recall};
/// use chatctx::retrieval::Index;
/// # use chatctx::template::PromptCounter;
/// # #[derive(Debug)]
/// # struct Bytes;
/// # impl PromptCounter for Bytes {
/// #     fn message_tokens(&self, m: &Message, _: bool) -> usize { 3 + m.content.text().len() }
/// #     fn overhead(&self, _: &[Message]) -> usize { 2 }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// let history = vec![
///     Message::user("My sister's cat is called Pistachio."), // 39 tokens
///     Message::assistant("Nice name!"),                      // 13
///     Message::user("I like indie music."),                   // 22
///     Message::assistant("Me too."),                         // 10
///     Message::user("What is my sister's cat called?"),      // 34
/// ];
/// let conversation = Conversation::new(&history);
/// let policy = Recall::new(Index::in_memory("chat-42"), NonZeroUsize::MIN);
/// let input = Input::new(&history, &conversation, Limits::new(100, 10), &Bytes);
/// let outcome = policy.apply(input, &mut PolicyState::default()).await?;
/// // 2 + 34 + 52 = 88 <= 90: the cat round is recalled; the music round no longer fits.
/// assert_eq!(outcome.report.kept, vec![0, 1, 4]);
/// assert_eq!(outcome.report.recalled, vec![0, 1]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Recall {
    index: Index,
    rounds: NonZeroUsize,
    min_score: f32,
    fail_on_error: bool,
}

impl Recall {
    /// Recall at most `rounds` rounds from `index`.
    pub fn new(index: Index, rounds: NonZeroUsize) -> Self {
        Recall {
            index,
            rounds,
            min_score: 0.0,
            fail_on_error: false,
        }
    }

    /// Fail with the embedder's or the store's error instead of falling back to recency.
    pub const fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.fail_on_error = fail;
        self
    }

    /// Only recall rounds whose cosine similarity to the question is above `min_score`.
    pub const fn with_min_score(mut self, min_score: f32) -> Self {
        self.min_score = min_score;
        self
    }

    /// The most rounds recalled per request.
    pub const fn rounds(&self) -> NonZeroUsize {
        self.rounds
    }

    /// The index rounds are stored in and recalled from.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Whether `hit` is a round of the history, matching the stored message range.
    fn matches(hit: &Hit, older: &[Round]) -> bool {
        older
            .get(hit.round)
            .is_some_and(|round| round.start() == hit.start && round.end() == hit.end)
    }
}

#[async_trait]
impl ContextPolicy for Recall {
    async fn apply(&self, input: Input<'_>, _state: &mut PolicyState) -> Result<Outcome> {
        let usable = input.check()?;
        let view = View::new(&input, usable);
        let name = format!("recall:{}", self.rounds);
        let rounds = input.conversation.rounds();
        let Some((last, older)) = rounds.split_last() else {
            let selection = view.fit_suffix(rounds, None)?;
            return Ok(view.finish(&name, selection));
        };
        // The pinned messages and the last round, or DoesNotFit.
        let mandatory = view.fit_suffix(std::slice::from_ref(last), None)?;
        if mandatory.kept != view.keep_from(last.start()) {
            // Only the newest steps of the last round fit: no room for anything older.
            return Ok(view.finish(&name, mandatory));
        }
        let query = input
            .messages
            .iter()
            .rposition(|message| message.role == Role::User)
            .and_then(|index| input.messages.get(index))
            .map(|message| message.content.text())
            .unwrap_or_default();
        let k = if query.trim().is_empty() {
            0
        } else {
            self.rounds.get()
        };
        let (hits, recall_error) = match self
            .index
            .index_and_search(input.messages, input.conversation, input.counter, &query, k)
            .await
        {
            Ok(hits) => (hits, None),
            Err(err) if !self.fail_on_error => (Vec::new(), Some(err.to_string())),
            Err(err) => return Err(err),
        };

        let mut fill = Fill {
            spent: view.count(&mandatory),
            usable,
            chosen: BTreeSet::new(),
            order: Vec::new(),
        };
        for hit in &hits {
            if hit.score > self.min_score && Recall::matches(hit, older) {
                if let Some(round) = older.get(hit.round) {
                    fill.take(hit.round, view.free_tokens(round.range()));
                }
            }
        }
        for (position, round) in older.iter().enumerate().rev() {
            if !fill.chosen.contains(&position)
                && !fill.take(position, view.free_tokens(round.range()))
            {
                break;
            }
        }
        let Fill {
            mut chosen,
            mut order,
            ..
        } = fill;

        // The framing overhead may change with the selection: give rounds back, the last
        // added first, until the real count fits (the mandatory part alone fits).
        let selection = loop {
            let selection = select(&view, older, &chosen, last.start());
            if order.is_empty() || view.count(&selection) <= usable {
                break selection;
            }
            if let Some(position) = order.pop() {
                chosen.remove(&position);
            }
        };
        let mut outcome = view.finish(&name, selection);
        outcome.report.recall_error = recall_error;
        Ok(outcome)
    }
}

/// The older rounds chosen so far and the tokens they and the mandatory part take.
struct Fill {
    spent: usize,
    usable: usize,
    chosen: BTreeSet<usize>,
    order: Vec<usize>,
}

impl Fill {
    /// Choose the round at `position` if its `cost` fits; whether it did.
    fn take(&mut self, position: usize, cost: usize) -> bool {
        if self.chosen.contains(&position) || self.spent + cost > self.usable {
            return false;
        }
        self.spent += cost;
        self.chosen.insert(position);
        self.order.push(position);
        true
    }
}

/// The pinned messages, the `chosen` older rounds and everything from `last_start` on; the
/// chosen rounds before the newest contiguous run of chosen rounds are the recalled ones.
fn select(
    view: &View<'_>,
    older: &[Round],
    chosen: &BTreeSet<usize>,
    last_start: usize,
) -> Selection {
    let mut run_start = older.len();
    while run_start > 0 && chosen.contains(&(run_start - 1)) {
        run_start -= 1;
    }
    let mut kept: BTreeSet<usize> = view.keep_from(last_start).into_iter().collect();
    let mut recalled = Vec::new();
    for &position in chosen {
        if let Some(round) = older.get(position) {
            kept.extend(round.range());
            if position < run_start {
                recalled.extend(round.range());
            }
        }
    }
    Selection {
        kept: kept.into_iter().collect(),
        recalled,
        ..Selection::default()
    }
}
