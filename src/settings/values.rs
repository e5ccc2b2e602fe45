//! The values a setting may take, checked the same way wherever they are given (a flag, a
//! configuration file, an editor).

/// The branch `--branch` names when given without a value.
pub const DEFAULT_BRANCH: &str = "unroot/non-root";

/// How floating `node` tags are pinned (`--pin`, `pin = …`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PinMode {
    /// The major version: `26-alpine`.
    Major,
    /// Major and minor: `26.7-alpine`.
    Minor,
    /// The full release: `26.7.0-alpine`.
    #[default]
    Exact,
    /// The full release and the digest the registry serves for it.
    Digest,
    /// Keep floating tags floating: no `floating-tag` findings.
    None,
}

impl PinMode {
    pub const ALL: [PinMode; 5] = [
        PinMode::Major,
        PinMode::Minor,
        PinMode::Exact,
        PinMode::Digest,
        PinMode::None,
    ];

    /// The name written in a configuration file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PinMode::Major => "major",
            PinMode::Minor => "minor",
            PinMode::Exact => "exact",
            PinMode::Digest => "digest",
            PinMode::None => "none",
        }
    }

    pub fn from_name(name: &str) -> Option<PinMode> {
        PinMode::ALL.into_iter().find(|pin| pin.name() == name)
    }
}

/// `NAME|UID[:GID]`: no spaces, no comment, nothing the Dockerfile would read differently.
pub fn parse_user(value: &str) -> Result<String, String> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$' | '{' | '}')
            })
    };
    let mut parts = value.splitn(2, ':');
    let user = parts.next().unwrap_or("");
    let group_ok = parts.next().is_none_or(valid_part);
    if valid_part(user) && group_ok {
        Ok(value.to_string())
    } else {
        Err(format!("`{value}` is not NAME, UID, NAME:GROUP or UID:GID"))
    }
}

/// `FROM:TO` for `--port-map`: a privileged port and an unprivileged one.
pub fn parse_port_pair(value: &str) -> Result<(u16, u16), String> {
    let (from, to) = value
        .split_once(':')
        .ok_or_else(|| format!("`{value}` is not FROM:TO"))?;
    let port = |text: &str| {
        text.trim()
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("`{text}` is not a port number"))
    };
    let (from, to) = (port(from)?, port(to)?);
    if to < 1024 {
        return Err(format!("`{to}` is a privileged port: map to 1024 or above"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_values_are_checked() {
        assert!(parse_user("node").is_ok());
        assert!(parse_user("1000:1000").is_ok());
        assert!(parse_user("1000 # node").is_err());
        assert!(parse_user("a:").is_err());
    }

    #[test]
    fn pin_names_round_trip() {
        for pin in PinMode::ALL {
            assert_eq!(PinMode::from_name(pin.name()), Some(pin));
        }
        assert_eq!(PinMode::from_name("sometimes"), None);
    }
}
