//! Copies between a RAM volume's memory and buffers, shaped by what the memory system
//! does with them. Holds the streaming stores, one of the NVMe-oF crate's two `unsafe` modules (with `uring`).
//!
//! Into the volume ([`copy_in`]): a plain copy into a cold 4 KiB block first reads every
//! cache line of it from DRAM (read-for-ownership) and then writes it back: twice the
//! memory traffic of the data. Non-temporal stores write whole lines without reading
//! them and leave the caches to what the thread works on (on this project's bench machine
//! a random 4 KiB write into 256 MiB took 425-475 ns with `copy_from_slice`, 315 ns
//! streamed). Only small writes are streamed: 128 KiB sequential writes ran slower
//! streamed in the full target (seqwrite_128k 28-40 -> 16-25 Gbit/s, the stores stalling),
//! though not in a standalone copy. Arm cores detect write streams themselves
//! (write-streaming mode), so elsewhere this is a plain copy.
//!
//! Plain copies in either direction ([`copy_unaliased`], [`append_out`]): glibc copies a
//! few KiB with `rep movsb` on CPUs with fast string moves, and that runs several times
//! slower when the destination lies a few bytes after the source modulo 4 KiB (4K
//! aliasing: loads look as if they depended on the stores just made). On the bench machine (AMD EPYC) a 4 KiB
//! copy took 1.9 µs instead of 0.4 µs with the destination 4-28 bytes past the source's
//! page offset; volume blocks start on page offsets, and a read's data behind its 24-byte
//! C2HData header lands in that window for a few reads in a hundred (as may a large
//! write's data in the receive buffer). Those are copied in pieces small enough for
//! glibc's vector loop instead (0.4-0.55 µs).
#![allow(unsafe_code)]

/// Largest copy into a volume that is streamed.
const STREAM_AT_MOST: usize = 16 * 1024;

/// `dst.copy_from_slice(src)` (equal lengths), into volume memory: streamed if small.
pub fn copy_in(dst: &mut [u8], src: &[u8]) {
    if src.len() <= STREAM_AT_MOST {
        copy_streaming(dst, src);
    } else {
        copy_unaliased(dst, src);
    }
}

/// Destinations this few bytes past the source (modulo 4 KiB) copy in pieces.
const ALIAS_WINDOW: usize = 64;
/// Piece size of such copies: below the size from which glibc moves with `rep movsb`.
const UNALIASED_PIECE: usize = 2048;

/// Whether a copy from `src` to `dst` of more than one piece would hit 4K aliasing.
fn aliased(dst: *const u8, src: *const u8) -> bool {
    let past = (dst as usize).wrapping_sub(src as usize) % 4096;
    past != 0 && past < ALIAS_WINDOW
}

/// `dst.copy_from_slice(src)` (equal lengths) with a plain copy, in either direction,
/// clear of the 4K-aliasing slow path.
pub fn copy_unaliased(dst: &mut [u8], src: &[u8]) {
    if src.len() > UNALIASED_PIECE && aliased(dst.as_ptr(), src.as_ptr()) {
        for (d, s) in dst.chunks_mut(UNALIASED_PIECE).zip(src.chunks(UNALIASED_PIECE)) {
            // Opaque, so the compiler cannot merge the pieces back into one memcpy.
            d.copy_from_slice(std::hint::black_box(s));
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// `out.extend_from_slice(src)`, out of volume memory.
pub fn append_out(out: &mut Vec<u8>, src: &[u8]) {
    out.reserve(src.len());
    let dst = out.as_ptr().wrapping_add(out.len());
    if src.len() > UNALIASED_PIECE && aliased(dst, src.as_ptr()) {
        for s in src.chunks(UNALIASED_PIECE) {
            out.extend_from_slice(std::hint::black_box(s));
        }
    } else {
        out.extend_from_slice(src);
    }
}

/// Granule of the streamed part: one 16-byte SSE2 store.
#[cfg(target_arch = "x86_64")]
const LANE: usize = 16;

/// Copies `src` into `dst` (the shorter of the two lengths; never panics).
/// Bypasses the caches where the CPU can and `dst` is 16-byte aligned; the copy is
/// complete and ordered before anything this thread stores afterwards (a lock release
/// included) when it returns.
fn copy_streaming(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    #[cfg(target_arch = "x86_64")]
    if dst.as_ptr().align_offset(LANE) == 0 && n >= 4 * LANE {
        let whole = n - n % LANE;
        stream_x86_64(&mut dst[..whole], &src[..whole]);
        dst[whole..].copy_from_slice(&src[whole..]);
        return;
    }
    copy_unaliased(dst, src);
}

/// `dst` is 16-byte aligned, `dst.len() == src.len()`, a multiple of 16.
#[cfg(target_arch = "x86_64")]
fn stream_x86_64(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_sfence, _mm_stream_si128};
    for (d, s) in dst.chunks_exact_mut(LANE).zip(src.chunks_exact(LANE)) {
        // SAFETY: SSE2 is part of the x86-64 baseline. `s` is 16 readable bytes (the
        // unaligned load has no alignment requirement); `d` is 16 writable bytes at a
        // 16-byte boundary (the start of `dst` is aligned and every chunk is 16 bytes),
        // as the streaming store requires, and nothing else refers to it meanwhile
        // (`dst` is borrowed mutably).
        unsafe {
            let v = _mm_loadu_si128(s.as_ptr().cast::<__m128i>());
            _mm_stream_si128(d.as_mut_ptr().cast::<__m128i>(), v);
        }
    }
    // Streaming stores are weakly ordered: the fence makes them visible before any later
    // store of this thread (the volume lock's release, after which others read the data),
    // as the intrinsic's contract asks before the memory is accessed again.
    // SAFETY: SSE is part of the x86-64 baseline; the fence has no other requirement.
    unsafe { _mm_sfence() };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_length_and_alignment() {
        let src: Vec<u8> = (0..9000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut dst = vec![0u8; 9100];
        for start in [0usize, 1, 8, 15, 16, 64] {
            for len in [0usize, 1, 15, 16, 63, 64, 65, 512, 4096, 4111, 8192] {
                dst.fill(0xEE);
                let from = start % 3;
                copy_streaming(&mut dst[start..start + len], &src[from..from + len]);
                assert_eq!(&dst[start..start + len], &src[from..from + len], "{start} {len}");
                assert!(dst[..start].iter().all(|&b| b == 0xEE), "before {start} {len}");
                assert!(dst[start + len..].iter().all(|&b| b == 0xEE), "after {start} {len}");
            }
        }
    }

    #[test]
    fn copies_in_small_and_large() {
        let src: Vec<u8> = (0..40_000u32).map(|i| (i * 5 + 1) as u8).collect();
        for len in [512usize, 4096, STREAM_AT_MOST, STREAM_AT_MOST + 512, 40_000] {
            let mut dst = vec![0u8; len];
            copy_in(&mut dst, &src[..len]);
            assert_eq!(dst, src[..len], "{len}");
        }
    }

    #[test]
    fn copies_out_whatever_the_distance_of_the_pages() {
        let src: Vec<u8> = (0..3 * 4096u32).map(|i| (i * 11 + 5) as u8).collect();
        let page = src.as_ptr().align_offset(4096);
        let src = &src[page..page + 8192];
        let mut buf = vec![0u8; 4 * 4096];
        let base = buf.as_ptr().align_offset(4096);
        // Destinations at, just past (the aliased window) and far from the source's offset.
        for past in [0usize, 1, 8, 24, 63, 64, 200] {
            for len in [100usize, 4096, 8192 - past] {
                let at = base + past;
                buf.fill(0xEE);
                copy_unaliased(&mut buf[at..at + len], &src[..len]);
                assert_eq!(&buf[at..at + len], &src[..len], "{past} {len}");
                assert!(buf[..at].iter().chain(&buf[at + len..]).all(|&b| b == 0xEE));
                let mut out: Vec<u8> = Vec::with_capacity(4 * 4096);
                let head = (out.as_ptr().align_offset(4096) + past) % 4096;
                out.resize(head, 7);
                append_out(&mut out, &src[..len]);
                assert_eq!(out.len(), head + len);
                assert!(out[..head].iter().all(|&b| b == 7) && out[head..] == src[..len]);
            }
        }
    }

    #[test]
    fn unequal_lengths_copy_the_common_prefix() {
        let mut dst = [0u8; 100];
        copy_streaming(&mut dst, &[9u8; 80]);
        assert!(dst[..80].iter().all(|&b| b == 9) && dst[80..].iter().all(|&b| b == 0));
    }
}
