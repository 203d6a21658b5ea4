//! Follow-the-sun sites: where each center is (IANA time zone), its shift calendar (shifts per
//! weekday, holidays, handover), the next site in the sun's path, and the on-call contacts per
//! shift. [`coverage`] answers "who is on duty now, and where are the gaps and overlaps".
//!
//! Times are always computed in the site's own zone through chrono-tz, day by day, so DST
//! changes, half-hour offsets (India) and shifts that cross midnight come out right: a shift
//! is "08:00-16:00 local on these weekdays", turned into UTC instants for each local date.

pub mod api;
pub mod coverage;
pub mod spec;

pub use coverage::{coverage, on_duty, Coverage, Duty, Segment};
pub use spec::{Contacts, Shift, Site, SiteSpec, SitesFile, SpecError};
