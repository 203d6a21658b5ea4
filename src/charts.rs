//! charts (being written).
