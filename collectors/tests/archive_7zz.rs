//! Cross-checks the pure-Rust PPMd 7z reader/writer with the reference `7zz` (Debian `7zip`)
//! when it is installed; without it the test says so and passes.

use std::process::Command;

use tcg_collectors::tcgcsv::archive::read_price_archive;
use tcg_simulator::archive::write_ppmd_archive;

fn have_7zz() -> bool {
    Command::new("7zz")
        .arg("i")
        .output()
        .is_ok_and(|o| o.status.success())
}

const PRICES: &str = r#"{"success":true,"errors":[],"results":[{"productId":42,"lowPrice":1.25,"midPrice":2.5,"highPrice":null,"marketPrice":2.1,"directLowPrice":null,"subTypeName":"Holofoil"}]}"#;

#[test]
fn reads_what_7zz_writes_and_7zz_reads_what_we_write() {
    if !have_7zz() {
        assert!(
            std::env::var_os("CI").is_none(),
            "7zz is missing in CI: .ci/run installs Debian's 7zip"
        );
        eprintln!("SKIPPED: 7zz not installed, no cross-check (apt-get install 7zip)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcg-7zz-{}", std::process::id()));
    let tree = dir.join("2024-02-08/3/3170");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("prices"), PRICES).unwrap();
    let ours = dir.join("theirs.7z");
    let out = Command::new("7zz")
        .current_dir(&dir)
        .args(["a", "-m0=PPMd", "theirs.7z", "2024-02-08"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let bytes = std::fs::read(&ours).unwrap();
    let contents = read_price_archive("theirs.7z", &bytes).unwrap();
    assert_eq!(contents.groups.len(), 1);
    assert_eq!(contents.groups[0].rows[0].product_id, 42);

    let mine = write_ppmd_archive(&[(
        "2024-02-09/3/3170/prices".into(),
        PRICES.as_bytes().to_vec(),
    )])
    .unwrap();
    let path = dir.join("mine.7z");
    std::fs::write(&path, mine).unwrap();
    let out = Command::new("7zz")
        .args(["l", "-slt"])
        .arg(&path)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listing}");
    assert!(listing.contains("Method = PPMD"), "{listing}");
    let out = Command::new("7zz")
        .args(["x", "-so"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), PRICES);
    std::fs::remove_dir_all(&dir).ok();
}
