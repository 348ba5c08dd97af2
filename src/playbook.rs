//! (playbook: filled by its issue.)
