#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrous_fuzz::entries::reads(data));
