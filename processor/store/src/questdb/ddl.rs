//! The schema: schemas/sql/questdb/ddl.sql, split into statements.

/// The DDL, statements separated by lines holding only `;;`.
pub const QUESTDB_DDL: &str = include_str!("../../../../schemas/sql/questdb/ddl.sql");

/// Tables this adapter writes.
pub const TABLES: [&str; 9] = [
    "ticks",
    "alerts",
    "card_sets",
    "products",
    "skus",
    "portfolios",
    "holdings",
    "portfolio_events",
    "alert_rules",
];

/// Columns added after their table was first created: (table, column, type). Tables created
/// before get them at start-up (`ADD COLUMN IF NOT EXISTS` is refused on a WAL table that has the
/// column: QuestDB 9.3 answers "statement is either no-op …").
pub const ADDED_COLUMNS: [(&str, &str, &str); 1] = [
    // The fair value's agreeing sources, comma-joined names.
    ("ticks", "agreeing", "VARCHAR"),
];

/// The DDL statements, comments removed, ready to run one by one.
pub fn ddl_statements() -> Vec<String> {
    QUESTDB_DDL
        .split("\n;;")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}
