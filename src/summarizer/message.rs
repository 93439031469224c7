//! The summary message: how a rolling summary travels in a request.

use crate::message::{Message, Role};

/// The `name` of summary messages: the documented OpenAI `name` field, so the marker is valid
/// on the wire and later passes recognise the message.
pub const SUMMARY_NAME: &str = "chatctx_summary";

/// The line that opens the content of a summary message.
const SUMMARY_HEADER: &str = "Summary of the earlier conversation:\n";

/// The message that carries a rolling summary: a system message named [`SUMMARY_NAME`].
pub fn summary_message(text: &str) -> Message {
    let mut message = Message::system(format!("{SUMMARY_HEADER}{text}"));
    message.name = Some(SUMMARY_NAME.to_string());
    message
}

/// Whether `message` is a summary message made by [`summary_message`].
pub fn is_summary(message: &Message) -> bool {
    message.role == Role::System && message.name.as_deref() == Some(SUMMARY_NAME)
}

/// The summary text inside a summary message.
pub(crate) fn summary_text(message: Option<&Message>) -> String {
    let text = message.map(|m| m.content.text()).unwrap_or_default();
    text.strip_prefix(SUMMARY_HEADER)
        .unwrap_or(&text)
        .to_string()
}
