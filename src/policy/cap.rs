//! Cap oversized messages: keep their first and last parts, cut the middle.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::select::{Edit, EditKind, Selection, View};
use super::{ContextPolicy, Input, Outcome, PolicyState};
use crate::error::{Error, Result};
use crate::message::{Content, Message, Role};
use crate::template::PromptCounter;
use crate::tokens::TokenCounter;

/// Cuts the text of any tool result, user or assistant message above `tokens` tokens to its
/// first and last parts, at exact token boundaries of the model's vocabulary, with a marker in
/// between saying how many tokens were cut. A capped text counts at most `tokens` tokens,
/// marker included (checked by counting it).
///
/// One file or log of 50,000 tokens would otherwise fill a 32K window by itself; its beginning
/// and end are usually what an agent needs. Pinned messages, the final `prefix`/`partial`
/// assistant message, and content given as parts are never cut; nor are tool-call arguments
/// or `reasoning_content`. Nothing is dropped: the policy only edits, and the report lists
/// the capped messages (`capped`) and the tokens saved (`tokens_capped`).
///
/// Spelled `cap:TOKENS`, usually first in a chain: `cap:8000+clear-tools:3+token-budget`.
///
/// ```
/// use chatctx::policy::{Cap, PolicySpec};
///
/// let cap = Cap::new(8000).unwrap();
/// assert_eq!(cap.tokens(), 8000);
/// assert_eq!("cap:8000".parse::<PolicySpec>().unwrap().to_string(), "cap:8000");
/// assert!(Cap::new(0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    tokens: usize,
}

impl Cap {
    /// The smallest cap: room for the marker and a few tokens of text on either side.
    pub const MIN_TOKENS: usize = 32;

    /// Cap messages at `tokens` tokens (at least [`Cap::MIN_TOKENS`]).
    pub fn new(tokens: usize) -> Result<Self> {
        if tokens >= Cap::MIN_TOKENS {
            Ok(Cap { tokens })
        } else {
            Err(Error::config(
                "cap",
                format!(
                    "{tokens} tokens is below the smallest cap of {} (the marker alone takes about 15)",
                    Cap::MIN_TOKENS
                ),
            ))
        }
    }

    /// The most tokens a message's text keeps.
    pub const fn tokens(&self) -> usize {
        self.tokens
    }
}

#[async_trait]
impl ContextPolicy for Cap {
    async fn apply(&self, input: Input<'_>, _state: &mut PolicyState) -> Result<Outcome> {
        let usable = input.check()?;
        let view = View::new(&input, usable);
        let n = input.messages.len();
        let fallback = PromptText(input.counter);
        let vocabulary: &dyn TokenCounter = input.counter.text_counter().unwrap_or(&fallback);
        let mut edits = BTreeMap::new();
        for (index, message) in input.messages.iter().enumerate() {
            // a message's prompt tokens include its text's: most are under the cap
            if view.tokens(index) <= self.tokens || !self.may_cut(&input, index, message) {
                continue;
            }
            let Content::Text(text) = &message.content else {
                continue;
            };
            if vocabulary.count_till_limit(text, self.tokens).is_some() {
                continue;
            }
            let Some(capped) = cut(vocabulary, text, self.tokens) else {
                continue;
            };
            let edited = message.with_content(Content::Text(capped));
            let tokens = view.tokens_of(&edited, index);
            let saved = view.tokens(index).saturating_sub(tokens);
            edits.insert(
                index,
                Edit {
                    message: edited,
                    kind: EditKind::Capped,
                    saved,
                    tokens,
                },
            );
        }
        let mut selection = Selection::keep((0..n).collect());
        selection.edits = edits;
        Ok(view.finish(&format!("cap:{}", self.tokens), selection))
    }
}

impl Cap {
    fn may_cut(&self, input: &Input<'_>, index: usize, message: &Message) -> bool {
        matches!(message.role, Role::User | Role::Assistant | Role::Tool)
            && !input.conversation.is_pinned(index)
            && message.prefix != Some(true)
            && message.partial != Some(true)
    }
}

/// The marker between the two parts of a capped text.
fn marker(cut: usize) -> String {
    format!("\n\n[... {cut} tokens cut by chatctx ...]\n\n")
}

/// `text` cut to at most `limit` tokens: its first and last tokens around a marker; `None`
/// when no cut fits (a limit below the marker's own tokens).
fn cut(vocabulary: &dyn TokenCounter, text: &str, limit: usize) -> Option<String> {
    let total = vocabulary.count(text);
    let room = limit.checked_sub(vocabulary.count(&marker(total)))?;
    let mut head = room - room / 2;
    let mut tail = room / 2;
    // Token boundaries of the whole text need not be boundaries of its parts: count the
    // result and give back tokens until it fits (rarely more than once).
    for _ in 0..16 {
        let head_end = vocabulary.token_boundary(text, head);
        let tail_start = vocabulary
            .token_boundary(text, total.saturating_sub(tail))
            .max(head_end);
        let cut_tokens = total.saturating_sub(head + tail);
        let capped = format!(
            "{}{}{}",
            text.get(..head_end)?,
            marker(cut_tokens),
            text.get(tail_start..)?
        );
        let count = vocabulary.count(&capped);
        if count <= limit {
            return Some(capped);
        }
        let excess = count - limit;
        if head + tail == 0 {
            return None;
        }
        let from_tail = (excess / 2).min(tail);
        tail -= from_tail;
        head = head.saturating_sub(excess - from_tail);
    }
    None
}

/// A [`TokenCounter`] made from a prompt counter without a vocabulary: the tokens a text adds
/// to a user message.
#[derive(Debug)]
struct PromptText<'a>(&'a dyn PromptCounter);

impl TokenCounter for PromptText<'_> {
    fn name(&self) -> &str {
        "prompt counter"
    }

    fn count(&self, text: &str) -> usize {
        let empty = self.0.message_tokens(&Message::user(""), true);
        self.0
            .message_tokens(&Message::user(text), true)
            .saturating_sub(empty)
    }

    fn is_exact(&self) -> bool {
        self.0.is_exact()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::conversation::Conversation;
    use crate::policy::testing::TestCounter;
    use crate::policy::Limits;
    use crate::tokens::Vocabulary;

    #[test]
    fn a_capped_text_counts_at_most_the_cap_and_keeps_both_ends() {
        let counter = Vocabulary::O200kBase.counter();
        let text: String = (0..2000)
            .map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n"))
            .collect();
        for limit in [32, 100, 1000, 5000] {
            let capped = cut(counter.as_ref(), &text, limit).unwrap();
            let count = counter.count(&capped);
            assert!(count <= limit, "{limit}: {count}");
            assert!(count + 3 >= limit, "{limit}: only {count}");
            assert!(capped.starts_with("line 0: the quick"));
            assert!(capped.ends_with("the lazy dog\n"));
            assert!(capped.contains("tokens cut by chatctx"));
        }
    }

    #[tokio::test]
    async fn caps_only_what_is_too_long_and_never_a_pinned_message() {
        let long = "word ".repeat(400);
        let mut pinned = Message::user(long.clone());
        pinned.extra.insert("chatctx_pin".into(), true.into());
        let messages = vec![
            Message::system(long.clone()),
            pinned,
            Message::assistant("short"),
            Message::user(long.clone()),
        ];
        let conversation =
            Conversation::with_pins(&messages, crate::conversation::pin::is_marked_at);
        let input = Input::new(
            &messages,
            &conversation,
            Limits::new(100_000, 0),
            &TestCounter,
        );
        let outcome = Cap::new(64)
            .unwrap()
            .apply(input, &mut PolicyState::default())
            .await
            .unwrap();
        assert_eq!(outcome.report.capped, vec![3]);
        assert_eq!(outcome.messages[0], messages[0]);
        assert_eq!(outcome.messages[1], messages[1]);
        assert!(outcome.report.tokens_capped > 0);
        assert!(PromptText(&TestCounter).count(&outcome.messages[3].content.text()) <= 64);
    }
}
