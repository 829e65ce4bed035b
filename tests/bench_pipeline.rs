//! `tcgtracker bench pipeline` runs end to end against a real broker (Apache Kafka from
//! `tcg-engines`, on free loopback ports) and prints the figures its readers rely on: one JSON
//! object with every phase's rate, CPU per quote (whole, second half, by thread), page faults and
//! memory, and the ratios. A small run: the figures themselves are measured by hand (see the
//! README), not asserted here.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::too_many_lines)] // a test reads best as one scenario, top to bottom

use std::process::Command;

use serde_json::Value;
use tcg_engines::Kafka;

fn number(v: &Value, path: &[&str]) -> f64 {
    let mut at = v;
    for key in path {
        at = &at[*key];
    }
    at.as_f64()
        .unwrap_or_else(|| panic!("{} is not a number in {v}", path.join(".")))
}

#[test]
fn bench_pipeline_prints_every_phase_and_ratio_as_one_json_object() {
    let broker = Kafka::start().expect("kafka broker");
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tcgtracker"))
        .args(["bench", "pipeline", "--json", "--brokers"])
        .arg(broker.brokers())
        .args([
            "--quotes",
            "4000",
            "--partitions",
            "2",
            "--batch-max",
            "500",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {}\n{}\nbroker: {}",
        stdout,
        String::from_utf8_lossy(&out.stderr),
        broker.log()
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one JSON line with --json: {stdout}");
    let report: Value = serde_json::from_str(lines[0]).unwrap();

    assert_eq!(report["bench"], "pipeline");
    assert_eq!(number(&report, &["messages"]), 4000.0);
    assert_eq!(number(&report, &["bare_consume", "messages"]), 4000.0);
    for phase in ["bare_consume", "null_sink", "sqlite_store"] {
        assert!(number(&report, &[phase, "quotes_per_s"]) > 0.0, "{phase}");
        assert!(
            number(&report, &[phase, "cpu_us_per_quote"]) >= 0.0,
            "{phase}"
        );
        assert!(
            number(&report, &[phase, "page_faults_per_1000_quotes"]) >= 0.0,
            "{phase}"
        );
        let by_thread = &report[phase]["cpu_us_per_quote_by_thread"];
        for kind in [
            "runtime_workers",
            "librdkafka_threads",
            "harness_main_thread",
            "other_threads",
        ] {
            assert!(by_thread[kind].as_f64().is_some(), "{phase}.{kind}");
        }
        assert_eq!(
            report[phase]["rss_mib_start_end"].as_array().unwrap().len(),
            2
        );
    }
    // The processor phases count from the first time the harness sees a delivered batch (the
    // group join is not throughput), so some batches may come before the count starts.
    for phase in ["null_sink", "sqlite_store"] {
        let n = number(&report, &[phase, "messages"]);
        assert!(n > 0.0 && n <= 4000.0, "{phase}: {n}");
        assert!(
            number(
                &report,
                &[phase, "cpu_us_per_quote_by_thread", "runtime_workers"]
            ) > 0.0,
            "the processor thread and the runtime's threads ran"
        );
    }
    let ratio = number(&report, &["ratio_null_sink_to_bare_consume"]);
    let expected = number(&report, &["null_sink", "quotes_per_s"])
        / number(&report, &["bare_consume", "quotes_per_s"]);
    assert!((ratio - expected).abs() < 1e-9);
    assert!(number(&report, &["ratio_sqlite_to_bare_consume"]) > 0.0);
    assert_eq!(
        number(&report, &["processor_cpu_us_per_quote_null_sink"]),
        number(&report, &["null_sink", "cpu_us_per_quote"])
    );
    assert_eq!(
        number(
            &report,
            &["targets", "processor_cpu_us_per_quote_null_sink"]
        ),
        2.0
    );
    // The SQLite phase wrote its store where it was told.
    assert!(data.path().join("bench.db").exists());
}
