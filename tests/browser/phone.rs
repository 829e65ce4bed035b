//! Every tab at 390×844: the four tabs reachable, no control outside the viewport, nothing
//! wider than the screen (tables become stacked cards; the price grid scrolls in its box).

use std::{path::Path, time::Duration};

use serde_json::Value;

use crate::cdp::Browser;

const LONG: Duration = Duration::from_secs(60);

/// JavaScript: the page's width and every visible control that pokes out of the viewport
/// (controls inside a box that scrolls sideways on purpose are left out).
const OVERFLOW: &str = "(() => { const W = innerWidth, H = innerHeight; \
  const bad = [...document.querySelectorAll('button, a, input, select, textarea')].filter(e => { \
    const r = e.getBoundingClientRect(); \
    if (!r.width || !r.height || e.closest('[hidden]')) return false; \
    const box = e.closest('.table-wrap:not(.cards)'); \
    if (box && box.scrollWidth > box.clientWidth) return false; \
    return r.left < -1 || r.right > W + 1; \
  }).map(e => `${e.tagName.toLowerCase()}#${e.id || ''} ${(e.textContent || e.value || '').trim().slice(0, 30)}`); \
  const tabs = [...document.querySelectorAll('.tabs a')].filter(a => { \
    const r = a.getBoundingClientRect(); return r.width > 0 && r.left >= -1 && r.right <= W + 1 && r.top >= -1 && r.bottom <= H + 1; }).length; \
  return { width: document.documentElement.scrollWidth, W, bad, tabs }; })()";

fn check(b: &mut Browser, what: &str) {
    let v: Value = b.eval(OVERFLOW);
    let width = v["width"].as_u64().unwrap_or(0);
    let w = v["W"].as_u64().unwrap_or(0);
    assert!(
        width <= w + 1,
        "{what}: the page is {width}px wide on a {w}px screen ({v})"
    );
    assert_eq!(
        v["bad"].as_array().map_or(0, Vec::len),
        0,
        "{what}: controls outside the viewport: {}",
        v["bad"]
    );
    assert_eq!(v["tabs"], 4, "{what}: all four tabs on screen ({v})");
}

/// Walks every tab (and the add dialog) on a phone.
pub fn every_tab(b: &mut Browser, base: &str, card: u64, artifacts: &Path) {
    b.phone();
    let views: [(&str, String, &str); 5] = [
        (
            "cards",
            format!("{base}/#/cards"),
            "document.querySelectorAll('#search-results .card-tile').length",
        ),
        (
            "card",
            format!("{base}/#/card/{card}"),
            "document.querySelector('#card-name') && Number(document.querySelector('#price-chart svg')?.dataset.points || 0)",
        ),
        (
            "portfolio",
            format!("{base}/#/portfolio"),
            "document.querySelectorAll('#holdings-table tbody tr').length",
        ),
        (
            "alerts",
            format!("{base}/#/alerts"),
            "document.querySelector('#rule-card') && document.querySelectorAll('#rules .rule').length",
        ),
        (
            "live",
            format!("{base}/#/live"),
            "document.querySelectorAll('#tick-table tbody tr[data-series-id]').length",
        ),
    ];
    for (name, url, ready) in views {
        b.go(&url);
        b.wait_for(&format!("the {name} tab on a phone"), ready, LONG);
        std::thread::sleep(Duration::from_millis(300)); // layout settles
        check(b, name);
        b.assert_no_stray_text(name);
        b.screenshot(&artifacts.join(format!("browser-phone-{name}.png")));
    }
    // A dialog fits too.
    b.go(&format!("{base}/#/card/{card}"));
    b.wait_for(
        "the card page's add button, clicked",
        "(() => { const a = document.querySelector('#card-add'); if (!a) return false; a.click(); return true; })()",
        LONG,
    );
    b.wait_for(
        "the add dialog on a phone",
        "document.querySelectorAll('#holding-printing option').length",
        LONG,
    );
    check(b, "the add dialog");
    b.screenshot(&artifacts.join("browser-phone-add.png"));
    b.eval("document.querySelector('dialog.modal[open] [data-action=cancel]').click()");
    b.desktop();
}
