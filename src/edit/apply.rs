//! Applying fixes to a text: conservative, never half a fix.

use super::{Applicability, Edit, Fix};

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

    let mut accepted: Vec<&Edit> = Vec::new();
    let mut applied = Vec::new();
    for i in order {
        let fix = fixes[i];
        let conflicts = fix.edits.iter().any(|edit| {
            !accepted.contains(&edit) && accepted.iter().any(|other| overlaps(edit, other))
        });
        if conflicts {
            continue;
        }
        for edit in &fix.edits {
            if !accepted.contains(&edit) {
                accepted.push(edit);
            }
        }
        applied.push(i);
    }
    accepted.sort();

    let mut text = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in accepted {
        text.push_str(&source[cursor..edit.span.start]);
        text.push_str(&edit.content);
        cursor = edit.span.end;
    }
    text.push_str(&source[cursor..]);
    applied.sort_unstable();
    Applied { text, applied }
}

fn overlaps(a: &Edit, b: &Edit) -> bool {
    if a.span.is_empty() && b.span.is_empty() {
        return a.span.start == b.span.start;
    }
    a.span.start < b.span.end && b.span.start < a.span.end
        || (a.span.is_empty() && a.span.start > b.span.start && a.span.start < b.span.end)
        || (b.span.is_empty() && b.span.start > a.span.start && b.span.start < a.span.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Span;

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
}
