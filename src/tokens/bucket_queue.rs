//! A priority queue of merge candidates with one bucket per priority, for very long pieces.
//!
//! A binary heap of a hundred thousand candidates spends most of its time sifting through
//! megabytes of heap. Merge priorities are small integers (below the vocabulary size), so
//! candidates can instead wait in a list per priority, with a bit per priority saying which
//! lists are non-empty: a push is O(1), and the lowest priority is found by scanning the bits
//! from the last one taken (the scan only moves forward while merges create candidates of later
//! priorities, which is what `merges.rs` calls settled). A list is a chain of 64-byte blocks of
//! fourteen positions, so taking it reads a few cache lines, not one per candidate. All
//! candidates of the lowest priority come out at once, sorted by position, so the leftmost is
//! merged first as BPE requires.
//!
//! The queue is empty again once every list has been taken, so one queue (its per-priority
//! array sized once, to the largest priority seen) serves every piece on a thread.

/// No block.
const NONE: u32 = u32::MAX;

/// Positions per block.
const PER_BLOCK: usize = 14;

/// A block of a list: the next (older) block, how many positions are used, the positions.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Block {
    next: u32,
    len: u32,
    positions: [u32; PER_BLOCK],
}

/// Candidate positions by priority.
#[derive(Debug, Default)]
pub(crate) struct BucketQueue {
    /// Per priority: the newest block of its list, or [`NONE`].
    heads: Vec<u32>,
    /// The blocks of all lists.
    blocks: Vec<Block>,
    /// Bit `p` is set when priority `p`'s list is non-empty.
    bits: Vec<u64>,
    /// No list below this priority is non-empty.
    lowest: usize,
}

impl BucketQueue {
    /// Empties the queue.
    pub(crate) fn clear(&mut self) {
        for (w, word) in self.bits.iter_mut().enumerate() {
            while *word != 0 {
                let p = w * 64 + word.trailing_zeros() as usize;
                if let Some(head) = self.heads.get_mut(p) {
                    *head = NONE;
                }
                *word &= *word - 1;
            }
        }
        self.blocks.clear();
        self.lowest = 0;
    }

    /// Adds a candidate at `position` with `priority`.
    #[inline]
    pub(crate) fn push(&mut self, priority: u32, position: u32) {
        let p = priority as usize;
        if p >= self.heads.len() {
            let len = (p + 1).next_multiple_of(64).max(self.heads.len() * 2);
            self.heads.resize(len, NONE);
            self.bits.resize(len / 64, 0);
        }
        let head = self.heads[p];
        let block = match self.blocks.get_mut(head as usize) {
            Some(b) if (b.len as usize) < PER_BLOCK => b,
            _ => {
                self.heads[p] = self.blocks.len() as u32;
                self.blocks.push(Block {
                    next: head,
                    len: 0,
                    positions: [0; PER_BLOCK],
                });
                self.bits[p / 64] |= 1 << (p % 64);
                self.lowest = self.lowest.min(p);
                let last = self.blocks.len() - 1;
                &mut self.blocks[last]
            }
        };
        block.positions[block.len as usize] = position;
        block.len += 1;
    }

    /// Takes every candidate of the lowest priority: their positions, sorted, replace the
    /// contents of `out`, and the priority is returned (`None` when the queue is empty).
    pub(crate) fn pop_lowest(&mut self, out: &mut Vec<u32>) -> Option<u32> {
        let mut w = self.lowest / 64;
        let word = loop {
            let word = *self.bits.get(w)? & (u64::MAX << (self.lowest % 64));
            if word != 0 {
                break word;
            }
            w += 1;
            self.lowest = w * 64;
        };
        let p = w * 64 + word.trailing_zeros() as usize;
        self.bits[w] &= !(1 << (p % 64));
        self.lowest = p;
        out.clear();
        let mut block = std::mem::replace(&mut self.heads[p], NONE);
        while let Some(b) = self.blocks.get(block as usize) {
            out.extend_from_slice(b.positions.get(..b.len as usize).unwrap_or_default());
            block = b.next;
        }
        out.sort_unstable();
        Some(p as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_priorities_in_order_and_positions_sorted() {
        let mut q = BucketQueue::default();
        for round in 0..2 {
            q.clear();
            for (prio, pos) in [(700, 5), (3, 9), (700, 1), (64, 2), (3, 4), (63, 8)] {
                q.push(prio, pos + round);
            }
            // A list longer than a block.
            for pos in (100..140).rev() {
                q.push(800, pos);
            }
            let mut out = Vec::new();
            let mut popped = Vec::new();
            while let Some(p) = q.pop_lowest(&mut out) {
                popped.push((p, out.clone()));
                if p == 63 {
                    // A lower priority pushed after a higher one was taken is found too.
                    q.push(10, 99);
                }
            }
            let r = round;
            assert_eq!(
                popped,
                [
                    (3, vec![4 + r, 9 + r]),
                    (63, vec![8 + r]),
                    (10, vec![99]),
                    (64, vec![2 + r]),
                    (700, vec![1 + r, 5 + r]),
                    (800, (100..140).collect()),
                ]
            );
        }
        q.push(5, 1);
        q.clear();
        assert_eq!(q.pop_lowest(&mut Vec::new()), None);
    }
}
