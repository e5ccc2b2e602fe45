//! Editor settings: what `initializationOptions` and the `unroot` section of the workspace
//! configuration set, as the plain-data [`Overrides`] the command line gives too. Keys are
//! those of `unroot.toml`, in camelCase or as written there (`numericUser`, `numeric-user`).

use serde::Deserialize;
use serde_json::Value;

use crate::rules::find_rule;
use crate::settings::values::{
    check_port_map, check_user_uid, parse_port_pair, parse_uid, parse_user,
};
use crate::settings::{Overrides, PinMode};

/// The longest a registry lookup may take when `network` is on and no `timeout` is set.
const DEFAULT_TIMEOUT_SECS: u64 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Raw {
    select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    user: Option<String>,
    #[serde(alias = "numeric-user")]
    numeric_user: Option<bool>,
    /// The uid (and gid) the fixes run the app as, as `uid` in `unroot.toml`.
    uid: Option<Value>,
    pin: Option<String>,
    /// `["80:3000"]` or `{ "80": 3000 }`.
    #[serde(alias = "port-map")]
    port_map: Option<Value>,
    #[serde(alias = "all-images")]
    all_images: Option<bool>,
    chown: Option<bool>,
    registry: Option<String>,
    /// Seconds one registry lookup may take.
    timeout: Option<u64>,
    /// Let `pin = "digest"` look digests up (off: pinned as `exact`).
    network: Option<bool>,
    /// Accepted and ignored: the server offers unsafe fixes one by one, labelled, and never in
    /// fix-all, whatever this says.
    #[serde(alias = "unsafe-fixes")]
    unsafe_fixes: Option<bool>,
}

/// The editor's settings, checked.
#[derive(Clone, Debug, Default)]
pub struct EditorSettings {
    pub overrides: Overrides,
    /// `pin = "digest"` may ask registries (off the request path).
    pub network: bool,
}

impl EditorSettings {
    /// Reads the settings object; `null` is no settings. A `{"unroot": {…}}` wrapper (how some
    /// clients send `workspace/didChangeConfiguration`) is looked through.
    pub fn from_json(value: &Value) -> Result<EditorSettings, String> {
        let value = match value {
            Value::Null => return Ok(EditorSettings::default()),
            Value::Object(map) if map.len() == 1 && map.contains_key("unroot") => &map["unroot"],
            other => other,
        };
        if value.is_null() {
            return Ok(EditorSettings::default());
        }
        let raw: Raw = serde_json::from_value(value.clone())
            .map_err(|err| format!("unroot settings: {err}"))?;
        let _ = raw.unsafe_fixes;
        for name in raw.select.iter().chain(&raw.ignore).flatten() {
            if find_rule(name).is_none() {
                return Err(format!("unroot settings: unknown rule `{name}`"));
            }
        }
        let user = raw
            .user
            .as_deref()
            .map(parse_user)
            .transpose()
            .map_err(|message| format!("unroot settings: `user`: {message}"))?;
        let uid = raw
            .uid
            .as_ref()
            .map(|value| match value {
                Value::Number(number) => parse_uid(&number.to_string()),
                other => Err(format!("`{other}` is not a uid (a number such as 10001)")),
            })
            .transpose()
            .map_err(|message| format!("unroot settings: `uid`: {message}"))?;
        check_user_uid(user.as_deref(), uid)
            .map_err(|message| format!("unroot settings: {message}"))?;
        let pin = raw
            .pin
            .as_deref()
            .map(|name| {
                PinMode::from_name(name).ok_or_else(|| {
                    format!("unroot settings: `pin`: `{name}` is not one of major, minor, exact, digest, none")
                })
            })
            .transpose()?;
        if let Some(url) = &raw.registry {
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(format!(
                    "unroot settings: `registry`: `{url}` is not an http:// or https:// URL"
                ));
            }
        }
        let port_map = raw
            .port_map
            .as_ref()
            .map(port_map)
            .transpose()
            .map_err(|message| format!("unroot settings: `portMap`: {message}"))?;
        Ok(EditorSettings {
            overrides: Overrides {
                select: raw.select,
                ignore: raw.ignore,
                user,
                numeric_user: raw.numeric_user,
                uid,
                pin,
                port_map,
                all_images: raw.all_images,
                chown: raw.chown.unwrap_or(false),
                registry: raw
                    .registry
                    .map(|url| url.trim_end_matches('/').to_string()),
                network_timeout: Some(std::time::Duration::from_secs(
                    raw.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS).clamp(1, 86400),
                )),
                ..Overrides::default()
            },
            network: raw.network.unwrap_or(false),
        })
    }
}

fn port_map(value: &Value) -> Result<Vec<(u16, u16)>, String> {
    let pairs: Vec<String> = match value {
        Value::Array(list) => list
            .iter()
            .map(|pair| match pair {
                Value::String(pair) => Ok(pair.clone()),
                other => Err(format!("`{other}` is not \"FROM:TO\"")),
            })
            .collect::<Result<_, _>>()?,
        Value::Object(map) => map
            .iter()
            .map(|(from, to)| match to {
                Value::Number(to) => Ok(format!("{from}:{to}")),
                other => Err(format!("`{from}: {other}`: the new port must be a number")),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "`{other}`: expected [\"80:3000\"] or {{ \"80\": 3000 }}"
            ))
        }
    };
    let mut pairs = pairs
        .iter()
        .map(|pair| parse_port_pair(pair))
        .collect::<Result<Vec<_>, _>>()?;
    pairs.sort_unstable();
    check_port_map(&pairs)?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_spellings_and_checks_values() {
        let settings = EditorSettings::from_json(&json!({
            "unroot": {"numeric-user": true, "portMap": {"80": 3000}, "pin": "major", "network": true}
        }))
        .unwrap();
        assert_eq!(settings.overrides.numeric_user, Some(true));
        assert_eq!(settings.overrides.port_map, Some(vec![(80, 3000)]));
        assert_eq!(settings.overrides.pin, Some(PinMode::Major));
        assert!(settings.network);
        let err = EditorSettings::from_json(&json!({"ignore": ["no-such-rule"]})).unwrap_err();
        assert!(err.contains("no-such-rule"), "{err}");
        let err = EditorSettings::from_json(&json!({"user": "root"})).unwrap_err();
        assert!(err.contains("is root"), "{err}");
        assert!(EditorSettings::from_json(&json!({"colour": 1})).is_err());
        assert!(!EditorSettings::from_json(&Value::Null).unwrap().network);
    }

    #[test]
    fn reads_the_uid_as_the_configuration_does() {
        let settings = EditorSettings::from_json(&json!({"uid": 2000})).unwrap();
        assert_eq!(settings.overrides.uid, Some(2000));
        assert_eq!(
            EditorSettings::from_json(&json!({})).unwrap().overrides.uid,
            None
        );
        for (value, expected) in [
            (json!({"uid": 0}), "uid 0 is root"),
            (json!({"uid": -5}), "not a uid"),
            (json!({"uid": "2000"}), "not a uid"),
            (json!({"uid": 1.5}), "not a uid"),
            (json!({"uid": 4_294_967_296_u64}), "larger than"),
            (json!({"uid": 2000, "user": "3000"}), "disagree"),
        ] {
            let err = EditorSettings::from_json(&value).unwrap_err();
            assert!(err.contains("`uid`") || err.contains("disagree"), "{err}");
            assert!(err.contains(expected), "{value}: {err}");
        }
    }
}
