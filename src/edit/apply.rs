//! Applying fixes to a text: conservative, never half a fix.

use std::collections::BTreeMap;

use super::{Applicability, Edit, Fix};
use crate::syntax::Span;

/// The result of applying a set of fixes once.
#[derive(Debug, Default)]
pub struct Applied {
    pub text: String,
    /// Indexes (into the `fixes` given) of the fixes that were applied.
    pub applied: Vec<usize>,
}

/// Applies every fix at or above `threshold`, in order of position. A fix that overlaps
/// (or touches at the same insertion point with other content) text already changed is
/// skipped whole; an edit identical to one already applied counts once.
pub fn apply_fixes(source: &str, fixes: &[&Fix], threshold: Applicability) -> Applied {
    let mut order: Vec<usize> = (0..fixes.len())
        .filter(|&i| fixes[i].applies(threshold) && !fixes[i].edits.is_empty())
        .collect();
    order.sort_by_key(|&i| (fixes[i].edits[0].span.start, fixes[i].edits[0].span.end, i));

    let mut accepted = Accepted::default();
    let mut applied = Vec::new();
    for i in order {
        let fix = fixes[i];
        if fix.edits.iter().any(|edit| accepted.conflicts(edit)) {
            continue;
        }
        for edit in &fix.edits {
            accepted.insert(edit);
        }
        applied.push(i);
    }
    let mut edits = accepted.into_edits();
    edits.sort();

    let mut text = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in edits {
        text.push_str(&source[cursor..edit.span.start]);
        text.push_str(&edit.content);
        cursor = edit.span.end;
    }
    text.push_str(&source[cursor..]);
    applied.sort_unstable();
    Applied { text, applied }
}

/// The edits accepted so far, which never overlap one another, indexed so that a new edit is
/// checked against them in logarithmic time (a file with thousands of fixes stays linear).
#[derive(Default)]
struct Accepted<'a> {
    /// Replacements and deletions by start: disjoint, so sorted by end as well.
    ranges: BTreeMap<usize, &'a Edit>,
    /// Insertions by position and content (one fix may insert twice at one point).
    inserts: BTreeMap<(usize, &'a str), &'a Edit>,
}

impl<'a> Accepted<'a> {
    fn contains(&self, edit: &Edit) -> bool {
        if edit.span.is_empty() {
            self.inserts
                .contains_key(&(edit.span.start, edit.content.as_str()))
        } else {
            self.ranges.get(&edit.span.start) == Some(&edit)
        }
    }

    /// `edit` overlaps (or inserts other text at the same point as) an accepted edit that is
    /// not identical to it.
    fn conflicts(&self, edit: &Edit) -> bool {
        if self.contains(edit) {
            return false;
        }
        let Span { start, end } = edit.span;
        let first_insert_from = |from: usize| {
            self.inserts
                .range((from, "")..)
                .next()
                .map(|(&(at, _), _)| at)
        };
        if edit.span.is_empty() {
            // Inside a range: the last range starting before the point is the only candidate.
            let in_range = self
                .ranges
                .range(..start)
                .next_back()
                .is_some_and(|(_, other)| other.span.end > start);
            in_range || first_insert_from(start) == Some(start)
        } else {
            // Of the ranges starting before `edit` ends, the last one ends last.
            let overlaps_range = self
                .ranges
                .range(..end)
                .next_back()
                .is_some_and(|(_, other)| other.span.end > start);
            overlaps_range || first_insert_from(start + 1).is_some_and(|at| at < end)
        }
    }

    fn insert(&mut self, edit: &'a Edit) {
        if edit.span.is_empty() {
            self.inserts
                .insert((edit.span.start, edit.content.as_str()), edit);
        } else {
            self.ranges.insert(edit.span.start, edit);
        }
    }

    fn into_edits(self) -> Vec<&'a Edit> {
        let mut edits: Vec<&Edit> = self.ranges.into_values().collect();
        edits.extend(self.inserts.into_values());
        edits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: Vec<Edit>, applicability: Applicability) -> Fix {
        Fix::new("t", applicability, edits)
    }

    #[test]
    fn applies_in_order_and_skips_conflicts() {
        let source = "FROM a\nCMD x\n";
        let a = fix(vec![Edit::insert(7, "USER node\n")], Applicability::Safe);
        let b = fix(vec![Edit::insert(7, "USER other\n")], Applicability::Safe);
        let c = fix(
            vec![Edit::replace(Span::new(5, 6), "b")],
            Applicability::Safe,
        );
        let result = apply_fixes(source, &[&a, &b, &c], Applicability::Safe);
        assert_eq!(result.text, "FROM b\nUSER node\nCMD x\n");
        assert_eq!(result.applied, vec![0, 2]);
    }

    #[test]
    fn threshold_filters_unsafe() {
        let source = "EXPOSE 80\n";
        let a = fix(
            vec![Edit::replace(Span::new(7, 9), "8080")],
            Applicability::Unsafe,
        );
        assert_eq!(apply_fixes(source, &[&a], Applicability::Safe).text, source);
        assert_eq!(
            apply_fixes(source, &[&a], Applicability::Unsafe).text,
            "EXPOSE 8080\n"
        );
    }

    #[test]
    fn identical_edits_count_once() {
        let source = "x";
        let a = fix(vec![Edit::insert(1, "y")], Applicability::Safe);
        let b = fix(vec![Edit::insert(1, "y")], Applicability::Safe);
        let result = apply_fixes(source, &[&a, &b], Applicability::Safe);
        assert_eq!(result.text, "xy");
        assert_eq!(result.applied, vec![0, 1]);
    }

    /// The rule the index replaces: `a` and `b` overlap, or insert at the same point.
    fn overlaps(a: &Edit, b: &Edit) -> bool {
        if a.span.is_empty() && b.span.is_empty() {
            return a.span.start == b.span.start;
        }
        a.span.start < b.span.end && b.span.start < a.span.end
            || (a.span.is_empty() && a.span.start > b.span.start && a.span.start < b.span.end)
            || (b.span.is_empty() && b.span.start > a.span.start && b.span.start < a.span.end)
    }

    #[test]
    fn conflicts_agree_with_pairwise_overlap() {
        // Every edit over positions 0..5 (ranges and insertions of two contents).
        let mut edits = Vec::new();
        for start in 0..5 {
            for end in start..5 {
                edits.push(Edit::replace(Span::new(start, end), "a"));
                if start == end {
                    edits.push(Edit::insert(start, "b"));
                }
            }
        }
        // Accepted sets: greedily built from every window of the list, in several orders.
        for skip in 0..edits.len() {
            for step in 1..4 {
                let mut accepted = Accepted::default();
                let mut reference: Vec<&Edit> = Vec::new();
                for edit in edits
                    .iter()
                    .cycle()
                    .skip(skip)
                    .step_by(step)
                    .take(edits.len())
                {
                    let expected = !reference.contains(&edit)
                        && reference.iter().any(|other| overlaps(edit, other));
                    assert_eq!(
                        accepted.conflicts(edit),
                        expected,
                        "{edit:?} vs {reference:?}"
                    );
                    if !expected && !reference.contains(&edit) {
                        accepted.insert(edit);
                        reference.push(edit);
                    }
                }
            }
        }
    }
}
