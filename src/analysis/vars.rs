//! Variable substitution in instruction values (`$NAME`, `${NAME}`, `${NAME:-default}`…).

use std::collections::HashMap;

/// Expands variables in `text` from `vars`. `None` when a variable has no value and no
/// default, so the value cannot be known before the build.
pub fn substitute(text: &str, vars: &HashMap<String, String>) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let close = chars[i + 2..].iter().position(|&c| c == '}')? + i + 2;
            let inner: String = chars[i + 2..close].iter().collect();
            out.push_str(&expand_braced(&inner, vars)?);
            i = close + 1;
            continue;
        }
        let name_len = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .count();
        if name_len == 0 {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[i + 1..i + 1 + name_len].iter().collect();
        out.push_str(vars.get(&name)?);
        i += 1 + name_len;
    }
    Some(out)
}

fn expand_braced(inner: &str, vars: &HashMap<String, String>) -> Option<String> {
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, modifier) = inner.split_at(name_len);
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    match modifier {
        "" => value.cloned(),
        _ if modifier.starts_with(":-") => Some(if set_nonempty {
            value?.clone()
        } else {
            substitute(&modifier[2..], vars)?
        }),
        _ if modifier.starts_with('-') => Some(match value {
            Some(v) => v.clone(),
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
    }
}
