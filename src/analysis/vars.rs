//! Variables in instruction values (`$NAME`, `${NAME}`, `${NAME:-default}`…): expanding
//! them, and finding the names a text reads.

use std::collections::HashMap;

/// Where variable values come from.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<&str>;
}

impl Lookup for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
}

/// The length of the variable name at the start of `text` (ASCII letters, digits, `_`).
pub fn name_len(text: &str) -> usize {
    text.bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count()
}

/// Expands variables in `text` from `vars`. `None` when a variable has no value and no
/// default, so the value cannot be known before the build.
pub fn substitute(text: &str, vars: &impl Lookup) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // `text[copied..i]` is literal text not yet in `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'$') => {
                out.push_str(&text[copied..i]);
                out.push('$');
                i += 2;
                copied = i;
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                let close = text[i + 2..].find('}')? + i + 2;
                out.push_str(&text[copied..i]);
                out.push_str(&expand_braced(&text[i + 2..close], vars)?);
                i = close + 1;
                copied = i;
            }
            b'$' => {
                let len = name_len(&text[i + 1..]);
                if len > 0 {
                    out.push_str(&text[copied..i]);
                    out.push_str(vars.get(&text[i + 1..i + 1 + len])?);
                    copied = i + 1 + len;
                }
                i += 1 + len;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn expand_braced(inner: &str, vars: &impl Lookup) -> Option<String> {
    let (name, modifier) = inner.split_at(name_len(inner));
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    match modifier {
        "" => value.map(str::to_string),
        _ if modifier.starts_with(":-") => Some(if set_nonempty {
            value?.to_string()
        } else {
            substitute(&modifier[2..], vars)?
        }),
        _ if modifier.starts_with('-') => Some(match value {
            Some(v) => v.to_string(),
            None => substitute(&modifier[1..], vars)?,
        }),
        _ if modifier.starts_with(":+") => Some(if set_nonempty {
            substitute(&modifier[2..], vars)?
        } else {
            String::new()
        }),
        _ if modifier.starts_with('+') => Some(if value.is_some() {
            substitute(&modifier[1..], vars)?
        } else {
            String::new()
        }),
        _ => None,
    }
}

/// Names read as `$NAME` or `${NAME…}` in `text` (defaults included: `${A:-$B}` reads both).
pub fn names(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            let start = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'{'));
            let len = name_len(text.get(start..).unwrap_or(""));
            i = start + len;
            if len > 0 {
                return Some(&text[start..start + len]);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_forms() {
        let vars: HashMap<String, String> = [
            ("A".to_string(), "node".to_string()),
            ("E".to_string(), String::new()),
        ]
        .into();
        assert_eq!(substitute("${A}", &vars).as_deref(), Some("node"));
        assert_eq!(substitute("$A:$A", &vars).as_deref(), Some("node:node"));
        assert_eq!(substitute("${B:-app}", &vars).as_deref(), Some("app"));
        assert_eq!(substitute("${E:-x}", &vars).as_deref(), Some("x"));
        assert_eq!(substitute("${E-x}", &vars).as_deref(), Some(""));
        assert_eq!(substitute("${B}", &vars), None);
        assert_eq!(substitute("plain", &vars).as_deref(), Some("plain"));
        assert_eq!(
            substitute("\\$A $ é$A", &vars).as_deref(),
            Some("$A $ énode")
        );
        assert_eq!(substitute("${A", &vars), None);
    }

    #[test]
    fn finds_the_names_a_text_reads() {
        let found: Vec<&str> = names("$A ${B:-$C} $ ${} $1x é$D_2").collect();
        assert_eq!(found, ["A", "B", "C", "1x", "D_2"]);
    }
}
