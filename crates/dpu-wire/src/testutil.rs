//! Test helpers: a tiny deterministic PRNG and the "never panics" driver.

/// xorshift64* (Marsaglia / Vigna); deterministic, good enough to generate test inputs.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Feeds `parse` every prefix of every golden packet, a few thousand single-byte and
/// multi-byte mutations of them, and a few thousand random byte strings. The closure must
/// exercise every accessor of whatever it parsed; the test passes if nothing panics.
pub(crate) fn never_panics(goldens: &[&[u8]], seed: u64, mut parse: impl FnMut(&[u8])) {
    for g in goldens {
        for n in 0..=g.len() {
            parse(&g[..n]);
        }
    }
    let mut rng = XorShift::new(seed);
    for g in goldens {
        if g.is_empty() {
            continue;
        }
        for _ in 0..1000 {
            let mut m = g.to_vec();
            for _ in 0..=rng.below(4) {
                let i = rng.below(m.len());
                m[i] = rng.next_u64() as u8;
            }
            let cut = rng.below(m.len() + 1);
            parse(&m);
            parse(&m[..cut]);
        }
    }
    for _ in 0..4000 {
        let len = rng.below(160);
        parse(&rng.bytes(len));
    }
}
