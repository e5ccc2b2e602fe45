//! The Node.js release table: lines, LTS dates, end of life, latest patches, codenames.
//!
//! A table ships in `templates/node-releases.toml`; `--node-release-table FILE` reads a fresh
//! copy of Node's `dist/index.json` on top of it.

use std::sync::OnceLock;

use serde::Deserialize;

/// One release line (a major version).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ReleaseLine {
    pub major: u32,
    pub start: Option<String>,
    /// When the line became LTS (Active LTS starts).
    pub lts: Option<String>,
    /// When Active LTS ends and Maintenance LTS starts.
    pub maintenance: Option<String>,
    pub end_of_life: Option<String>,
    /// Lowercase, as in image tags (`jod`).
    pub codename: Option<String>,
    /// The newest release of the line, `26.7.0`.
    pub latest: Option<String>,
    /// The Debian release of the line's default image (`trixie`).
    pub debian: Option<String>,
    /// The Alpine variant of the line's default Alpine image (`alpine3.24`).
    pub alpine: Option<String>,
}

impl ReleaseLine {
    pub fn is_eol(&self, today: &str) -> bool {
        self.end_of_life.as_deref().is_some_and(|eol| eol <= today)
    }

    pub fn is_active_lts(&self, today: &str) -> bool {
        self.lts.as_deref().is_some_and(|lts| lts <= today)
            && self.maintenance.as_deref().is_none_or(|m| today < m)
            && !self.is_eol(today)
    }
}

/// The release table and the day it was read.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ReleaseTable {
    pub date: String,
    #[serde(rename = "line")]
    pub lines: Vec<ReleaseLine>,
}

impl ReleaseTable {
    /// The table shipped with unroot.
    pub fn builtin() -> &'static ReleaseTable {
        static TABLE: OnceLock<ReleaseTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            toml::from_str(include_str!("../../templates/node-releases.toml"))
                .expect("templates/node-releases.toml is valid (tested)")
        })
    }

    /// Node's `dist/index.json` (newest first) merged over the shipped table: latest
    /// patches, codenames and LTS starts come from the file, the rest from the table.
    pub fn from_index_json(text: &str) -> Result<ReleaseTable, String> {
        #[derive(Deserialize)]
        struct Release {
            version: String,
            date: String,
            #[serde(default)]
            lts: serde_json::Value,
        }
        let releases: Vec<Release> = serde_json::from_str(text)
            .map_err(|err| format!("not a Node.js dist/index.json: {err}"))?;
        if releases.is_empty() {
            return Err("not a Node.js dist/index.json: no releases".to_string());
        }
        let mut table = ReleaseTable::builtin().clone();
        table.date = releases
            .iter()
            .map(|r| r.date.clone())
            .max()
            .unwrap_or_default();
        for release in &releases {
            let version = release.version.trim_start_matches('v');
            let Some(major) = version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
            else {
                continue;
            };
            let position = match table.lines.iter().position(|line| line.major == major) {
                Some(position) => position,
                None => {
                    table.lines.push(ReleaseLine {
                        major,
                        ..ReleaseLine::default()
                    });
                    table.lines.len() - 1
                }
            };
            let line = &mut table.lines[position];
            if line
                .latest
                .as_deref()
                .is_none_or(|latest| newer(version, latest))
            {
                line.latest = Some(version.to_string());
            }
            if line
                .start
                .as_deref()
                .is_none_or(|start| release.date.as_str() < start)
            {
                line.start = Some(release.date.clone());
            }
            if let Some(codename) = release.lts.as_str() {
                line.codename = Some(codename.to_ascii_lowercase());
                if line
                    .lts
                    .as_deref()
                    .is_none_or(|lts| release.date.as_str() < lts)
                {
                    line.lts = Some(release.date.clone());
                }
            }
        }
        table
            .lines
            .sort_by_key(|line| std::cmp::Reverse(line.major));
        Ok(table)
    }

    pub fn line(&self, major: u32) -> Option<&ReleaseLine> {
        // io.js (1–3) and 0.x share the 0 entry.
        let major = if major < 4 { 0 } else { major };
        self.lines.iter().find(|line| line.major == major)
    }

    pub fn by_codename(&self, codename: &str) -> Option<&ReleaseLine> {
        let codename = codename.to_ascii_lowercase();
        self.lines
            .iter()
            .find(|line| line.codename.as_deref() == Some(codename.as_str()))
    }

    /// The newest Active LTS line with a known release; else the newest LTS line still
    /// supported.
    pub fn active_lts(&self, today: &str) -> Option<&ReleaseLine> {
        let released = |line: &&ReleaseLine| line.latest.is_some();
        self.lines
            .iter()
            .filter(released)
            .filter(|line| line.is_active_lts(today))
            .max_by_key(|line| line.major)
            .or_else(|| {
                self.lines
                    .iter()
                    .filter(released)
                    .filter(|line| {
                        line.lts.as_deref().is_some_and(|lts| lts <= today) && !line.is_eol(today)
                    })
                    .max_by_key(|line| line.major)
            })
    }

    /// Whole months between the table's date and `today`.
    pub fn age_in_months(&self, today: &str) -> i64 {
        let months = |date: &str| -> Option<i64> {
            let mut parts = date.split('-');
            let year: i64 = parts.next()?.parse().ok()?;
            let month: i64 = parts.next()?.parse().ok()?;
            let day: i64 = parts.next().unwrap_or("1").parse().ok()?;
            Some(year * 12 + month - if day < 1 { 1 } else { 0 })
        };
        match (months(&self.date), months(today)) {
            (Some(from), Some(to)) => to - from,
            _ => 0,
        }
    }

    /// A note when the table is more than six months old, for the output.
    pub fn staleness(&self, today: &str) -> Option<String> {
        let age = self.age_in_months(today);
        (age > 6).then(|| {
            format!(
                "the Node.js release table is from {} ({age} months ago): refresh it with `--node-release-table` and Node's dist/index.json",
                self.date
            )
        })
    }
}

/// `a` is a newer `X.Y.Z` than `b`.
fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) > parse(b)
}

/// Today's date as `YYYY-MM-DD` (UTC); `UNROOT_TODAY` overrides it for reproducible runs.
pub fn today() -> String {
    if let Ok(date) = std::env::var("UNROOT_TODAY") {
        return date;
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((seconds / 86_400) as i64)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_knows_the_lines() {
        let table = ReleaseTable::builtin();
        assert_eq!(table.date, "2026-11-24");
        assert_eq!(table.active_lts("2026-11-24").map(|l| l.major), Some(26));
        assert_eq!(table.by_codename("JOD").map(|l| l.major), Some(22));
        assert!(table.line(20).unwrap().is_eol("2026-11-24"));
        assert!(table.line(0).unwrap().is_eol("2026-11-24"));
        assert!(!table.line(22).unwrap().is_eol("2026-11-24"));
        // Before 26 became LTS, 24 was the newest Active LTS line.
        assert_eq!(table.active_lts("2026-06-01").map(|l| l.major), Some(24));
    }

    #[test]
    fn index_json_updates_patches() {
        let json = r#"[
            {"version":"v26.8.1","date":"2027-01-10","lts":"Lithium","security":false},
            {"version":"v26.8.0","date":"2027-01-02","lts":"Lithium"},
            {"version":"v28.0.0","date":"2027-04-20","lts":false}
        ]"#;
        let table = ReleaseTable::from_index_json(json).unwrap();
        assert_eq!(table.date, "2027-04-20");
        assert_eq!(table.line(26).unwrap().latest.as_deref(), Some("26.8.1"));
        assert_eq!(table.line(28).unwrap().latest.as_deref(), Some("28.0.0"));
        assert!(ReleaseTable::from_index_json("{}").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_781), "2026-11-24");
        let table = ReleaseTable::builtin();
        assert_eq!(table.age_in_months("2027-06-30"), 7);
        assert!(table.staleness("2027-06-30").is_some());
        assert!(table.staleness("2027-03-01").is_none());
    }
}
