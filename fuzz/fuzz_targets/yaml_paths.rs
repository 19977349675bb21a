#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    grade_fuzz::harness::yaml_paths(data);
});
