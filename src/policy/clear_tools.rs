//! Clear old tool results: replace them by a short placeholder, oldest first.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::select::{Edit, EditKind, Selection, View};
use super::{ContextPolicy, Input, Outcome, PolicyState};
use crate::error::{Error, Result};
use crate::message::{Content, Message, Role};

/// Replaces the results of older tool calls by a placeholder once the request grows past
/// `trigger` × usable tokens, oldest first, until it is back under; the newest `keep` results,
/// the results of the newest step (what the model reads next) and every result of an
/// `exclude`d tool stay verbatim.
///
/// A placeholder keeps the result's role, `tool_call_id` and every other field; its content
/// names the tool and the tokens cleared, so the model knows it can call the tool again. The
/// assistant message that made the call is untouched (its `reasoning_content` too), unless
/// `clear_inputs` is set: then the call's `arguments` become `{}`. Nothing is dropped, so a
/// call never loses its result.
///
/// `at_least` batches the clearing for the provider's prompt cache: candidates are grouped,
/// oldest first, into batches saving at least that many tokens each, and only whole batches
/// are cleared. The cleared prefix then stays byte-identical for many calls instead of moving
/// by one result every call. The batches are counted from the oldest result, so they are the
/// same from one call to the next: the policy needs no state.
///
/// Spelled `clear-tools[:KEEP]` or, with every setting, as JSON:
/// `{"clear_tools": {"keep": 3, "at_least": 0, "exclude": ["name"], "trigger": 1.0,
/// "clear_inputs": false}}`.
///
/// # Default
///
/// - `keep`: 3 newest results verbatim
/// - `at_least`: 0 (clear one result at a time)
/// - `exclude`: none
/// - `trigger`: 1.0 (clear only when the request would not fit)
/// - `clear_inputs`: false
///
/// ```
/// use chatctx::policy::{ClearTools, PolicySpec};
///
/// let policy = ClearTools::new(2).with_at_least(20_000).with_exclude(["todo"]);
/// assert_eq!(policy.keep(), 2);
/// let spec: PolicySpec = r#"{"clear_tools": {"keep": 2, "at_least": 20000, "exclude": ["todo"]}}"#
///     .parse()
///     .unwrap();
/// assert_eq!(spec, PolicySpec::ClearTools(policy));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClearTools {
    keep: usize,
    at_least: usize,
    exclude: Vec<String>,
    trigger: f64,
    clear_inputs: bool,
}

impl Default for ClearTools {
    fn default() -> Self {
        ClearTools::new(ClearTools::DEFAULT_KEEP)
    }
}

impl ClearTools {
    /// How many of the newest tool results are kept verbatim by default.
    pub const DEFAULT_KEEP: usize = 3;

    /// Clearing that keeps the newest `keep` tool results verbatim, with the other defaults.
    pub const fn new(keep: usize) -> Self {
        ClearTools {
            keep,
            at_least: 0,
            exclude: Vec::new(),
            trigger: 1.0,
            clear_inputs: false,
        }
    }

    /// Clear in batches saving at least `tokens` each.
    pub const fn with_at_least(mut self, tokens: usize) -> Self {
        self.at_least = tokens;
        self
    }

    /// Never clear the results of these tools.
    pub fn with_exclude<S: Into<String>>(mut self, tools: impl IntoIterator<Item = S>) -> Self {
        self.exclude = tools.into_iter().map(Into::into).collect();
        self
    }

    /// Start clearing when the request would exceed `share` (in (0, 1]) of the usable tokens.
    pub const fn with_trigger(mut self, share: f64) -> Self {
        self.trigger = share;
        self
    }

    /// Also replace the `arguments` of the calls whose results are cleared by `{}`.
    pub const fn with_clear_inputs(mut self, clear: bool) -> Self {
        self.clear_inputs = clear;
        self
    }

    /// How many of the newest tool results stay verbatim.
    pub const fn keep(&self) -> usize {
        self.keep
    }

    /// The tools whose results are never cleared.
    pub fn exclude(&self) -> &[String] {
        &self.exclude
    }

    /// Whether only `keep` differs from the defaults (the `clear-tools:KEEP` spelling).
    pub(crate) fn is_simple(&self) -> bool {
        *self == ClearTools::new(self.keep)
    }

    /// Check the settings: `trigger` must be a share in (0, 1].
    pub fn check(&self) -> Result<()> {
        if self.trigger > 0.0 && self.trigger <= 1.0 {
            Ok(())
        } else {
            Err(Error::config(
                "clear_tools.trigger",
                format!("{} is not a share in (0, 1]", self.trigger),
            ))
        }
    }
}

/// The placeholder content of a cleared tool result.
fn placeholder(tool: &str, tokens: usize) -> String {
    format!("[tool result cleared by chatctx to save context: `{tool}` returned {tokens} tokens; call it again if needed]")
}

/// One tool result that may be cleared.
struct Candidate {
    index: usize,
    /// The assistant message that made the call, and the call's position in it.
    call: Option<(usize, usize)>,
    placeholder: Message,
    /// Prompt tokens of the placeholder.
    placeholder_tokens: usize,
    /// Tokens the placeholder saves.
    result_saved: usize,
    /// Tokens saved in all, with the call's arguments when they are cleared too.
    saved: usize,
}

#[async_trait]
impl ContextPolicy for ClearTools {
    async fn apply(&self, input: Input<'_>, _state: &mut PolicyState) -> Result<Outcome> {
        self.check()?;
        let usable = input.check()?;
        let view = View::new(&input, usable);
        let name = self.to_string();
        let n = input.messages.len();
        let mut selection = Selection::keep((0..n).collect());
        let before = view.count(&selection);
        let limit = (self.trigger * usable as f64).floor() as usize;
        if before <= limit {
            return Ok(view.finish(&name, selection));
        }
        let candidates = self.candidates(&view);
        let batches = batches(&candidates, self.at_least);
        let mut estimate = before;
        let mut cleared = 0;
        for end in batches {
            let batch = candidates.get(cleared..end).unwrap_or_default();
            estimate = estimate.saturating_sub(batch.iter().map(|c| c.saved).sum());
            cleared = end;
            if estimate <= limit {
                selection.edits = self.edits(&view, candidates.get(..cleared).unwrap_or_default());
                if view.count(&selection) <= limit {
                    return Ok(view.finish(&name, selection));
                }
            }
        }
        selection.edits = self.edits(&view, candidates.get(..cleared).unwrap_or_default());
        Ok(view.finish(&name, selection))
    }
}

impl ClearTools {
    /// The tool results that may be cleared, oldest first: not among the newest `keep`, not
    /// of an excluded tool, not pinned, not already a placeholder.
    fn candidates(&self, view: &View<'_>) -> Vec<Candidate> {
        let messages = view.input.messages;
        let mut calls: HashMap<&str, (usize, usize, &str)> = HashMap::new();
        let mut results = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match message.role {
                Role::Assistant => {
                    for (position, call) in message.tool_calls.iter().flatten().enumerate() {
                        calls.insert(&call.id, (index, position, &call.function.name));
                    }
                }
                Role::Tool => results.push(index),
                _ => {}
            }
        }
        // The newest step's results are what the model reads next: never cleared.
        let newest = view
            .input
            .conversation
            .last_steps()
            .last()
            .map_or(messages.len(), |step| step.start());
        let older = results
            .len()
            .saturating_sub(self.keep)
            .min(results.partition_point(|&index| index < newest));
        let mut candidates = Vec::new();
        for &index in results.get(..older).unwrap_or_default() {
            let Some(message) = messages.get(index) else {
                continue;
            };
            let call = message
                .tool_call_id
                .as_deref()
                .and_then(|id| calls.get(id).copied());
            let tool = call.map_or("unknown", |(_, _, tool)| tool);
            if view.input.conversation.is_pinned(index)
                || self.exclude.iter().any(|excluded| excluded == tool)
                || is_placeholder(message)
            {
                continue;
            }
            let tokens = view.tokens(index);
            let cleared = message.with_content(Content::Text(placeholder(tool, tokens)));
            let placeholder_tokens = view.tokens_of(&cleared, index);
            let result_saved = tokens.saturating_sub(placeholder_tokens);
            let mut saved = result_saved;
            let call = call.map(|(at, position, _)| (at, position));
            if self.clear_inputs {
                if let Some((at, position)) = call {
                    if let Some(caller) = messages.get(at) {
                        let mut without = caller.clone();
                        clear_arguments(&mut without, position);
                        saved += view.tokens(at).saturating_sub(view.tokens_of(&without, at));
                    }
                }
            }
            candidates.push(Candidate {
                index,
                call,
                placeholder: cleared,
                placeholder_tokens,
                result_saved,
                saved,
            });
        }
        candidates
    }

    /// The edits that clear `cleared` (and, with `clear_inputs`, their calls' arguments).
    fn edits(&self, view: &View<'_>, cleared: &[Candidate]) -> BTreeMap<usize, Edit> {
        let mut edits = BTreeMap::new();
        let mut callers: BTreeMap<usize, Message> = BTreeMap::new();
        for candidate in cleared {
            edits.insert(
                candidate.index,
                Edit {
                    message: candidate.placeholder.clone(),
                    kind: EditKind::Cleared,
                    saved: candidate.result_saved,
                    tokens: candidate.placeholder_tokens,
                },
            );
            if let (true, Some((at, position))) = (self.clear_inputs, candidate.call) {
                if let Some(caller) = view.input.messages.get(at) {
                    let message = callers.entry(at).or_insert_with(|| caller.clone());
                    clear_arguments(message, position);
                }
            }
        }
        for (at, message) in callers {
            let tokens = view.tokens_of(&message, at);
            let saved = view.tokens(at).saturating_sub(tokens);
            edits.insert(
                at,
                Edit {
                    message,
                    kind: EditKind::Cleared,
                    saved,
                    tokens,
                },
            );
        }
        edits
    }
}

/// Replace the arguments of call `position` of `message` by `{}`.
fn clear_arguments(message: &mut Message, position: usize) {
    if let Some(call) = message
        .tool_calls
        .as_mut()
        .and_then(|calls| calls.get_mut(position))
    {
        call.function.arguments = "{}".to_string();
    }
}

/// Whether `message` is a placeholder this policy wrote.
fn is_placeholder(message: &Message) -> bool {
    matches!(&message.content, Content::Text(text) if text.starts_with("[tool result cleared by chatctx"))
}

/// The ends (exclusive candidate positions) of the batches: consecutive candidates, oldest
/// first, each batch saving at least `at_least` tokens (the last may save less).
fn batches(candidates: &[Candidate], at_least: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut saved = 0;
    for (position, candidate) in candidates.iter().enumerate() {
        saved += candidate.saved;
        if saved >= at_least {
            ends.push(position + 1);
            saved = 0;
        }
    }
    if ends.last().copied().unwrap_or(0) < candidates.len() {
        ends.push(candidates.len());
    }
    ends
}

impl std::fmt::Display for ClearTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_simple() {
            write!(f, "clear-tools:{}", self.keep)
        } else {
            let json = serde_json::json!({ "clear_tools": self });
            write!(f, "{json}")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::conversation::Conversation;
    use crate::message::ToolCall;
    use crate::policy::testing::TestCounter;
    use crate::policy::Limits;
    use crate::template::PromptCounter;

    /// A user request, then `steps` calls of `read` each answered by a 400-byte result (104
    /// tokens; its placeholder takes 32).
    fn agent(steps: usize) -> Vec<Message> {
        let mut messages = vec![Message::system("sys"), Message::user("go")];
        for step in 0..steps {
            let id = format!("c{step}");
            let mut call = Message::assistant("");
            call.tool_calls = Some(vec![ToolCall::function(id.clone(), "read", r#"{"p":1}"#)]);
            messages.push(call);
            messages.push(Message::tool(id, "x".repeat(400)));
        }
        messages
    }

    async fn run(policy: &ClearTools, messages: &[Message], usable: usize) -> Outcome {
        let conversation = Conversation::new(messages);
        let input = Input::new(
            messages,
            &conversation,
            Limits::new(usable, 0),
            &TestCounter,
        );
        policy
            .apply(input, &mut PolicyState::default())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn clears_oldest_results_first_until_the_request_fits() {
        let messages = agent(6);
        let all = run(&ClearTools::new(2), &messages, 10_000).await;
        assert!(all.report.cleared.is_empty());
        let full = all.report.tokens_after;
        // clearing one result saves 72 tokens: two are needed
        let outcome = run(&ClearTools::new(2), &messages, full - 100).await;
        assert_eq!(outcome.report.cleared, vec![3, 5]);
        let placeholder = TestCounter.message_tokens(&outcome.messages[3], false);
        assert_eq!(outcome.report.tokens_cleared, 2 * (104 - placeholder));
        assert_eq!(
            outcome.report.tokens_after,
            full - outcome.report.tokens_cleared
        );
        assert!(outcome.report.fits);
        assert_eq!(outcome.messages.len(), messages.len());
        assert_eq!(outcome.messages[3].tool_call_id.as_deref(), Some("c0"));
        assert_eq!(
            outcome.messages[3].content.text(),
            "[tool result cleared by chatctx to save context: `read` returned 104 tokens; call it again if needed]"
        );
        // the newest two results are never cleared, even when nothing else fits
        let tight = run(&ClearTools::new(2), &messages, 10).await;
        assert_eq!(tight.report.cleared, vec![3, 5, 7, 9]);
        assert!(!tight.report.fits);
    }

    #[tokio::test]
    async fn batches_keep_the_cleared_prefix_stable() {
        // The loop grows one step a call; about 16 results fit, and all placeholders do.
        let usable = 2000;
        let mut moves = [0, 0];
        for (slot, at_least) in [(0, 0), (1, 592)] {
            let policy = ClearTools::new(1).with_at_least(at_least);
            let mut previous: Vec<usize> = Vec::new();
            for steps in 4..30 {
                let cleared = run(&policy, &agent(steps), usable).await.report.cleared;
                assert!(
                    cleared.starts_with(&previous),
                    "{previous:?} -> {cleared:?}"
                );
                if at_least > 0 {
                    // whole batches of eight results (8 x 74 = 592 tokens saved), unless every
                    // candidate had to go
                    let all = cleared.len() == steps - 1;
                    assert!(all || cleared.len() % 8 == 0, "{cleared:?}");
                }
                if cleared != previous {
                    moves[slot] += 1;
                }
                previous = cleared;
            }
        }
        assert_eq!(moves, [11, 2]);
    }

    #[tokio::test]
    async fn excluded_tools_and_inputs() {
        let messages = agent(4);
        let full = run(&ClearTools::new(0), &messages, 10_000)
            .await
            .report
            .tokens_after;
        let excluded = run(
            &ClearTools::new(0).with_exclude(["read"]),
            &messages,
            full - 1,
        )
        .await;
        assert!(excluded.report.cleared.is_empty());
        let inputs = run(
            &ClearTools::new(3).with_clear_inputs(true),
            &messages,
            full - 1,
        )
        .await;
        assert_eq!(inputs.report.cleared, vec![2, 3]);
        let calls = inputs.messages[2].tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].function.arguments, "{}");
    }

    #[test]
    fn spellings() {
        assert_eq!(ClearTools::default().to_string(), "clear-tools:3");
        let custom = ClearTools::new(2).with_trigger(0.8);
        assert_eq!(
            custom.to_string(),
            r#"{"clear_tools":{"keep":2,"at_least":0,"exclude":[],"trigger":0.8,"clear_inputs":false}}"#
        );
        assert!(ClearTools::new(1).with_trigger(1.5).check().is_err());
    }
}
