use super::*;

#[test]
fn stage_names() {
    assert_eq!(Stage::Regions.writer(), "extend");
    assert_eq!(Stage::Seeds.to_string(), "Seeds");
}
