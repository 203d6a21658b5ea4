//! API dispatcher (being written).
