//! One round of a conversation.

/// A contiguous run of messages: a user turn and everything up to the next user turn.
///
/// The first round may start without a user message when the history opens with, say, an
/// assistant greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Round {
    start: usize,
    end: usize,
}

super::span::message_span!(Round);
