//! Cache-aware compaction: let history grow untouched, cut it down hard once, repeat.

use async_trait::async_trait;

use super::select::{Selection, View};
use super::{ContextPolicy, Input, Outcome, PolicyState};
use crate::error::{Error, Result};

/// Compaction with hysteresis: history is sent untouched until the next request would exceed
/// the usable window; then the oldest whole rounds are dropped down to `low` × usable tokens,
/// and history grows untouched again from there.
///
/// A sliding window ([`super::TokenBudget`]) drops the oldest round on almost every turn, so
/// every request starts with a different prefix and misses the providers' prompt cache. Here
/// the request between two compactions is always a prefix-extension of the previous one: the
/// pinned messages and the same first kept round, followed by everything since. With
/// DeepSeek's cache (hits billed at a tenth of the price) that is most of the prompt.
///
/// The cut point lives in [`PolicyState::compact_from`].
///
/// ```
/// use chatctx::policy::{Compact, PolicySpec};
/// let policy = Compact::new(0.5).unwrap();
/// assert_eq!("compact:0.5".parse::<PolicySpec>().unwrap().to_string(), "compact:0.5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compact {
    low: f64,
}

impl Compact {
    /// Compaction down to `low` (a share of the usable tokens, in (0, 1]).
    pub fn new(low: f64) -> Result<Self> {
        if low > 0.0 && low <= 1.0 {
            Ok(Compact { low })
        } else {
            Err(Error::config(
                "low watermark",
                format!("{low} is not a share in (0, 1]"),
            ))
        }
    }

    /// The low watermark.
    pub fn low(&self) -> f64 {
        self.low
    }
}

#[async_trait]
impl ContextPolicy for Compact {
    async fn apply(&self, input: Input<'_>, state: &mut PolicyState) -> Result<Outcome> {
        let usable = input.check()?;
        let view = View::new(&input, usable);
        let n = input.messages.len();
        let from = state.compact_from.unwrap_or(0);
        if from > n {
            return Err(Error::config(
                "policy state",
                format!("compaction point {from} lies beyond the history of {n} messages"),
            ));
        }
        let rounds = input.conversation.rounds();
        // The round holding the cut point; the cut may lie between two steps of a round.
        let first = rounds.partition_point(|round| round.end() <= from);
        let start = match rounds.get(first) {
            Some(round) if round.start() < from => from,
            Some(round) => round.start(),
            None => n,
        };
        let current = Selection::keep(view.keep_from(start));
        if view.count(&current) <= usable {
            return Ok(view.finish(&self.name(), current));
        }
        let remaining = rounds.get(first..).unwrap_or_default();
        let target = ((usable as f64) * self.low).floor() as usize;
        let selection = match view.fit_within(remaining, None, target) {
            Ok(selection) => selection,
            // the last round alone is above the low mark: keep as little as fits at all
            Err(Error::DoesNotFit { .. }) => view.fit_suffix(remaining, None)?,
            Err(other) => return Err(other),
        };
        let kept = &selection.kept;
        let mut new_start = kept
            .iter()
            .copied()
            .find(|&index| !input.conversation.is_pinned(index) || index >= start)
            .unwrap_or(n);
        // Only the newest steps of a round were kept: the cut lies at the first of them.
        let opens_a_trimmed_round = rounds
            .iter()
            .any(|round| round.start() == new_start && round.len() > 1)
            && kept.binary_search(&(new_start + 1)).is_err();
        if opens_a_trimmed_round {
            new_start = kept
                .iter()
                .copied()
                .find(|&index| index > new_start && !input.conversation.is_pinned(index))
                .unwrap_or(n);
        }
        state.compact_from = Some(new_start);
        Ok(view.finish(&self.name(), selection))
    }
}

impl Compact {
    fn name(&self) -> String {
        format!("compact:{}", self.low)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::conversation::Conversation;
    use crate::message::Message;
    use crate::policy::testing::TestCounter;
    use crate::policy::Limits;

    async fn run(messages: &[Message], limits: Limits, state: &mut PolicyState) -> Outcome {
        let conversation = Conversation::new(messages);
        let input = Input::new(messages, &conversation, limits, &TestCounter);
        Compact::new(0.5)
            .unwrap()
            .apply(input, state)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn grows_untouched_then_cuts_once_to_the_low_mark() {
        let mut messages = vec![Message::system("be brief")];
        let mut state = PolicyState::default();
        let limits = Limits::new(120, 20);
        let mut cuts = 0;
        let mut previous: Option<Vec<Message>> = None;
        for turn in 0..40 {
            messages.push(Message::user(format!("question number {turn} ....")));
            let outcome = run(&messages, limits, &mut state).await;
            assert!(outcome.report.fits, "turn {turn}");
            assert_eq!(outcome.messages[0], messages[0]);
            if let Some(previous) = &previous {
                let extends = outcome.messages.starts_with(&previous[..]);
                if !extends {
                    cuts += 1;
                    // right after a cut the request is at or below the low mark
                    assert!(outcome.report.tokens_after <= 50, "turn {turn}");
                }
            }
            messages.push(Message::assistant(format!("answer {turn} ........")));
            previous = Some(outcome.messages);
        }
        assert!(cuts >= 2, "only {cuts} compactions");
        assert!(
            cuts <= 20,
            "{cuts} compactions: not much better than a sliding window"
        );
    }

    #[tokio::test]
    async fn inside_an_agent_loop_the_cut_falls_between_steps_and_stays() {
        let mut messages = vec![Message::system("be brief"), Message::user("fix it")];
        let mut state = PolicyState::default();
        let limits = Limits::new(420, 20);
        let mut cuts = 0;
        let mut previous: Option<Vec<Message>> = None;
        for step in 0..40 {
            let id = format!("call_{step}");
            let mut call = Message::assistant("");
            call.tool_calls = Some(vec![crate::message::ToolCall::function(
                id.clone(),
                "read",
                "{}",
            )]);
            messages.push(call);
            messages.push(Message::tool(id, "x".repeat(80)));
            let outcome = run(&messages, limits, &mut state).await;
            assert!(outcome.report.fits, "step {step}");
            crate::message::validate_request(&outcome.messages).unwrap();
            // the system prompt and the user's request always open the request
            assert_eq!(outcome.messages[..2], messages[..2]);
            if let Some(previous) = &previous {
                if !outcome.messages.starts_with(&previous[..]) {
                    cuts += 1;
                    assert!(outcome.report.tokens_after <= 200, "step {step}");
                    let from = state.compact_from.unwrap();
                    assert_eq!(messages[from].role, crate::message::Role::Assistant);
                }
            }
            previous = Some(outcome.messages);
        }
        // each cut frees room for about eight more steps
        assert!((3..=6).contains(&cuts), "{cuts} cuts");
    }

    #[test]
    fn rejects_bad_watermarks() {
        assert!(Compact::new(0.0).is_err());
        assert!(Compact::new(1.5).is_err());
        assert!(Compact::new(f64::NAN).is_err());
    }
}
