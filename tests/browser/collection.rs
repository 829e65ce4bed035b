//! The collection managed from the page: a holding added from a search result, edited, sold
//! and deleted; a CSV import previewed row by row, imported and undone.

use std::{path::Path, time::Duration};

use serde_json::json;

use crate::cdp::Browser;

const LONG: Duration = Duration::from_secs(60);

/// JavaScript: sets a form field (by id) and tells the page it changed.
fn set(id: &str, value: &str) -> String {
    format!(
        "(() => {{ const e = document.getElementById({id:?}); e.value = {value:?}; \
         e.dispatchEvent(new Event('input', {{bubbles: true}})); \
         e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()"
    )
}

/// JavaScript: clicks the submit button of the open dialog `id` (`''`: any modal).
fn submit(id: &str) -> String {
    let sel = if id.is_empty() {
        "dialog.modal[open] [data-action=submit]".to_owned()
    } else {
        format!("dialog#{id}[open] [data-action=submit]")
    };
    format!("(() => {{ document.querySelector({sel:?}).click(); return true; }})()")
}

/// JavaScript: the quantity shown in the row of the holding of `product`, or 0.
fn qty(product: u64) -> String {
    format!(
        "Number([...document.querySelectorAll('#holdings-table tbody tr[data-product-id=\"{product}\"]')]\
         .map(r => r.children[2].textContent).pop() || 0)"
    )
}

fn rows() -> &'static str {
    "document.querySelectorAll('#holdings-table tbody tr[data-holding-id]').length"
}

/// Clicks `selector` as soon as it is there (found and clicked in one go: a view may redraw
/// between a wait and a click).
fn click(b: &mut Browser, what: &str, selector: &str) {
    b.wait_for(
        what,
        &format!(
            "(() => {{ const e = document.querySelector({selector:?}); if (!e) return false; e.click(); return true; }})()"
        ),
        LONG,
    );
}

fn click_row_button(b: &mut Browser, product: u64, action: &str) {
    click(
        b,
        &format!("the {action} button of the holding"),
        &format!(
            "#holdings-table tr[data-product-id=\"{product}\"] button[data-action=\"{action}\"]"
        ),
    );
}

fn wait_dialog(b: &mut Browser, id: &str) {
    let sel = if id.is_empty() {
        "dialog.modal[open]".to_owned()
    } else {
        format!("dialog#{id}[open]")
    };
    b.wait_for(
        &format!("the dialog {sel}"),
        &format!("Boolean(document.querySelector({sel:?}))"),
        LONG,
    );
}

fn wait_closed(b: &mut Browser) {
    b.wait_for(
        "the dialog to close",
        "!document.querySelector('dialog.modal[open]')",
        LONG,
    );
}

/// Add (from the first search result), edit, sell, delete. Returns nothing; panics on a miss.
pub fn add_edit_sell_delete(b: &mut Browser, base: &str, artifacts: &Path) {
    b.go(&format!("{base}/#/cards"));
    let product = b.wait_for(
        "a search result with its + button",
        "Number(document.querySelector('#search-results .card-tile .add-holding')?.closest('.card-tile').dataset.productId || 0)",
        LONG,
    );
    let product = product.as_u64().unwrap();
    click(
        b,
        "the + of the search result",
        &format!("#search-results .card-tile[data-product-id=\"{product}\"] .add-holding"),
    );
    wait_dialog(b, "holding-dialog");
    b.wait_for(
        "the printings of the card in the add dialog",
        "document.querySelectorAll('#holding-printing option').length",
        LONG,
    );
    b.eval(&set("holding-quantity", "2"));
    b.eval(&set("holding-cost", "1.50"));
    b.screenshot(&artifacts.join("browser-holding-add.png"));
    b.eval(&submit("holding-dialog"));
    wait_closed(b);

    b.go(&format!("{base}/#/portfolio"));
    b.wait_for(
        "the added holding (2 copies)",
        &format!("{} === 2", qty(product)),
        LONG,
    );

    click_row_button(b, product, "edit");
    wait_dialog(b, "holding-dialog");
    b.eval(&set("edit-quantity", "3"));
    b.eval(&submit("holding-dialog"));
    wait_closed(b);
    b.wait_for(
        "the edited holding (3 copies)",
        &format!("{} === 3", qty(product)),
        LONG,
    );

    click_row_button(b, product, "sell");
    wait_dialog(b, "sale-dialog");
    b.eval(&set("sale-quantity", "1"));
    b.eval(&set("sale-price", "2.00"));
    b.eval(&submit("sale-dialog"));
    wait_closed(b);
    b.wait_for(
        "the holding after the sale (2 copies)",
        &format!("{} === 2", qty(product)),
        LONG,
    );
    b.wait_for(
        "the realized P&L of the sale in the totals",
        "[...document.querySelectorAll('#portfolio-stats .stat span')].some(s => s.textContent === 'Realized P&L')",
        LONG,
    );
    b.screenshot(&artifacts.join("browser-holding-sold.png"));

    click_row_button(b, product, "delete");
    wait_dialog(b, "");
    b.eval(&submit(""));
    wait_closed(b);
    b.wait_for("the holding gone", &format!("{} === 0", qty(product)), LONG);
}

/// A generic CSV of two rows (one card that exists, one that does not): the preview shows both,
/// the import adds one holding, the undo removes it.
pub fn import_preview_undo(b: &mut Browser, base: &str, card: u64, artifacts: &Path) {
    b.go(&format!("{base}/#/portfolio"));
    let before = b.wait_for("the holdings", rows(), LONG).as_u64().unwrap();
    click(b, "the import button", "#portfolio-import");
    wait_dialog(b, "import-dialog");
    let csv = format!(
        "product_id,quantity,printing,condition,language,cost_per_unit\n\
         {card},1,Normal,Near Mint,English,3.25\n\
         999999991,1,Normal,Near Mint,English,1.00\n"
    );
    b.eval(&set("import-text", &csv));
    b.eval(&submit("import-dialog"));
    let preview = b.wait_for(
        "the preview of both rows",
        "document.querySelectorAll('#import-preview-table tbody tr').length === 2 && \
         document.querySelectorAll('#import-preview-table tbody tr.bad').length",
        LONG,
    );
    assert_eq!(preview, json!(1), "one row cannot be imported");
    assert_eq!(
        b.eval("Number(document.querySelector('#holdings-table').closest('main') && document.querySelectorAll('#holdings-table tbody tr[data-holding-id]').length)"),
        json!(before),
        "nothing is written by the preview"
    );
    b.screenshot(&artifacts.join("browser-import-preview.png"));
    b.eval(&submit("import-dialog"));
    wait_closed(b);
    b.wait_for(
        "the imported holding",
        &format!("{} === {}", rows(), before + 1),
        LONG,
    );
    b.wait_for(
        "the undo button of the import",
        "Boolean(document.querySelector('#import-undo'))",
        LONG,
    );
    b.screenshot(&artifacts.join("browser-import-done.png"));
    click(b, "the undo button", "#import-undo");
    wait_dialog(b, "");
    b.eval(&submit(""));
    wait_closed(b);
    b.wait_for(
        "the import undone",
        &format!(
            "{} === {before} && !document.querySelector('#import-undo')",
            rows()
        ),
        LONG,
    );
}
