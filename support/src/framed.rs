//! Length-prefixed framing: every message is a 4-byte big-endian length, then that many bytes.
//!
//! TCP keeps the order of bytes but not the boundaries of writes, so a protocol has to say
//! where each message ends. A length prefix says it up front: read exactly 4 bytes, then exactly
//! that many. "Big-endian" (network byte order) means the most significant byte comes first:
//! a 5-byte message starts `00 00 00 05`.
//!
//! A peer can announce any length up to 4 GiB. Allocating whatever it asks for would let one
//! bad header exhaust our memory, so a reader refuses lengths over a limit ([`MAX_FRAME`]).

use std::io::{self, Read};

/// The longest payload anyone in socklab accepts: 16 MiB.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The bytes of one frame: the length in network byte order, then the payload.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("a frame payload fits in 4 GiB");
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// How reading one frame went.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole frame's payload.
    Whole(Vec<u8>),
    /// The stream ended cleanly, between frames.
    End,
    /// The stream ended inside a frame, after this many of its bytes (header included).
    Cut(usize),
    /// The header announced more than the limit; nothing more was read.
    TooLong(u64),
}

/// Reads one frame. The payload is read in pieces as it arrives, so a peer that announces a big
/// frame and never sends it costs us nothing more than what it really sent.
pub fn read_frame(reader: &mut impl Read, max: usize) -> io::Result<Frame> {
    let mut header = [0u8; 4];
    let got = read_full(reader, &mut header)?;
    if got == 0 {
        return Ok(Frame::End);
    }
    if got < 4 {
        return Ok(Frame::Cut(got));
    }
    let len = u32::from_be_bytes(header) as u64;
    if len > max as u64 {
        return Ok(Frame::TooLong(len));
    }
    let mut payload = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while (payload.len() as u64) < len {
        let want = chunk.len().min(len as usize - payload.len());
        let n = match reader.read(&mut chunk[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(Frame::Cut(4 + payload.len()));
        }
        payload.extend_from_slice(&chunk[..n]);
    }
    Ok(Frame::Whole(payload))
}

/// Reads until `buf` is full or the stream ends; returns how many bytes it got.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A small, seeded pseudo-random generator (xorshift64*), so that a fault that slices writes at
/// random can be replayed from the seed it printed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point.
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `1..=max`.
    pub fn between_1_and(&mut self, max: usize) -> usize {
        1 + (self.next_u64() % max.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_end_cut_and_limit() {
        let mut bytes = encode(b"hello");
        bytes.extend(encode(b""));
        bytes.extend(&encode(b"cut me")[..7]);
        let mut r = &bytes[..];
        assert_eq!(
            read_frame(&mut r, 100).unwrap(),
            Frame::Whole(b"hello".to_vec())
        );
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame::Whole(Vec::new()));
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame::Cut(7));
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame::End);
        let big = [0x7f, 0xff, 0xff, 0xff];
        assert_eq!(
            read_frame(&mut &big[..], MAX_FRAME).unwrap(),
            Frame::TooLong(0x7fff_ffff)
        );
    }
}
