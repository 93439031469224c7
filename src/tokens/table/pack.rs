//! The packed form of a serialized [`Tables`](super::Tables), which `build.rs` embeds: the
//! words of `format.rs`, in chunks of 64 KiB, each chunk split into four byte planes and
//! LZ4-compressed.
//!
//! The tables are mostly little-endian `u32` arrays of ids below 2^18 and hash-table slots, so
//! the high bytes of the words are nearly all zero (or `0xFF` for free slots). Splitting a
//! chunk's words into planes (every first byte, then every second byte, ...) puts those bytes
//! in long runs that LZ4 shortens: the five vocabularies shrink from 54 MB to 31 MB. LZ4
//! (`lz4_flex`, pure Rust) decodes at memory speed, and [`Unpacker`] decodes one chunk at a
//! time into a buffer that stays in the CPU cache and reassembles the words from there straight
//! into the final tables (`format.rs` reads through the [`Words`] trait), so unpacking costs
//! about one pass of LZ4 over the tables. The tables counting reads are the same as before.
//!
//! The two parts of the format (`Tables::to_parts`) are packed apart, so that they unpack in
//! parallel. Layout: the magic, the packed length of the first part as a little-endian `u32`,
//! then each part as its unpacked length in bytes (`u32`) followed by its chunks, each the
//! `u32` length of its LZ4 block and the block.

use super::words::Words;

/// The first bytes of every packed table.
const MAGIC: &[u8; 8] = b"CCLZ4\x00\x00\x02";

/// Bytes of one chunk before packing (a multiple of 4; LZ4 looks back at most 64 KiB anyway).
const CHUNK: usize = 1 << 16;

/// Packs the two parts of `Tables::to_parts` (each a multiple of 4 bytes long).
#[allow(dead_code)] // used by build.rs and the tests
pub(crate) fn pack(parts: &[Vec<u8>; 2]) -> Result<Vec<u8>, String> {
    let mut out = MAGIC.to_vec();
    let head = stream(&parts[0])?;
    let head_len = u32::try_from(head.len()).map_err(|_| "table over 4 GB")?;
    out.extend_from_slice(&head_len.to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&stream(&parts[1])?);
    Ok(out)
}

/// One part: its length, then its chunks.
#[allow(dead_code)] // used by build.rs and the tests
fn stream(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.len() % 4 != 0 {
        return Err("table length is not a multiple of 4".into());
    }
    let len = u32::try_from(bytes.len()).map_err(|_| "table over 4 GB")?;
    let mut out = len.to_le_bytes().to_vec();
    let mut planes = vec![0u8; CHUNK];
    for chunk in bytes.chunks(CHUNK) {
        let words = chunk.len() / 4;
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            for (k, &b) in word.iter().enumerate() {
                planes[k * words + i] = b;
            }
        }
        let block = lz4_flex::block::compress(&planes[..chunk.len()]);
        let block_len = u32::try_from(block.len()).map_err(|_| "chunk too large")?;
        out.extend_from_slice(&block_len.to_le_bytes());
        out.extend_from_slice(&block);
    }
    Ok(out)
}

/// The two packed parts of what [`pack`] wrote, each for an [`Unpacker`].
pub(crate) fn parts(packed: &[u8]) -> Result<[&[u8]; 2], String> {
    let rest = packed
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a packed chatctx vocabulary table (bad magic)")?;
    let (len, rest) = rest.split_at_checked(4).ok_or("truncated packed table")?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let (head, tail) = rest.split_at_checked(len).ok_or("truncated packed table")?;
    Ok([head, tail])
}

/// Reads the words of a packed table, one chunk at a time.
pub(crate) struct Unpacker<'a> {
    /// The chunks not yet decoded.
    rest: &'a [u8],
    /// Bytes of the table not yet decoded.
    left: usize,
    /// The planes of the current chunk.
    planes: Vec<u8>,
    /// Words in the current chunk.
    words: usize,
    /// The next word of the current chunk.
    at: usize,
}

impl<'a> Unpacker<'a> {
    /// A reader of one of the [`parts`] of what [`pack`] wrote.
    pub(crate) fn new(part: &'a [u8]) -> Result<Unpacker<'a>, String> {
        let (len, rest) = part.split_at_checked(4).ok_or("truncated packed table")?;
        let left = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if left % 4 != 0 {
            return Err("packed table length is not a multiple of 4".into());
        }
        Ok(Unpacker {
            rest,
            left,
            planes: vec![0u8; CHUNK],
            words: 0,
            at: 0,
        })
    }

    /// Decodes the next chunk into `planes`.
    fn next_chunk(&mut self) -> Result<(), String> {
        let len = self.left.min(CHUNK);
        if len == 0 {
            return Err("truncated packed table".into());
        }
        let (head, rest) = self
            .rest
            .split_at_checked(4)
            .ok_or("truncated packed table")?;
        let block_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let (block, rest) = rest
            .split_at_checked(block_len)
            .ok_or("truncated packed table")?;
        let out = self.planes.get_mut(..len).ok_or("corrupt packed table")?;
        let written = lz4_flex::block::decompress_into(block, out)
            .map_err(|e| format!("corrupt packed table: {e}"))?;
        if written != len {
            return Err("corrupt packed table: a chunk has the wrong length".into());
        }
        self.rest = rest;
        self.left -= len;
        self.words = len / 4;
        self.at = 0;
        Ok(())
    }
}

impl Words for Unpacker<'_> {
    fn fill(&mut self, out: &mut [u32]) -> Result<(), String> {
        let mut out = out;
        while !out.is_empty() {
            if self.at == self.words {
                self.next_chunk()?;
            }
            let take = out.len().min(self.words - self.at);
            let (head, tail) = out.split_at_mut(take);
            let w = self.words;
            let range = self.at..self.at + take;
            let planes = &self.planes[..4 * w];
            let (p0, p1) = (&planes[range.clone()], &planes[w..][range.clone()]);
            let (p2, p3) = (&planes[2 * w..][range.clone()], &planes[3 * w..][range]);
            for ((((o, &a), &b), &c), &d) in head.iter_mut().zip(p0).zip(p1).zip(p2).zip(p3) {
                *o = u32::from_le_bytes([a, b, c, d]);
            }
            self.at += take;
            out = tail;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Both parts, each read in uneven pieces, across chunk boundaries.
    fn unpack(packed: &[u8], words: [usize; 2]) -> Result<[Vec<u32>; 2], String> {
        let [a, b] = parts(packed)?;
        let read = |part, words: usize| -> Result<Vec<u32>, String> {
            let mut u = Unpacker::new(part)?;
            let mut out = vec![0u32; words];
            let mut at = 0;
            for step in [1usize, 7, 16, 5000, 30_000].into_iter().cycle() {
                if at == words {
                    break;
                }
                let end = (at + step).min(words);
                u.fill(&mut out[at..end])?;
                at = end;
            }
            Ok(out)
        };
        Ok([read(a, words[0])?, read(b, words[1])?])
    }

    fn bytes(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn roundtrip() {
        let a: Vec<u32> = (0..70_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) >> 14)
            .collect();
        let b: Vec<u32> = (0..100u32).collect();
        let packed = pack(&[bytes(&a), bytes(&b)]).unwrap();
        assert!(packed.len() < 4 * 70_000 * 9 / 10, "{} bytes", packed.len());
        assert_eq!(unpack(&packed, [a.len(), b.len()]).unwrap(), [a, b]);
        let empty = pack(&[Vec::new(), Vec::new()]).unwrap();
        assert_eq!(
            unpack(&empty, [0, 0]).unwrap(),
            [Vec::<u32>::new(), Vec::new()]
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(pack(&[vec![1, 2, 3], Vec::new()]).is_err());
        assert!(parts(b"nope").is_err());
        let a = bytes(&[7u32; 40_000]);
        let packed = pack(&[a.clone(), a]).unwrap();
        // cut short, or asked for more than it holds
        assert!(unpack(&packed[..packed.len() - 3], [40_000, 40_000]).is_err());
        assert!(unpack(&packed, [40_000, 40_001]).is_err());
        // a block that decodes to another length than its part's header says
        let mut longer = packed.clone();
        longer[12..16].copy_from_slice(&(4u32 * 40_001).to_le_bytes());
        assert!(unpack(&longer, [40_001, 40_000]).is_err());
    }
}
