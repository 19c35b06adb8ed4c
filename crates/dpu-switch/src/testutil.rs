//! Test helpers.

/// One step of xorshift64 (Marsaglia): a deterministic stream of test inputs from `state`
/// (never zero).
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
