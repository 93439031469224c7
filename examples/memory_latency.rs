//! The machine's memory latency by working-set size: a chain of dependent loads in a random
//! cyclic order over the cache lines of a buffer, for sizes from 32 KB to 64 MB. It explains
//! the counting speeds the README reports for text met the first time, which wait on loads
//! from tables of megabytes.
//!
//! ```text
//! cargo run --release --example memory_latency
//! ```
//!
//! Prints one line per size: `4096 KB: 45.1 ns per dependent load`.

use std::hint::black_box;
use std::time::Instant;

/// Words per 64-byte cache line.
const LINE: usize = 8;

fn main() {
    for kb in [32usize, 256, 1024, 2048, 4096, 8192, 16384, 65536] {
        let lines = kb * 1024 / 64;
        // A random cyclic order of the lines (xorshift-driven Fisher-Yates shuffle).
        let mut order: Vec<usize> = (0..lines).collect();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for i in (1..lines).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        // Each line's first word holds the index of the next line's first word.
        let mut next = vec![0usize; lines * LINE];
        for (k, &line) in order.iter().enumerate() {
            next[line * LINE] = order[(k + 1) % lines] * LINE;
        }
        let mut at = 0;
        for _ in 0..lines {
            at = next[at]; // one round to warm what fits
        }
        let steps = 4_000_000;
        let start = Instant::now();
        for _ in 0..steps {
            at = next[at];
        }
        let ns = start.elapsed().as_secs_f64() * 1e9 / steps as f64;
        black_box(at);
        println!("{kb} KB: {ns:.1} ns per dependent load");
    }
}
