//! Fuzz targets for ferrous's input boundaries (see `README.md` here).
pub mod entries;
