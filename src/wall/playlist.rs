//! Which playlist item a screen shows at a given time. Epoch-aligned, like the UI's
//! `ui/src/lib/rotation.ts#playlistAt`: every screen with the same playlist switches in the
//! same second, and a reloaded window lands on the same item.

/// Shortest dwell honoured (a 1-second flicker is unreadable from across the room).
pub const MIN_DWELL_SECONDS: u32 = 5;

/// `(index, ms until the next switch)` for items with `dwells` seconds each at `now_ms`;
/// `(0, None)` for a single item (no rotation).
pub fn playlist_at(dwells: &[u32], now_ms: i64) -> (usize, Option<i64>) {
    if dwells.len() <= 1 {
        return (0, None);
    }
    let ms: Vec<i64> = dwells
        .iter()
        .map(|d| i64::from((*d).max(MIN_DWELL_SECONDS)) * 1000)
        .collect();
    let cycle: i64 = ms.iter().sum();
    let mut pos = now_ms.rem_euclid(cycle);
    for (i, d) in ms.iter().enumerate() {
        if pos < *d {
            return (i, Some(d - pos));
        }
        pos -= d;
    }
    (0, Some(ms[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_items_do_not_rotate() {
        assert_eq!(playlist_at(&[], 123), (0, None));
        assert_eq!(playlist_at(&[30], 123_456), (0, None));
    }

    #[test]
    fn per_item_dwell_is_honoured_over_the_cycle() {
        let d = [30, 10, 20]; // cycle 60 s
        assert_eq!(playlist_at(&d, 0), (0, Some(30_000)));
        assert_eq!(playlist_at(&d, 29_999), (0, Some(1)));
        assert_eq!(playlist_at(&d, 30_000), (1, Some(10_000)));
        assert_eq!(playlist_at(&d, 40_000), (2, Some(20_000)));
        assert_eq!(playlist_at(&d, 60_000), (0, Some(30_000)));
        assert_eq!(playlist_at(&d, 60_000 * 1000 + 45_000), (2, Some(15_000)));
        // Time on screen per cycle, counted second by second.
        let mut on = [0; 3];
        for s in 0..60 {
            on[playlist_at(&d, s * 1000).0] += 1;
        }
        assert_eq!(on, [30, 10, 20]);
    }

    #[test]
    fn tiny_dwells_are_raised_and_negative_times_work() {
        assert_eq!(playlist_at(&[1, 1], 4_999), (0, Some(1)));
        assert_eq!(playlist_at(&[1, 1], 5_000), (1, Some(5_000)));
        assert_eq!(playlist_at(&[10, 20], -1), (1, Some(1)));
    }
}
