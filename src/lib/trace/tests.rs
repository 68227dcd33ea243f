use super::*;

/// Sessions are process-wide: the tests that start one take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The trace events of `text` (one per line, as the writer puts them)
/// whose `first_read` is `key`, so that spans of other tests running at
/// the same time are left out.
fn events_of(text: &str, key: u64) -> Vec<&str> {
    let tag = format!("\"first_read\":{key},");
    text.lines().filter(|l| l.contains(&tag)).collect()
}

#[test]
fn spans_from_many_threads_land_in_the_file_with_names_and_meta() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let key = 987_654_321;
    let session = Session::start(&path).unwrap();
    assert!(
        !path.exists(),
        "written under a temporary name until finished"
    );
    std::thread::scope(|s| {
        for t in 0..3 {
            std::thread::Builder::new()
                .name(format!("w{t}"))
                .spawn_scoped(s, move || {
                    // More spans than a thread buffers, to hand some on early.
                    for k in 0..(LOCAL_SPANS as u64 + 10) {
                        let mut sp = span(Kind::Align, key, k);
                        if k == 0 {
                            let _f = Timed::start();
                            sp.arg("reads", 64);
                        }
                    }
                })
                .unwrap();
        }
    });
    let mut meta = Meta::default();
    meta.num("threads", 3).text("command", "ferrous mem \"x\"");
    session.finish(&meta).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"traceEvents\":[\n"));
    assert!(text.ends_with("\"threads\":3,\"command\":\"ferrous mem \\\"x\\\"\"}}\n"));
    let ev = events_of(&text, key);
    assert_eq!(ev.len(), 3 * (LOCAL_SPANS + 10));
    assert!(ev
        .iter()
        .all(|l| l.contains("\"name\":\"align\",\"cat\":\"task\",\"ph\":\"X\"")));
    let first = ev.iter().filter(|l| l.contains("\"task\":0,")).count();
    assert_eq!(first, 3);
    assert_eq!(
        ev.iter().filter(|l| l.contains(",\"reads\":64}")).count(),
        3
    );
    assert_eq!(
        ev.iter().filter(|l| l.contains("\"format_us\":")).count(),
        3
    );
    for t in 0..3 {
        assert!(text.contains(&format!("\"args\":{{\"name\":\"w{t}\"}}")));
    }
    // Commas between events only: every line but the first and the last
    // two ends with one.
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines[1..lines.len() - 2] {
        assert!(l.ends_with("},"), "{l}");
    }
}

#[test]
fn off_records_nothing_and_an_unfinished_session_leaves_no_file() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    {
        let _s = Session::start(&path).unwrap();
        assert!(Session::start(&dir.path().join("u.json")).is_err());
        drop(span(Kind::Pair, 5, 0));
    }
    assert!(!enabled());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let quiet = span(Kind::Pair, 5, 0);
    assert!(quiet.live.is_none());
    // A new session starts clean: the spans of the old one are gone.
    let session = Session::start(&path).unwrap();
    drop(span(Kind::Write, 6, 1));
    session.finish(&Meta::default()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(events_of(&text, 5).is_empty());
    assert_eq!(events_of(&text, 6).len(), 1);
    assert!(text.contains("\"name\":\"write\",\"cat\":\"io\""));
}

/// What a span costs when recording (not run by default):
/// `cargo test --release --lib span_cost -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn span_cost() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000u64;
    let t = Instant::now();
    for k in 0..n {
        drop(span(Kind::Align, 1, k));
    }
    let off = t.elapsed().as_nanos() as f64 / n as f64;
    let session = Session::start(&dir.path().join("t.json")).unwrap();
    let t = Instant::now();
    let c = thread_cpu_ns();
    for k in 0..n {
        drop(span(Kind::Align, 1, k));
    }
    let on = t.elapsed().as_nanos() as f64 / n as f64;
    let cpu = (thread_cpu_ns() - c) as f64 / n as f64;
    session.finish(&Meta::default()).unwrap();
    println!("span off {off:.1} ns, on {on:.0} ns wall, {cpu:.0} ns CPU");
}
