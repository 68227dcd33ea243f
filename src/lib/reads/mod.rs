//! The `reads` module (see the table in the crate docs). Being built.
