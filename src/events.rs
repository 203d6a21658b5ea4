//! Event bus (being written).
