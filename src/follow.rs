//! (follow: filled by its issue.)
