//! What a tag of the official `node` image says about the Node release it names.

use crate::sources::releases::ReleaseTable;

/// What a `node` tag says about the release it names.
#[derive(Debug, PartialEq, Eq)]
pub enum NodeTag<'a> {
    /// Moves: which line it follows, and the variant after it (`alpine`, `bookworm-slim`, ``).
    Floating { follows: Follows, variant: &'a str },
    /// Names a version: `22`, `22.1-alpine`, `8.16.1`.
    Version { major: u32 },
    /// Something else (`onbuild`, a template).
    Other,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Follows {
    /// No tag, `latest`, `current`, or a variant alone: the newest release.
    Newest,
    /// `lts`: the newest LTS line.
    Lts,
    /// A codename: its line.
    Codename(u32),
}

/// Distribution variants a tag may consist of alone (`alpine3.19`, `bookworm-slim`).
const VARIANTS: &[&str] = &[
    "alpine", "slim", "bookworm", "bullseye", "buster", "stretch", "jessie", "trixie", "wheezy",
];

impl NodeTag<'_> {
    /// Classifies `tag` (empty: no tag); codenames are looked up in `releases`.
    pub fn of<'a>(tag: &'a str, releases: &ReleaseTable) -> NodeTag<'a> {
        if tag.is_empty() {
            return NodeTag::Floating {
                follows: Follows::Newest,
                variant: "",
            };
        }
        if tag.starts_with(|c: char| c.is_ascii_digit()) {
            let major = tag.split(['.', '-']).next().and_then(|m| m.parse().ok());
            return major.map_or(NodeTag::Other, |major| NodeTag::Version { major });
        }
        let (head, variant) = tag.split_once('-').unwrap_or((tag, ""));
        let head_lower = head.to_ascii_lowercase();
        let follows = match head_lower.as_str() {
            "latest" | "current" => Follows::Newest,
            "lts" => Follows::Lts,
            name => match releases.by_codename(name) {
                Some(line) => Follows::Codename(line.major),
                None if VARIANTS.iter().any(|v| head_lower.starts_with(v)) => {
                    return NodeTag::Floating {
                        follows: Follows::Newest,
                        variant: tag,
                    }
                }
                None => return NodeTag::Other,
            },
        };
        NodeTag::Floating { follows, variant }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_tags() {
        let releases = ReleaseTable::builtin();
        let newest = |variant| NodeTag::Floating {
            follows: Follows::Newest,
            variant,
        };
        assert_eq!(NodeTag::of("", releases), newest(""));
        assert_eq!(NodeTag::of("latest", releases), newest(""));
        assert_eq!(
            NodeTag::of("bookworm-slim", releases),
            newest("bookworm-slim")
        );
        assert_eq!(
            NodeTag::of("lts-alpine", releases),
            NodeTag::Floating {
                follows: Follows::Lts,
                variant: "alpine"
            }
        );
        assert_eq!(
            NodeTag::of("jod", releases),
            NodeTag::Floating {
                follows: Follows::Codename(22),
                variant: ""
            }
        );
        assert_eq!(
            NodeTag::of("22.1-alpine", releases),
            NodeTag::Version { major: 22 }
        );
        assert_eq!(NodeTag::of("onbuild", releases), NodeTag::Other);
    }
}
