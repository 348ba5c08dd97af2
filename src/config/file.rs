//! The raw TOML shape of `leakline.toml` (serde, `deny_unknown_fields`).
