//! (report: filled by its issue.)
