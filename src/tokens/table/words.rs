//! [`Words`], the source the binary format's decoder reads: the serialized bytes themselves
//! (`format.rs`) or their packed form (`pack.rs`), both implement it.

/// Where [`Tables`](super::Tables) are decoded from: the words of `Tables::to_bytes`'s output,
/// in order.
pub(crate) trait Words {
    /// Fills `out` with the next words; an error when there are not that many.
    fn fill(&mut self, out: &mut [u32]) -> Result<(), String>;
}
