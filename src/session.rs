//! One conversation under a policy: the full transcript plus the policy's state.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::calibration::{Calibration, Drift};
use crate::conversation::{pin, Conversation, Transcript};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::policy::{ContextPolicy, Input, Limits, MessageCounts, PolicyState, Report};
use crate::store::{SessionState, SessionStore, Version};
use crate::template::PromptCounter;
use crate::template::{Estimate, RequestTools};

/// A conversation with a context policy.
///
/// The [`Transcript`] holds the whole history and is never altered by the policy: what a
/// request leaves out (dropped or summarized) stays available in [`Session::transcript`].
/// [`Session::prepare`] applies the policy and returns what to send.
///
/// ```
/// use std::sync::Arc;
/// use chatctx::conversation::Transcript;
/// use chatctx::message::Message;
/// use chatctx::policy::{Limits, TokenBudget};
/// use chatctx::template::PromptCounter;
/// use chatctx::Session;
///
/// #[derive(Debug)]
/// struct Words;
/// impl PromptCounter for Words {
///     fn message_tokens(&self, message: &Message, _: bool) -> usize {
///         4 + message.content.text().split_whitespace().count()
///     }
///     fn overhead(&self, _: &[Message]) -> usize {
///         3
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> chatctx::Result<()> {
/// let transcript = Transcript::new(vec![Message::system("You are a helpful assistant.")]);
/// let mut session = Session::new(transcript, TokenBudget::new(), Arc::new(Words), Limits::new(40, 10));
/// session.push_user("What's the highest mountain in the world?");
/// let (request, report) = session.prepare().await?;
/// assert_eq!(request.len(), 2);
/// session.record_reply(Message::assistant("Mount Everest."));
/// session.push_user("What is the second?");
/// let (request, report) = session.prepare().await?;
/// assert_eq!(report.dropped, vec![1, 2]); // the first round no longer fits the 30 usable tokens
/// assert_eq!(request.len(), 2);
/// assert_eq!(session.transcript().messages().len(), 4); // but nothing is lost
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Session {
    transcript: Transcript,
    policy: Box<dyn ContextPolicy>,
    counter: Arc<dyn PromptCounter>,
    limits: Limits,
    state: PolicyState,
    pins: BTreeSet<usize>,
    request: RequestTools,
    model: String,
    calibration: Calibration,
    last_count: Option<Estimate>,
    durable: Option<Durable>,
    /// Per-message counts of the transcript, kept between requests.
    counts: MessageCounts,
}

/// Where a resumed session is stored, and what of it is stored.
#[derive(Debug)]
struct Durable {
    store: Arc<dyn SessionStore>,
    id: String,
    /// The version the session is based on.
    version: Version,
    /// How many of the transcript's messages the store holds.
    saved: usize,
    /// The state the store holds.
    state: SessionState,
}

impl Session {
    /// A session continuing `transcript` under `policy`.
    pub fn new(
        transcript: Transcript,
        policy: impl ContextPolicy + 'static,
        counter: Arc<dyn PromptCounter>,
        limits: Limits,
    ) -> Self {
        Session {
            transcript,
            policy: Box::new(policy),
            counter,
            limits,
            state: PolicyState::default(),
            pins: BTreeSet::new(),
            request: RequestTools::new(),
            model: String::new(),
            calibration: Calibration::new(),
            last_count: None,
            durable: None,
            counts: MessageCounts::new(),
        }
    }

    /// Resume with a saved policy state (see [`Session::state`]).
    pub fn with_state(mut self, state: PolicyState) -> Self {
        self.state = state;
        self
    }

    /// Send these request-level fields (tools, response format) with every request: their
    /// prompt tokens ([`PromptCounter::request_tokens`]) are taken from the budget.
    pub fn with_request_tools(mut self, request: RequestTools) -> Self {
        self.request = request;
        self
    }

    /// Replace the request-level fields (e.g. when the tool set changes).
    pub fn set_request_tools(&mut self, request: RequestTools) {
        self.request = request;
    }

    /// The model name calibration is kept under (empty by default).
    pub fn with_model_name(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Resume with saved calibration (see [`Session::calibration`]).
    pub fn with_calibration(mut self, calibration: Calibration) -> Self {
        self.calibration = calibration;
        self
    }

    /// The observed counting error so far.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Tell the session the `usage.prompt_tokens` the provider billed for the request the
    /// last [`Session::prepare`] returned. Returns the updated drift, or `None` when no
    /// request was prepared since the last report. With an estimating counter, later
    /// budgets shrink by the observed ratio ([`Calibration::scale`]).
    pub fn record_usage(&mut self, prompt_tokens: usize) -> Option<Drift> {
        let counted = self.last_count.take()?;
        Some(
            self.calibration
                .observe(&self.model, counted, prompt_tokens),
        )
    }

    /// Append the user's next turn; returns its index in the transcript.
    pub fn push_user(&mut self, text: impl Into<String>) -> usize {
        self.transcript.push_user(text)
    }

    /// Append any message (a user turn with parts, a tool result...); returns its index.
    pub fn push_message(&mut self, message: Message) -> usize {
        self.transcript.push_message(message)
    }

    /// Record the model's reply; returns its index.
    pub fn record_reply(&mut self, reply: Message) -> usize {
        self.transcript.record_reply(reply)
    }

    /// Record a whole chat-completion response (`choices[0].message`); its
    /// `usage.prompt_tokens`, when present, goes to [`Session::record_usage`].
    pub fn record_response(&mut self, response: &Value) -> Result<usize> {
        let index = self.transcript.record_response(response)?;
        let billed = response
            .get("usage")
            .and_then(|usage| usage.get("prompt_tokens"))
            .and_then(Value::as_u64);
        if let Some(billed) = billed {
            self.record_usage(usize::try_from(billed).unwrap_or(usize::MAX));
        }
        Ok(index)
    }

    /// Pin transcript message `index`: every request keeps it, in its place, even when its
    /// round is dropped or summarized (see [`crate::conversation::pin`]). Messages carrying
    /// `"chatctx_pin": true` are pinned without this call.
    ///
    /// An index past the end of the transcript is an [`Error::InvalidConfig`].
    pub fn pin(&mut self, index: usize) -> Result<()> {
        let len = self.transcript.messages().len();
        if index >= len {
            return Err(Error::config(
                "pin",
                format!("message {index} does not exist: the transcript has {len} messages"),
            ));
        }
        self.pins.insert(index);
        Ok(())
    }

    /// Unpin message `index`; returns whether it was pinned by [`Session::pin`].
    pub fn unpin(&mut self, index: usize) -> bool {
        self.pins.remove(&index)
    }

    /// The messages pinned by [`Session::pin`], ascending (the leading instructions and
    /// marked messages are pinned too, without being listed here).
    pub fn pins(&self) -> Vec<usize> {
        self.pins.iter().copied().collect()
    }

    /// The structure the policy sees: rounds, and the pinned messages (leading instructions,
    /// [`Session::pin`]ned indices, messages marked `"chatctx_pin": true`).
    pub fn conversation(&self) -> Conversation {
        Conversation::with_pins(self.transcript.messages(), |index, message| {
            self.pins.contains(&index) || pin::is_marked(message)
        })
    }

    /// Apply the policy to the transcript: the messages to send and the report.
    ///
    /// The budget is the usable tokens (scaled by the [`Calibration`] when counts are
    /// estimates) minus the request-level fields' tokens. The [`pin::PIN_FIELD`] marks are
    /// stripped from the messages to send. The session keeps the transcript's per-message
    /// counts between calls ([`MessageCounts`]): only the messages new since the last call
    /// are counted.
    pub async fn prepare(&mut self) -> Result<(Vec<Message>, Report)> {
        // Only the messages new since the last request are counted.
        self.counts
            .update(self.transcript.messages(), self.counter.as_ref());
        let messages = self.transcript.messages();
        let conversation = self.conversation();
        let request = self.counter.request_tokens(messages, &self.request);
        let usable = self.limits.usable()?;
        let scaled = self.calibration.scale(&self.model, usable);
        let limits = Limits::new(self.limits.reserved + scaled, self.limits.reserved);
        let input = Input::new(messages, &conversation, limits, self.counter.as_ref())
            .with_request_tokens(request.tokens)
            .with_counts(&self.counts);
        let mut outcome = self.policy.apply(input, &mut self.state).await?;
        pin::strip_marks(&mut outcome.messages);
        let sent = self.counter.estimate(&outcome.messages);
        self.last_count = Some(Estimate {
            tokens: sent.tokens + request.tokens,
            exact: sent.exact && request.exact,
        });
        Ok((outcome.messages, outcome.report))
    }

    /// The full history.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The policy's state (serializable, to resume the session later).
    pub fn state(&self) -> &PolicyState {
        &self.state
    }

    /// The model's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// Durable sessions: a session kept in a [`SessionStore`] (see [`crate::store`]).
impl Session {
    /// Resume conversation `id` of `store`: its transcript, pins, policy state, calibration and
    /// archived reasoning, as last saved. An id the store does not hold starts an empty
    /// session, created in the store by the first [`Session::save`].
    ///
    /// A resumed session prepares exactly the requests the original would have: same
    /// messages, same summary, and no summarizer call that the original already made.
    ///
    #[cfg_attr(feature = "sqlite", doc = "```")]
    #[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
    /// use std::sync::Arc;
    /// use chatctx::model::Model;
    /// use chatctx::policy::{Limits, TokenBudget};
    /// use chatctx::store::{SessionStore, SqliteStore};
    /// use chatctx::{Message, Session};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> chatctx::Result<()> {
    /// # if chatctx::tokens::Vocabulary::compiled().len() < 5 { return Ok(()); } // needs all-vocabularies
    /// let store: Arc<dyn SessionStore> = Arc::new(SqliteStore::open_in_memory()?);
    /// let counter = Model::resolve("deepseek-chat")?.prompt_counter();
    /// let limits = Limits::new(4000, 500);
    ///
    /// let mut session = Session::resume(store.clone(), "c1", TokenBudget::new(), counter.clone(), limits).await?;
    /// session.push_message(Message::system("Be brief."));
    /// session.push_user("Hi!");
    /// let (request, _) = session.prepare_and_save(3).await?;
    ///
    /// // later, maybe on another server
    /// let mut again = Session::resume(store, "c1", TokenBudget::new(), counter, limits).await?;
    /// assert_eq!(again.transcript().messages().len(), 2);
    /// assert_eq!(again.prepare().await?.0, request);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(
        store: Arc<dyn SessionStore>,
        id: impl Into<String>,
        policy: impl ContextPolicy + 'static,
        counter: Arc<dyn PromptCounter>,
        limits: Limits,
    ) -> Result<Session> {
        let id = id.into();
        crate::store::check_id(&id)?;
        let mut session = Session::new(Transcript::new(Vec::new()), policy, counter, limits);
        let stored = store.load(&id).await?;
        session.durable = Some(Durable {
            store,
            id,
            version: 0,
            saved: 0,
            state: SessionState::default(),
        });
        if let Some(stored) = stored {
            let saved = stored.messages.len();
            session.restore(stored.version, stored.messages, stored.state, saved);
        }
        Ok(session)
    }

    /// The conversation id and the version this session is based on, when it was resumed
    /// from a store.
    pub fn stored_as(&self) -> Option<(&str, Version)> {
        self.durable
            .as_ref()
            .map(|durable| (durable.id.as_str(), durable.version))
    }

    /// Everything of the session besides its messages, as a store keeps it.
    pub fn session_state(&self) -> SessionState {
        let mut state = SessionState::default();
        state.policy = self.state.clone();
        state.pins = self.pins();
        state.calibration = self.calibration.clone();
        state.reasoning = self.transcript.archived_reasoning().clone();
        state.retention = self.transcript.retention();
        state
    }

    /// Write the messages added since the last save and the current state to the store, in
    /// one write based on the version the session was loaded or last saved at. Returns the
    /// new version (the same when there was nothing to write).
    ///
    /// When another writer changed the conversation in between, nothing is written and the
    /// error is [`Error::Conflict`]: [`Session::reload`] and try again, or use
    /// [`Session::save_retrying`] / [`Session::prepare_and_save`]. A session that was not
    /// resumed from a store is an [`Error::InvalidConfig`].
    pub async fn save(&mut self) -> Result<Version> {
        let state = self.session_state();
        let durable = self.durable.as_mut().ok_or_else(not_durable)?;
        let messages = self.transcript.messages();
        let new = messages.get(durable.saved..).unwrap_or_default();
        if new.is_empty() && state == durable.state && durable.version > 0 {
            return Ok(durable.version);
        }
        let version = durable
            .store
            .write(&durable.id, durable.version, new, Some(&state))
            .await?;
        durable.version = version;
        durable.saved = messages.len();
        durable.state = state;
        Ok(version)
    }

    /// Load the conversation again from the store: its messages and state replace the
    /// session's, and the messages added since the last save (not yet stored) are kept after
    /// the stored ones. Local state changes since the last save (a summary made, a pin) are
    /// dropped for the stored state.
    pub async fn reload(&mut self) -> Result<()> {
        let durable = self.durable.as_ref().ok_or_else(not_durable)?;
        let saved = durable.saved;
        let pending = self
            .transcript
            .messages()
            .get(saved..)
            .unwrap_or_default()
            .to_vec();
        let pending_reasoning: Vec<(usize, String)> = self
            .transcript
            .archived_reasoning()
            .range(saved..)
            .map(|(index, text)| (index - saved, text.clone()))
            .collect();
        let stored = durable.store.load(&durable.id).await?;
        let (version, messages, state) = match stored {
            Some(stored) => (stored.version, stored.messages, stored.state),
            // deleted in between: start over as a new conversation
            None => (0, Vec::new(), SessionState::default()),
        };
        let mut state = state;
        let stored_len = messages.len();
        let mut all = messages;
        all.extend(pending);
        for (offset, text) in pending_reasoning {
            state.reasoning.insert(stored_len + offset, text);
        }
        self.restore(version, all, state, stored_len);
        Ok(())
    }

    /// [`Session::save`], and on a conflict [`Session::reload`] and save again, at most
    /// `attempts` times in all.
    pub async fn save_retrying(&mut self, attempts: usize) -> Result<Version> {
        let mut attempt = 1;
        loop {
            match self.save().await {
                Err(Error::Conflict { .. }) if attempt < attempts => {
                    self.reload().await?;
                    attempt += 1;
                    conflict_pause(attempt).await;
                }
                other => return other,
            }
        }
    }

    /// [`Session::prepare`] and [`Session::save`]; on a conflict, reload and prepare again
    /// from the stored state, at most `attempts` times in all. Of two servers preparing the
    /// same conversation at once, one keeps its summary; the other reloads and prepares from
    /// the winner's summary (no second summary is kept).
    pub async fn prepare_and_save(&mut self, attempts: usize) -> Result<(Vec<Message>, Report)> {
        let mut attempt = 1;
        loop {
            let prepared = self.prepare().await?;
            match self.save().await {
                Ok(_) => return Ok(prepared),
                Err(Error::Conflict { .. }) if attempt < attempts => {
                    self.reload().await?;
                    attempt += 1;
                    conflict_pause(attempt).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Replace the transcript and state with stored ones (`saved` of the messages stored).
    fn restore(
        &mut self,
        version: Version,
        messages: Vec<Message>,
        state: SessionState,
        saved: usize,
    ) {
        let retention = state.retention;
        self.transcript = Transcript::new(messages)
            .with_retention(retention)
            .with_archived_reasoning(state.reasoning.clone());
        self.state = state.policy.clone();
        self.pins = state.pins.iter().copied().collect();
        self.calibration = state.calibration.clone();
        self.last_count = None;
        self.counts.clear();
        if let Some(durable) = self.durable.as_mut() {
            durable.version = version;
            durable.saved = saved;
            durable.state = state;
        }
    }
}

fn not_durable() -> Error {
    Error::config(
        "session",
        "this session is not kept in a store: create it with Session::resume",
    )
}

/// A short pause before retrying after a conflict, longer with each attempt and different
/// between writers (so that writers that collided do not collide again in step).
async fn conflict_pause(attempt: usize) {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(attempt);
    let cap = 1u64 << attempt.min(6); // up to 64 ms
    let millis = hasher.finish() % cap;
    if millis > 0 {
        let pause = std::time::Duration::from_millis(millis);
        crate::summarizer::run_blocking(move || std::thread::sleep(pause)).await;
    }
}
