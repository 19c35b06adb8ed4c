//! Packet buffers with headroom, and the pipeline's input and output records.

/// Headroom kept in front of every received frame, so that an encapsulation (at most
/// Ethernet + VLAN + IPv6 + UDP + Geneve with options) is written in place.
pub const HEADROOM: usize = 128;

/// One frame inside an owned buffer: `data[start..end]`, with `start` octets of headroom.
#[derive(Clone, PartialEq, Eq)]
pub struct PacketBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The frame's TCP/UDP checksum holds only the pseudo-header sum: its sender left it to
    /// offload (`CHECKSUM_PARTIAL`), and whoever sends the frame on completes it or asks the
    /// kernel to ([`crate::offload`]).
    csum_pending: bool,
    /// The frame is a TCP super-frame still to be cut into segments ([`Gso`]).
    gso: Option<Gso>,
    /// The receiving device verified the frame's (outermost) L4 checksum.
    csum_valid: bool,
    /// The priority (PCP) of the VLAN tag it arrived with, given to the tag it leaves
    /// with (IEEE 802.1Q §6.9.3, as Linux's bridge and OVS keep it); 0 untagged.
    pcp: u8,
}

/// A TCP super-frame: consecutive segments of one stream merged into one frame, by the
/// receiving interface's GRO or by a sender that left segmentation to offload (GSO). It is
/// forwarded whole where the next device can take it (the kernel, or the receiver's stack,
/// cuts it up), and cut into its segments ([`crate::offload::segment`]) where it cannot. Its
/// TCP checksum is always pending ([`PacketBuf::csum_pending`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gso {
    /// TCP over IPv6 (else over IPv4).
    pub v6: bool,
    /// The stream uses ECN (`VIRTIO_NET_HDR_GSO_ECN`: CWR stays on the first segment only).
    pub ecn: bool,
    /// Payload octets per segment (the sender's MSS); the last segment may carry fewer.
    pub size: u16,
    /// TCP payload octets of the whole frame. The payload ends the frame (but for any
    /// Ethernet padding, which cutting drops), so pushing or popping headers in front leaves
    /// this as it is.
    pub payload: u32,
}

impl std::fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketBuf")
            .field("len", &self.len())
            .field("headroom", &self.start)
            .field("csum_pending", &self.csum_pending)
            .field("gso", &self.gso)
            .finish()
    }
}

impl PacketBuf {
    /// Copies `frame` into a new buffer with [`HEADROOM`] in front and `tailroom` behind.
    pub fn with_room(frame: &[u8], tailroom: usize) -> Self {
        let mut data = vec![0u8; HEADROOM + frame.len() + tailroom];
        data[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        PacketBuf {
            data,
            start: HEADROOM,
            end: HEADROOM + frame.len(),
            csum_pending: false,
            gso: None,
            csum_valid: false,
            pcp: 0,
        }
    }

    /// Copies `frame` into a new buffer with [`HEADROOM`] and 4 octets of tailroom (one VLAN
    /// tag can be pushed without reallocating).
    pub fn from_frame(frame: &[u8]) -> Self {
        Self::with_room(frame, 4)
    }

    /// Reuses this buffer for a new frame of `len` octets filled by `fill`, keeping
    /// [`HEADROOM`]; grows the allocation only when needed.
    pub fn refill(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) {
        let want = HEADROOM + len + 4;
        if self.data.len() < want {
            self.data.resize(want, 0);
        }
        self.start = HEADROOM;
        self.end = HEADROOM + len;
        self.csum_pending = false;
        self.gso = None;
        self.csum_valid = false;
        self.pcp = 0;
        fill(&mut self.data[HEADROOM..HEADROOM + len]);
    }

    /// True when the frame's L4 checksum is left to offload (see the field).
    pub fn csum_pending(&self) -> bool {
        self.csum_pending
    }

    /// Marks the frame's L4 checksum as left to offload, or as complete.
    pub fn set_csum_pending(&mut self, pending: bool) {
        self.csum_pending = pending;
    }

    /// Whether the receiving device verified the frame's (outermost) L4 checksum.
    pub fn csum_valid(&self) -> bool {
        self.csum_valid
    }

    /// Records that the receiving device verified the frame's L4 checksum.
    pub fn set_csum_valid(&mut self, valid: bool) {
        self.csum_valid = valid;
    }

    /// The priority its VLAN tag had on arrival (0 for an untagged frame).
    pub fn pcp(&self) -> u8 {
        self.pcp
    }

    /// Records the priority of the VLAN tag the frame arrived with (3 bits).
    pub fn set_pcp(&mut self, pcp: u8) {
        self.pcp = pcp & 0b111;
    }

    /// The frame's segmentation, when it is a TCP super-frame.
    pub fn gso(&self) -> Option<Gso> {
        self.gso
    }

    /// Marks the frame as a TCP super-frame (with its checksum pending), or as a plain frame.
    pub fn set_gso(&mut self, gso: Option<Gso>) {
        self.gso = gso;
        if gso.is_some() {
            self.csum_pending = true;
        }
    }

    /// Length of the largest frame this one stands for on the wire: itself, or for a
    /// super-frame its first segment (headers and one segment's payload), what MTUs are
    /// checked against.
    pub fn wire_len(&self) -> usize {
        match self.gso {
            Some(g) => {
                let payload = g.payload as usize;
                self.len().saturating_sub(payload) + payload.min(usize::from(g.size))
            }
            None => self.len(),
        }
    }

    /// Frames this one stands for on the wire (1, or a super-frame's segment count).
    pub fn segments(&self) -> u64 {
        match self.gso {
            Some(g) if g.size > 0 => u64::from(g.payload.div_ceil(u32::from(g.size))).max(1),
            _ => 1,
        }
    }

    /// Octets this frame stands for on the wire: a super-frame's segments each repeat its
    /// headers.
    pub fn wire_bytes(&self) -> u64 {
        let headers = match self.gso {
            Some(g) => self.len().saturating_sub(g.payload as usize) as u64,
            None => 0,
        };
        self.len() as u64 + (self.segments() - 1) * headers
    }

    /// Completes a pending L4 checksum in place (see [`crate::offload::complete_l4_checksum`])
    /// and clears the mark; for frames whose next hop cannot finish it (an encapsulation makes
    /// it an inner checksum, a peer reads bytes).
    pub fn complete_csum(&mut self) {
        if self.csum_pending {
            crate::offload::complete_l4_checksum(self.frame_mut());
            self.csum_pending = false;
        }
    }

    /// The frame.
    pub fn frame(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// The frame, mutable.
    pub fn frame_mut(&mut self) -> &mut [u8] {
        &mut self.data[self.start..self.end]
    }

    /// Frame length.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True for an empty frame.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Octets free in front of the frame.
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Narrows the frame to `frame()[from..to]` (decapsulation). Returns false, changing
    /// nothing, when the range is not inside the frame.
    pub(crate) fn narrow(&mut self, from: usize, to: usize) -> bool {
        if from > to || to > self.len() {
            return false;
        }
        self.end = self.start + to;
        self.start += from;
        true
    }

    /// Grows the frame by `n` octets at the front (uninitialised contents are whatever the
    /// buffer held); false when the headroom is too small.
    pub(crate) fn push_front(&mut self, n: usize) -> bool {
        if n > self.start {
            return false;
        }
        self.start -= n;
        true
    }

    /// The frame plus `extra` octets of tailroom, growing the allocation if needed, for
    /// operations that lengthen the frame in place (VLAN push).
    pub(crate) fn with_tail(&mut self, extra: usize) -> &mut [u8] {
        if self.data.len() < self.end + extra {
            self.data.resize(self.end + extra, 0);
        }
        &mut self.data[self.start..self.end + extra]
    }

    /// Sets the frame length (after an in-place operation that changed it).
    pub(crate) fn set_len(&mut self, len: usize) -> bool {
        if self.start + len > self.data.len() {
            return false;
        }
        self.end = self.start + len;
        true
    }
}

/// Free packet buffers for reuse: an I/O loop copies received frames into buffers taken from
/// here and puts sent buffers back, so a steady stream allocates nothing per frame.
#[derive(Debug, Default)]
pub struct BufPool {
    free: Vec<PacketBuf>,
    /// Buffers grown past [`BufPool::SMALL`] (super-frames), kept apart and fewer of them.
    large: Vec<PacketBuf>,
}

impl BufPool {
    /// Most buffers kept; more are freed (a burst of floods does not pin memory for ever).
    pub const LIMIT: usize = 4096;
    /// Most large buffers kept (64 of 64 KiB super-frames: 4 MiB).
    pub const LARGE_LIMIT: usize = 64;
    /// Frames up to this length (a jumbo frame) take a small buffer.
    pub const SMALL: usize = 9216 + 64;

    /// A buffer holding a copy of `frame` (with [`HEADROOM`] and room for one VLAN tag).
    pub fn copy_of(&mut self, frame: &[u8]) -> PacketBuf {
        self.filled(frame.len(), |f| f.copy_from_slice(frame))
    }

    /// A buffer holding a frame of `len` octets written by `fill`.
    pub fn filled(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> PacketBuf {
        let list = if len > Self::SMALL { &mut self.large } else { &mut self.free };
        let mut buf = list.pop().unwrap_or_else(|| PacketBuf::with_room(&[], len + 4));
        buf.refill(len, fill);
        buf
    }

    /// Returns a buffer for reuse.
    pub fn put(&mut self, buf: PacketBuf) {
        let (list, limit) = if buf.data.len() > HEADROOM + Self::SMALL + 4 {
            (&mut self.large, Self::LARGE_LIMIT)
        } else {
            (&mut self.free, Self::LIMIT)
        };
        if list.len() < limit {
            list.push(buf);
        }
    }

    /// Buffers waiting for reuse.
    pub fn len(&self) -> usize {
        self.free.len() + self.large.len()
    }

    /// True when no buffer waits for reuse.
    pub fn is_empty(&self) -> bool {
        self.free.is_empty() && self.large.is_empty()
    }
}

/// Identifies a port of the switch. A removed port's id is reused only after it rested
/// ([`crate::PORT_ID_REST`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PortId(pub u16);

/// A received frame.
#[derive(Debug, Clone)]
pub struct Rx {
    /// The port it arrived on.
    pub port: PortId,
    /// The frame, VLAN tags in place (backends re-insert tags the kernel stripped).
    pub buf: PacketBuf,
}

/// A frame to send.
#[derive(Debug, Clone)]
pub struct Tx {
    /// The port to send it on.
    pub port: PortId,
    /// The frame.
    pub buf: PacketBuf,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn headroom_and_narrowing() {
        let mut b = PacketBuf::from_frame(&[1, 2, 3, 4, 5]);
        assert_eq!((b.len(), b.headroom()), (5, HEADROOM));
        assert!(!b.narrow(3, 6) && !b.narrow(4, 3));
        assert!(b.narrow(1, 4));
        assert_eq!(b.frame(), &[2, 3, 4]);
        assert!(b.push_front(1));
        assert_eq!(b.frame(), &[1, 2, 3, 4]);
        assert!(!b.push_front(HEADROOM + 1));
        b.refill(2, |f| f.copy_from_slice(&[9, 9]));
        assert_eq!((b.frame(), b.headroom()), (&[9u8, 9][..], HEADROOM));
        assert_eq!(b.with_tail(100).len(), 102);
        assert!(b.set_len(50) && !b.set_len(10_000));
    }

    #[test]
    fn pool_reuses_buffers_and_bounds_itself() {
        let mut pool = BufPool::default();
        let a = pool.copy_of(&[1, 2, 3]);
        assert_eq!((a.frame(), a.headroom()), (&[1u8, 2, 3][..], HEADROOM));
        pool.put(a);
        assert_eq!(pool.len(), 1);
        // A longer frame in a reused (smaller) buffer: grown, contents exact.
        let long: Vec<u8> = (0..200).map(|i| i as u8).collect();
        let b = pool.copy_of(&long);
        assert!(pool.is_empty());
        assert_eq!(b.frame(), &long[..]);
        for _ in 0..BufPool::LIMIT + 10 {
            pool.put(PacketBuf::from_frame(&[]));
        }
        assert_eq!(pool.len(), BufPool::LIMIT);
        // Super-frame buffers are kept apart, fewer of them, and never serve a small frame.
        let big = vec![7u8; 60_000];
        for _ in 0..BufPool::LARGE_LIMIT + 10 {
            pool.put(PacketBuf::from_frame(&big));
        }
        assert_eq!(pool.len(), BufPool::LIMIT + BufPool::LARGE_LIMIT);
        assert_eq!(pool.copy_of(&[1]).data.len(), HEADROOM + 1 + 4);
        assert_eq!(pool.copy_of(&big).frame(), &big[..]);
        assert_eq!(pool.len(), BufPool::LIMIT - 1 + BufPool::LARGE_LIMIT - 1);
    }
}
