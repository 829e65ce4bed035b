//! The tracked printing and what the title's printing words say about it.

use tcg_schemas::Printing;

use super::scan::print;

/// The tracked printing from the catalog's printing name.
pub(super) fn of_target(printing: Option<&str>) -> Printing {
    match printing {
        None | Some("Normal") => Printing::Normal,
        Some("Holofoil") => Printing::Holofoil,
        Some("Reverse Holofoil") => Printing::ReverseHolofoil,
        Some("Foil") => Printing::Foil,
        Some("1st Edition") => Printing::FirstEdition,
        Some("Unlimited") => Printing::Unlimited,
        Some(other) => Printing::parse(other),
    }
}

/// What the title's printing words say about the tracked printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PrintingCheck {
    Agrees,
    /// A distinguishing word is missing ("1st Edition" not said for a 1st Edition card).
    Lacks,
    /// The title names another printing ("Reverse Holo" for a Holofoil): never priced.
    Contradicts(&'static str),
}

/// What the title's printing words (`seen`, [`print`] flags) say about the tracked printing.
pub(super) fn check(printing: &Printing, seen: u8) -> PrintingCheck {
    let has = |bit: u8| seen & bit != 0;
    let said = |bits: &[(u8, &'static str)]| {
        bits.iter()
            .find(|(bit, _)| has(*bit))
            .map_or(PrintingCheck::Agrees, |(_, what)| {
                PrintingCheck::Contradicts(what)
            })
    };
    const REVERSE: (u8, &str) = (print::REVERSE, "Reverse Holo");
    const FOIL: (u8, &str) = (print::FOIL, "Foil");
    const ETCHED: (u8, &str) = (print::ETCHED, "Etched");
    const NON_FOIL: (u8, &str) = (print::NON_FOIL, "Non-Holo/Non-Foil");
    const FIRST: (u8, &str) = (print::FIRST, "1st Edition");
    const UNLIMITED: (u8, &str) = (print::UNLIMITED, "Unlimited");
    const HOLO: (u8, &str) = (print::HOLO, "Holo");
    let (contradiction, lacks) = match printing {
        Printing::Normal => (said(&[REVERSE, FOIL, ETCHED]), false),
        Printing::Holofoil => (said(&[REVERSE, NON_FOIL]), false),
        Printing::ReverseHolofoil => {
            let holo_only = if has(print::REVERSE) {
                said(&[NON_FOIL])
            } else {
                said(&[NON_FOIL, HOLO])
            };
            (holo_only, !has(print::REVERSE))
        }
        Printing::FirstEditionHolofoil | Printing::FirstEditionNormal | Printing::FirstEdition => {
            (said(&[UNLIMITED]), !has(print::FIRST))
        }
        Printing::UnlimitedHolofoil | Printing::UnlimitedNormal | Printing::Unlimited => {
            (said(&[FIRST]), false)
        }
        Printing::Foil => (said(&[NON_FOIL]), !has(print::FOIL) && !has(print::HOLO)),
        Printing::EtchedFoil => (said(&[NON_FOIL]), !has(print::ETCHED)),
        Printing::Limited | Printing::Other(_) => (PrintingCheck::Agrees, false),
    };
    match contradiction {
        PrintingCheck::Agrees if lacks => PrintingCheck::Lacks,
        other => other,
    }
}
