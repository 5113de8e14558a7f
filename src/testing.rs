//! Helpers for the project's own tests (unit and integration): not part of
//! the gateway's API.

/// `bytes` cut at `points` (each taken modulo `len + 1`, in order): the
/// pieces a stream decoder is fed to show that its output does not depend
/// on how the bytes arrive. A repeated point gives an empty piece, which
/// decoders must take in their stride too.
pub fn split_at_points(bytes: &[u8], points: impl IntoIterator<Item = usize>) -> Vec<&[u8]> {
    let mut cuts: Vec<usize> = points.into_iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        pieces.push(&bytes[start..cut]);
        start = cut;
    }
    pieces.push(&bytes[start..]);
    pieces
}
