//! Black-box tests live in tests/api; this library is intentionally empty.
