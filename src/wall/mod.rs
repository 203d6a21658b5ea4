//! Wall profiles and monitor layout (being written).
