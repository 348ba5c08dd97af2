//! (case: filled by its issue.)
