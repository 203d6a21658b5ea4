//! rollup (being written).
