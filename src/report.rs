//! Reports built from a `Snapshot`. `analysis` is the `leakline.analysis/1` JSON document of
//! `leakline analyze`; the incident report writers live beside it.

pub mod analysis;
