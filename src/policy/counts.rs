//! Per-message token counts of a history, kept by index between policy calls.

use crate::message::{Content, Message, Role};
use crate::template::{last_round_start, PromptCounter};

/// The prompt tokens of each message of a history ([`PromptCounter::message_tokens`]), kept
/// by index so that a growing conversation is never counted again from scratch.
///
/// A policy counts the whole history on every call (for its report's `tokens_before`, and to
/// fit the budget); on a long agent loop that is most of its time, even with a warm counter,
/// because the counter's memo hashes every text to find its count. Given to a policy through
/// [`crate::policy::Input::with_counts`], these counts are read by index instead: only the
/// messages appended (or changed) since the last [`MessageCounts::update`] are counted, and
/// with a counter that implements [`PromptCounter::count_with_own`] the whole prompt's count
/// is derived from them without reading the texts again. Every count stays exact: a count is
/// used only for the message, position and counter it was made for, and the policies fall
/// back to the counter for anything else.
///
/// [`crate::session::Session`] keeps one for its transcript. Used directly, the rule is: call
/// [`MessageCounts::update`] with the history before each policy call. It recounts the
/// messages whose shape (role, lengths of the content and reasoning, number of calls, flags)
/// changed, those that moved into or out of the last round, and everything after a change of
/// counter (told by its address: keep one `MessageCounts` per counter). After editing a
/// message in place without changing its shape (the same length, or a call's arguments), call
/// [`MessageCounts::forget_from`] with its index. Counts whose shapes no longer match the
/// messages are not read at all ([`MessageCounts::is_for`]).
///
/// ```
/// use chatctx::conversation::Conversation;
/// use chatctx::message::Message;
/// use chatctx::policy::{ContextPolicy, Input, Limits, MessageCounts, PolicyState, TokenBudget};
/// use chatctx::template::PromptCounter;
///
/// #[derive(Debug)]
/// struct Bytes;
/// impl PromptCounter for Bytes {
///     fn message_tokens(&self, message: &Message, _: bool) -> usize {
///         3 + message.content.text().len()
///     }
///     fn overhead(&self, _: &[Message]) -> usize {
///         2
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut history = vec![Message::system("Be brief."), Message::user("Hi!")];
/// let mut counts = MessageCounts::new();
/// counts.update(&history, &Bytes);
/// history.push(Message::assistant("Hello."));
/// history.push(Message::user("Bye."));
/// // counts the two new messages, and "Hi!" again: it left the last round
/// counts.update(&history, &Bytes);
/// assert_eq!(counts.counted(), 5);
/// counts.update(&history, &Bytes); // nothing new
/// assert_eq!(counts.counted(), 5);
/// assert_eq!(counts.total(&history, &Bytes), Bytes.count(&history));
///
/// let conversation = Conversation::new(&history);
/// let input = Input::new(&history, &conversation, Limits::new(64, 8), &Bytes).with_counts(&counts);
/// let outcome = TokenBudget::new().apply(input, &mut PolicyState::default()).await.unwrap();
/// assert_eq!(outcome.report.tokens_before, Bytes.count(&history));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MessageCounts {
    /// The address and size of the counter the counts were made with ((0, 0): none yet).
    counter: (usize, usize),
    entries: Vec<Entry>,
    counted: usize,
}

/// One message's count, with what it was counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tokens: usize,
    in_last_round: bool,
    shape: Shape,
}

/// What changes when a message is replaced or edited, read without touching its text: a
/// placeholder, a cut, a reasoning taken out all change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    role: Role,
    /// Content kind (0 absent, 1 null, 2 text, 3 parts) and its length in bytes or parts.
    content: (u8, usize),
    name: Option<usize>,
    /// Number of calls (read without following the pointer to them: this check runs on every
    /// message of every policy call).
    calls: Option<usize>,
    call_id: Option<usize>,
    reasoning: Option<usize>,
    prefix: Option<bool>,
    partial: Option<bool>,
    extra: usize,
}

impl Shape {
    pub(crate) fn of(message: &Message) -> Self {
        let content = match &message.content {
            Content::Absent => (0, 0),
            Content::Null => (1, 0),
            Content::Text(text) => (2, text.len()),
            Content::Parts(parts) => (3, parts.len()),
        };
        Shape {
            role: message.role,
            content,
            name: message.name.as_ref().map(String::len),
            calls: message.tool_calls.as_ref().map(Vec::len),
            call_id: message.tool_call_id.as_ref().map(String::len),
            reasoning: message.reasoning_content.as_ref().map(String::len),
            prefix: message.prefix,
            partial: message.partial,
            extra: message.extra.len(),
        }
    }
}

/// A counter's address and size: counts made with one counter are not read for another that
/// lives elsewhere. (Zero-sized counters of different types may share an address: one
/// `MessageCounts` serves one counter.)
fn address(counter: &dyn PromptCounter) -> (usize, usize) {
    let at = (counter as *const dyn PromptCounter).cast::<()>() as usize;
    (at, std::mem::size_of_val(counter))
}

impl MessageCounts {
    /// No counts yet.
    pub fn new() -> Self {
        MessageCounts::default()
    }

    /// Count what is new in `messages` with `counter`: the messages past the ones counted
    /// before, and those whose shape or last-round flag changed (all of them after a change
    /// of counter). Counts past the end of `messages` are dropped.
    pub fn update(&mut self, messages: &[Message], counter: &dyn PromptCounter) {
        let id = address(counter);
        if id != self.counter {
            self.entries.clear();
            self.counter = id;
        }
        self.entries.truncate(messages.len());
        let last_user = last_round_start(messages);
        for (index, message) in messages.iter().enumerate() {
            let in_last_round = index >= last_user;
            let shape = Shape::of(message);
            let slot = self.entries.get_mut(index);
            if let Some(entry) = &slot {
                if entry.in_last_round == in_last_round && entry.shape == shape {
                    continue;
                }
            }
            let entry = Entry {
                tokens: counter.message_tokens(message, in_last_round),
                in_last_round,
                shape,
            };
            self.counted += 1;
            match slot {
                Some(old) => *old = entry,
                None => self.entries.push(entry),
            }
        }
    }

    /// Forget the counts from message `index` on (after editing it in place); the next
    /// [`MessageCounts::update`] counts them again.
    pub fn forget_from(&mut self, index: usize) {
        self.entries.truncate(index);
    }

    /// Forget every count.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many messages have a count.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no message has a count.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many times [`MessageCounts::update`] has called
    /// [`PromptCounter::message_tokens`] so far: the messages it had to count.
    pub fn counted(&self) -> usize {
        self.counted
    }

    /// The counted tokens of message `index`, if it has a count.
    pub fn get(&self, index: usize) -> Option<usize> {
        self.entries.get(index).map(|entry| entry.tokens)
    }

    /// Whether these counts are for `messages` with `counter`: as many messages, each of the
    /// shape it was counted with and on the same side of the last round. Reads no text.
    pub fn is_for(&self, messages: &[Message], counter: &dyn PromptCounter) -> bool {
        if self.counter != address(counter) || self.entries.len() != messages.len() {
            return false;
        }
        let last_user = last_round_start(messages);
        self.entries
            .iter()
            .zip(messages)
            .enumerate()
            .all(|(index, (entry, message))| {
                entry.in_last_round == (index >= last_user) && entry.shape == Shape::of(message)
            })
    }

    /// The prompt tokens of `messages` as a whole request, equal to
    /// [`PromptCounter::count`]: derived from the counts through
    /// [`PromptCounter::count_with_own`] when these counts are for `messages`
    /// ([`MessageCounts::is_for`]) and the counter can, counted by the counter otherwise.
    pub fn total(&self, messages: &[Message], counter: &dyn PromptCounter) -> usize {
        if self.is_for(messages, counter) {
            if let Some(total) = self.derived(messages, counter) {
                return total;
            }
        }
        counter.count(messages)
    }

    /// [`PromptCounter::count_with_own`] of `messages` with these counts, which must be for
    /// them ([`MessageCounts::is_for`]).
    pub(crate) fn derived(
        &self,
        messages: &[Message],
        counter: &dyn PromptCounter,
    ) -> Option<usize> {
        let own: Vec<usize> = self.entries.iter().map(|entry| entry.tokens).collect();
        let refs: Vec<&Message> = messages.iter().collect();
        counter.count_with_own(&refs, &own)
    }

    /// The counts of a later chain stage's `messages`: message `j` comes from history message
    /// `sources[j]` (these counts' history), unchanged unless `edited` (ascending history
    /// indices) lists it; only edited, moved-across-the-last-round or new messages are
    /// counted.
    pub(crate) fn for_stage(
        &self,
        messages: &[Message],
        sources: &[Option<usize>],
        edited: &[usize],
        counter: &dyn PromptCounter,
    ) -> MessageCounts {
        let last_user = last_round_start(messages);
        let mut stage = MessageCounts {
            counter: self.counter,
            entries: Vec::with_capacity(messages.len()),
            counted: 0,
        };
        for (index, message) in messages.iter().enumerate() {
            let in_last_round = index >= last_user;
            let shape = Shape::of(message);
            let known = sources
                .get(index)
                .copied()
                .flatten()
                .filter(|source| edited.binary_search(source).is_err())
                .and_then(|source| self.entries.get(source))
                .filter(|entry| entry.in_last_round == in_last_round && entry.shape == shape)
                .map(|entry| entry.tokens);
            let tokens = match known {
                Some(tokens) => tokens,
                None => {
                    stage.counted += 1;
                    counter.message_tokens(message, in_last_round)
                }
            };
            stage.entries.push(Entry {
                tokens,
                in_last_round,
                shape,
            });
        }
        stage
    }
}
