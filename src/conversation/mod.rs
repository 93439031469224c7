//! A message list seen as a conversation: pinned instructions, then rounds.
//!
//! A *round* starts at a user message and holds everything up to the next user message: the
//! assistant's replies, its tool calls and the tool results that answer them. Policies keep or
//! drop whole rounds, so a tool result is never separated from its call. A trailing assistant
//! message with `prefix: true` (DeepSeek) or `partial: true` (Qwen) belongs to the last round.
//!
//! Inside a round, the atom is a [`Step`]: an assistant message with tool calls together with
//! the results answering them, or any other single message. Agent loops put tens of steps in
//! one round; policies that trim inside a round keep or drop whole steps.

pub mod pin;
mod round;
mod span;
mod step;
mod transcript;

pub use round::Round;
pub use step::Step;
pub use transcript::{ReasoningRetention, Transcript};

use crate::message::{Message, Role};

/// The structure of a message list: which messages are pinned and how the rest form rounds.
///
/// Indices refer to the message list the view was built from.
///
/// ```
/// use chatctx::conversation::Conversation;
/// use chatctx::message::Message;
///
/// let messages = vec![
///     Message::system("You are a helpful assistant."),
///     Message::user("What's the highest mountain in the world?"),
///     Message::assistant("Mount Everest."),
///     Message::user("What is the second?"),
/// ];
/// let conversation = Conversation::new(&messages);
/// assert_eq!(conversation.pinned(), &[0]);
/// assert_eq!(conversation.rounds().len(), 2);
/// assert_eq!(conversation.rounds()[0].range(), 1..3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pinned: Vec<usize>,
    rounds: Vec<Round>,
    /// The steps of every round, in order.
    steps: Vec<Step>,
    /// For each round, the range of its steps in `steps`.
    round_steps: Vec<std::ops::Range<usize>>,
    len: usize,
}

impl Conversation {
    /// Group `messages`: the leading system/developer messages are pinned, the rest are rounds.
    pub fn new(messages: &[Message]) -> Self {
        Conversation::with_pins(messages, |_, _| false)
    }

    /// Like [`Conversation::new`], but also pins every message for which `pin` returns true
    /// (a pinned message inside a round stays in that round's range and is kept even when the
    /// round is dropped). Pinning a message of a tool-call [`Step`] pins the whole step, so a
    /// kept tool result always has its call and a kept call its results.
    pub fn with_pins(messages: &[Message], pin: impl Fn(usize, &Message) -> bool) -> Self {
        let leading = messages
            .iter()
            .take_while(|message| message.role.is_instruction())
            .count();
        let mut pinned: Vec<usize> = (0..leading).collect();
        pinned.extend(
            messages
                .iter()
                .enumerate()
                .skip(leading)
                .filter(|(index, message)| pin(*index, message))
                .map(|(index, _)| index),
        );
        let mut rounds = Vec::new();
        let mut start = leading;
        for (index, message) in messages.iter().enumerate().skip(leading + 1) {
            if message.role == Role::User {
                rounds.push(Round::new(start, index));
                start = index;
            }
        }
        if start < messages.len() {
            rounds.push(Round::new(start, messages.len()));
        }
        let mut steps = Vec::new();
        let mut round_steps = Vec::with_capacity(rounds.len());
        for round in &rounds {
            let first = steps.len();
            step::split_round(messages, round.range(), &mut steps);
            round_steps.push(first..steps.len());
        }
        if pinned.len() > leading {
            pinned = whole_steps(&pinned, &steps);
        }
        Conversation {
            pinned,
            rounds,
            steps,
            round_steps,
            len: messages.len(),
        }
    }

    /// Indices of pinned messages, ascending.
    pub fn pinned(&self) -> &[usize] {
        &self.pinned
    }

    /// Indices of the leading instruction messages (a prefix of [`Conversation::pinned`]).
    pub fn leading(&self) -> usize {
        self.rounds.first().map_or(self.len, Round::start)
    }

    /// The rounds, oldest first.
    pub fn rounds(&self) -> &[Round] {
        &self.rounds
    }

    /// The newest round: the one the model answers now.
    pub fn last_round(&self) -> Option<&Round> {
        self.rounds.last()
    }

    /// Number of messages in the list this view was built from.
    pub fn message_count(&self) -> usize {
        self.len
    }

    /// Whether message `index` is pinned.
    pub fn is_pinned(&self, index: usize) -> bool {
        self.pinned.binary_search(&index).is_ok()
    }

    /// The steps of round `round` (an index into [`Conversation::rounds`]), oldest first;
    /// empty for an index past the last round.
    pub fn steps(&self, round: usize) -> &[Step] {
        self.round_steps
            .get(round)
            .and_then(|range| self.steps.get(range.clone()))
            .unwrap_or_default()
    }

    /// The steps of `round`, a round of this conversation.
    pub fn steps_in(&self, round: &Round) -> &[Step] {
        let first = self
            .steps
            .partition_point(|step| step.start() < round.start());
        let end = self
            .steps
            .partition_point(|step| step.start() < round.end());
        self.steps.get(first..end).unwrap_or_default()
    }

    /// The steps of the newest round.
    pub fn last_steps(&self) -> &[Step] {
        self.steps(self.rounds.len().saturating_sub(1))
    }

    /// The step holding message `index`, if it lies in a round.
    pub fn step_of(&self, index: usize) -> Option<&Step> {
        let at = self.steps.partition_point(|step| step.end() <= index);
        self.steps.get(at).filter(|step| step.start() <= index)
    }
}

/// `pinned` (ascending) with every multi-message step that holds a pinned message pinned whole.
fn whole_steps(pinned: &[usize], steps: &[Step]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(pinned.len());
    for &index in pinned {
        let at = steps.partition_point(|step| step.end() <= index);
        match steps
            .get(at)
            .filter(|step| step.start() <= index && step.len() > 1)
        {
            Some(step) => out.extend(step.range()),
            None => out.push(index),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
