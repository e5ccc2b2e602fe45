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

/// The longest user or group name accepted (`useradd`'s limit).
const MAX_NAME: usize = 32;

/// The largest uid or gid accepted: Kubernetes `runAsUser` and most tools take 31 bits.
const MAX_ID: u64 = 2_147_483_647;

/// `NAME|UID[:GID]`, as the fix writes it after `USER`: no spaces, no comment, no variable,
/// nothing the Dockerfile would read differently, and not root, which would be no fix at all.
pub fn parse_user(value: &str) -> Result<String, String> {
    let shown: String = value.chars().take(40).collect();
    let shown = if shown.len() < value.len() {
        format!("{shown}…")
    } else {
        shown
    };
    let part = |part: &str, what: &str| -> Result<(), String> {
        if part.is_empty() {
            return Err(format!("`{shown}` is not NAME, UID, NAME:GROUP or UID:GID"));
        }
        if part.bytes().all(|b| b.is_ascii_digit()) {
            return match part.parse::<u64>() {
                Ok(id) if id <= MAX_ID => Ok(()),
                _ => Err(format!(
                    "`{shown}`: {what} `{part}` is larger than {MAX_ID}"
                )),
            };
        }
        if part.contains(['$', '{', '}']) {
            return Err(format!(
                "`{shown}`: a variable is not a user: the fix must name the user the image runs as"
            ));
        }
        if part.len() > MAX_NAME {
            return Err(format!(
                "`{shown}`: a {what} name has at most {MAX_NAME} characters"
            ));
        }
        if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(format!("`{shown}` is not NAME, UID, NAME:GROUP or UID:GID"));
        }
        Ok(())
    };
    let (user, group) = match value.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (value, None),
    };
    part(user, "user")?;
    if let Some(group) = group {
        part(group, "group")?;
    }
    let is_root = user == "root" || user.bytes().all(|b| b == b'0');
    if is_root {
        return Err(format!(
            "`{shown}` is root: unroot's fix is to run as a user other than root"
        ));
    }
    Ok(value.to_string())
}

/// `--uid N` / `uid = N`: a uid (and the gid that goes with it) other than root's, at most
/// [`MAX_ID`].
pub fn parse_uid(value: &str) -> Result<u32, String> {
    let shown: String = value.chars().take(40).collect();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{shown}` is not a uid (a number such as 10001)"));
    }
    match value.parse::<u64>() {
        Ok(0) => Err("uid 0 is root: unroot's fix is to run as a user other than root".to_string()),
        Ok(id) if id <= MAX_ID => Ok(id as u32),
        _ => Err(format!("`{shown}` is larger than {MAX_ID}")),
    }
}

/// `--user` and `--uid` together: a numeric `--user` must be that uid.
pub fn check_user_uid(user: Option<&str>, uid: Option<u32>) -> Result<(), String> {
    let (Some(user), Some(uid)) = (user, uid) else {
        return Ok(());
    };
    let name = user.split(':').next().unwrap_or(user);
    match name.parse::<u64>() {
        Ok(number) if number != u64::from(uid) => Err(format!(
            "`user` {user} and `uid` {uid} disagree: give the uid once (`uid` decides the \
             number, `user` the name)"
        )),
        _ => Ok(()),
    }
}

/// A port map where no two privileged ports move to the same port and none is given twice.
pub fn check_port_map(pairs: &[(u16, u16)]) -> Result<(), String> {
    for (index, &(from, to)) in pairs.iter().enumerate() {
        for &(other_from, other_to) in &pairs[..index] {
            if other_from == from {
                return Err(format!("port {from} is mapped twice"));
            }
            if other_to == to {
                return Err(format!(
                    "ports {other_from} and {from} both map to {to}: the image could not listen on both"
                ));
            }
        }
    }
    Ok(())
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
        for good in [
            "node",
            "1000:1000",
            "app:app",
            "nonroot",
            "65532:65532",
            "node:0",
        ] {
            assert_eq!(parse_user(good).as_deref(), Ok(good), "{good}");
        }
        for bad in ["1000 # node", "a:", ":1000", "", "a b"] {
            assert!(parse_user(bad).is_err(), "{bad}");
        }
    }

    /// W3: root, ids out of range, variables and huge names are refused.
    #[test]
    fn root_variables_and_huge_values_are_no_user() {
        for root in ["root", "0", "0:0", "root:root", "000", "0:1000"] {
            let error = parse_user(root).unwrap_err();
            assert!(error.contains("is root"), "{root}: {error}");
        }
        assert!(parse_user("99999999999")
            .unwrap_err()
            .contains("larger than"));
        assert!(parse_user("1000:99999999999")
            .unwrap_err()
            .contains("larger than"));
        assert!(parse_user("${X}").unwrap_err().contains("variable"));
        assert!(parse_user("$USER:1000").unwrap_err().contains("variable"));
        let huge = "a".repeat(1 << 20);
        let error = parse_user(&huge).unwrap_err();
        assert!(error.contains("at most 32"), "{}", &error[..60]);
        assert!(error.len() < 200, "the message quotes a bounded prefix");
    }

    /// W4: two ports moved to one, or one port moved twice.
    #[test]
    fn port_maps_do_not_collide() {
        assert!(check_port_map(&[(80, 3000), (443, 3443)]).is_ok());
        assert_eq!(
            check_port_map(&[(80, 3000), (443, 3000)]).unwrap_err(),
            "ports 80 and 443 both map to 3000: the image could not listen on both"
        );
        assert_eq!(
            check_port_map(&[(80, 3000), (80, 4000)]).unwrap_err(),
            "port 80 is mapped twice"
        );
    }

    #[test]
    fn pin_names_round_trip() {
        for pin in PinMode::ALL {
            assert_eq!(PinMode::from_name(pin.name()), Some(pin));
        }
        assert_eq!(PinMode::from_name("sometimes"), None);
    }
}
