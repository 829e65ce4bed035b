//! The ECB reference rates the simulator serves: `eurofxref` XML documents whose rates wobble
//! smoothly around realistic levels, a pure function of (seed, day).

use chrono::{Datelike, NaiveDate};

use crate::rng;

/// The currencies of every document: (code, level per euro, decimals).
pub const FX_BASES: &[(&str, f64, u32)] = &[
    ("USD", 1.0850, 4),
    ("JPY", 162.50, 2),
    ("GBP", 0.8550, 4),
    ("CHF", 0.9650, 4),
    ("CAD", 1.4700, 4),
    ("AUD", 1.6300, 4),
    ("SEK", 11.450, 3),
    ("PLN", 4.3100, 4),
];

/// One day's `<Cube time=…>` with every currency.
fn fx_day_xml(seed: u64, day: NaiveDate) -> String {
    let n = i64::from(day.num_days_from_ce()) as f64;
    let mut out = format!("\t\t<Cube time='{day}'>\n");
    for (k, (code, base, dp)) in FX_BASES.iter().enumerate() {
        let key = rng::hash(&[seed, k as u64, 0xF0]);
        let wobble = 0.03 * (n / 40.0 + rng::unit(key) * std::f64::consts::TAU).sin()
            + 0.004 * (rng::unit(rng::hash(&[key, n as u64])) - 0.5);
        let rate = base * (1.0 + wobble);
        out.push_str(&format!(
            "\t\t\t<Cube currency='{code}' rate='{rate:.prec$}'/>\n",
            prec = *dp as usize
        ));
    }
    out.push_str("\t\t</Cube>\n");
    out
}

/// The last `n` weekdays up to and including `from`, newest first.
pub fn business_days_back(from: NaiveDate, n: u32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = from;
    while out.len() < n as usize {
        if d.weekday().number_from_monday() <= 5 {
            out.push(d);
        }
        match d.pred_opt() {
            Some(p) => d = p,
            None => break,
        }
    }
    out
}

/// A `eurofxref` document (as `eurofxref-daily.xml` or `-hist.xml`) with a cube per day of `days`.
pub fn ecb_document(days: &[NaiveDate], seed: u64) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n\t<gesmes:subject>Reference rates</gesmes:subject>\n\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n\t</gesmes:Sender>\n\t<Cube>\n",
    );
    for d in days {
        xml.push_str(&fx_day_xml(seed, *d));
    }
    xml.push_str("\t</Cube>\n</gesmes:Envelope>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_hold_one_cube_per_business_day() {
        let days = business_days_back(NaiveDate::from_ymd_opt(2024, 5, 5).unwrap_or_default(), 3);
        assert_eq!(days[0].to_string(), "2024-05-03");
        let xml = ecb_document(&days, 1);
        assert_eq!(xml.matches("<Cube time=").count(), 3);
        assert_eq!(xml.matches("<Cube currency=").count(), 3 * FX_BASES.len());
    }
}
