//! The `rescue` stage of the pipeline (see the table in the crate docs).
//!
//! Not built yet: the `ferrous` binary refuses the matching subcommand with a
//! clear error until this module holds a real implementation.
