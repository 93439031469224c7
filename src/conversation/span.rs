//! What a round and a step share: a contiguous run of message indices.

/// Implement the accessors of a `{ start, end }` run of message indices for `$type`.
macro_rules! message_span {
    ($type:ident) => {
        impl $type {
            pub(crate) fn new(start: usize, end: usize) -> Self {
                $type { start, end }
            }

            /// Index of the first message.
            pub fn start(&self) -> usize {
                self.start
            }

            /// One past the index of the last message.
            pub fn end(&self) -> usize {
                self.end
            }

            /// The message indices.
            pub fn range(&self) -> std::ops::Range<usize> {
                self.start..self.end
            }

            /// Number of messages.
            pub fn len(&self) -> usize {
                self.end - self.start
            }

            /// Whether it holds no message (never true for the ones chatctx builds).
            pub fn is_empty(&self) -> bool {
                self.start == self.end
            }
        }
    };
}

pub(crate) use message_span;
