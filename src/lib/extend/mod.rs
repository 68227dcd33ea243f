//! The `extend` module (see the table in the crate docs). Being built.
