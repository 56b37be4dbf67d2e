//! Splitting a launch's work into work-items that keep every thread busy.

/// Work-item size for `units` units of work (rows, pixels, ...) handed out `granule` at a
/// time (a register tile), at most about `max_per_item` per item (cache blocking), on
/// `threads` threads: the item count is rounded up to a multiple of `threads`, so that no
/// thread gets one item more than another, and the size is rounded up to whole granules.
///
/// 196 rows (a 14x14 output), at most 48 per item, tiles of 4, on 2 threads: 6 items of 36
/// rows rather than 5 items of 48 (4 of 48 and one of 4, which left one thread with 3 of
/// them).
pub fn balanced_chunk(units: usize, granule: usize, max_per_item: usize, threads: usize) -> usize {
    let granule = granule.max(1);
    let units = units.max(1);
    let mut items = units.div_ceil(max_per_item.max(1));
    if threads > 1 {
        items = items.next_multiple_of(threads);
    }
    units.div_ceil(items).next_multiple_of(granule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_even_over_the_threads() {
        // One thread: the cache blocking alone, in whole granules.
        assert_eq!(balanced_chunk(196, 4, 48, 1), 40);
        // Two threads: an even number of items.
        assert_eq!(balanced_chunk(196, 4, 48, 2), 36);
        assert_eq!(196usize.div_ceil(36) % 2, 0);
        // A 7x7 output on two threads: two items, not one of 48 rows and one of 1.
        assert_eq!(balanced_chunk(49, 4, 48, 2), 28);
        // Never zero, whatever the input.
        assert_eq!(balanced_chunk(0, 0, 0, 0), 1);
        assert_eq!(balanced_chunk(3, 8, 48, 4), 8);
    }
}
