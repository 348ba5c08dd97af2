//! (tui: filled by its issue.)
