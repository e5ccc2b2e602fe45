//! Ports in a Dockerfile: what EXPOSE entries name, which ports the file uses, and where
//! text states a port (variable values, URLs to the container itself, command arguments).

use super::{unquote, vars, Analysis, Stage, Variables};
use crate::syntax::{Dockerfile, Instruction, Keyword, Span, Token};

/// Hosts whose port in a URL is the container's own.
const LOCAL_HOSTS: &[&str] = &["localhost", "127.0.0.1", "0.0.0.0", "[::1]"];

/// What an EXPOSE entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortSpec {
    Port(u16),
    /// `low-high`, inclusive.
    Range(u16, u16),
}

impl PortSpec {
    /// `80`, `80/tcp`, `8000-8010/udp`.
    pub fn parse(entry: &str) -> Option<PortSpec> {
        let spec = entry.split_once('/').map_or(entry, |(spec, _)| spec);
        match spec.split_once('-') {
            Some((low, high)) => Some(PortSpec::Range(low.parse().ok()?, high.parse().ok()?)),
            None => Some(PortSpec::Port(spec.parse().ok()?)),
        }
    }

    /// Below 1024 (a range that starts there); port 0 is not.
    pub fn privileged(self) -> bool {
        match self {
            PortSpec::Port(port) => (1..1024).contains(&port),
            PortSpec::Range(low, high) => low < 1024 && high >= low && high >= 1,
        }
    }
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSpec::Port(port) => write!(f, "{port}"),
            PortSpec::Range(low, high) => write!(f, "{low}-{high}"),
        }
    }
}

/// One EXPOSE entry, resolved.
#[derive(Clone, Debug)]
pub struct Exposed {
    /// The EXPOSE instruction (index into `Dockerfile::instructions`).
    pub instruction: usize,
    pub token: Token,
    /// The entry as written has no variable in it.
    pub literal: bool,
    pub ports: Vec<PortSpec>,
}

/// Every EXPOSE entry of `stage` and the stages it is built from (the image inherits them),
/// in file order. Entries whose value is unknown before the build are left out.
pub fn exposed(file: &Dockerfile, analysis: &Analysis, stage: &Stage) -> Vec<Exposed> {
    let mut entries = Vec::new();
    let mut variables = Variables::new(&analysis.global_args, file.escape);
    for ancestor in analysis.chain(stage) {
        variables.enter_stage(ancestor);
        for index in ancestor.from + 1..ancestor.end {
            let instruction = &file.instructions[index];
            for token in instruction.expose_ports() {
                let Some(resolved) = vars::substitute(&unquote(&token.value), &variables) else {
                    continue;
                };
                let ports: Vec<PortSpec> = resolved
                    .split_whitespace()
                    .filter_map(PortSpec::parse)
                    .collect();
                if !ports.is_empty() {
                    entries.push(Exposed {
                        instruction: index,
                        token: token.clone(),
                        literal: !token.value.contains('$'),
                        ports,
                    });
                }
            }
            variables.read(instruction);
        }
    }
    entries
}

/// Ports a file already uses (exposed by any stage, the value of a port variable, in a
/// HEALTHCHECK URL or a CMD/ENTRYPOINT argument), so a new port is never one of them.
pub struct PortsInUse {
    /// One bit per port.
    bits: Vec<u64>,
}

impl PortsInUse {
    pub fn of(file: &Dockerfile, analysis: &Analysis) -> PortsInUse {
        let mut used = PortsInUse {
            bits: vec![0; (usize::from(u16::MAX) + 1) / 64],
        };
        analysis.for_each_instruction(file, |_, index, variables| {
            for token in file.instructions[index].expose_ports() {
                let text = unquote(&token.value);
                let resolved = vars::substitute(&text, variables).unwrap_or(text);
                for spec in resolved.split_whitespace().filter_map(PortSpec::parse) {
                    match spec {
                        PortSpec::Port(p) => used.reserve(p, p),
                        PortSpec::Range(low, high) => used.reserve(low, high),
                    }
                }
            }
        });
        for instruction in &file.instructions {
            match instruction.kind {
                Keyword::Env | Keyword::Arg => {
                    for pair in &instruction.pairs {
                        let port = pair
                            .value
                            .as_ref()
                            .and_then(|v| unquote(&v.value).parse().ok());
                        if let (true, Some(port)) = (is_port_name(&pair.key.value), port) {
                            used.reserve(port, port);
                        }
                    }
                }
                Keyword::Healthcheck => {
                    for token in command_tokens(instruction) {
                        for url in url_ports(&file.source, token.span) {
                            used.reserve(url.port, url.port);
                        }
                    }
                }
                Keyword::Cmd | Keyword::Entrypoint => {
                    for (_, port) in argument_ports(&file.source, command_tokens(instruction)) {
                        used.reserve(port, port);
                    }
                }
                _ => {}
            }
        }
        used
    }

    /// Marks `low..=high` as used (nothing when `high < low`).
    pub fn reserve(&mut self, low: u16, high: u16) {
        for (word, mask) in words(low, high) {
            self.bits[word] |= mask;
        }
    }

    /// No port of `low..=high` is used.
    pub fn free(&self, low: u16, high: u16) -> bool {
        words(low, high).all(|(word, mask)| self.bits[word] & mask == 0)
    }

    /// `wanted`, or the next port above it that is free.
    pub fn next_free(&self, wanted: u16) -> Option<u16> {
        let first = usize::from(wanted) / 64;
        self.bits[first..]
            .iter()
            .enumerate()
            .find_map(|(i, &bits)| {
                let word = first + i;
                let taken = if i == 0 {
                    bits | !(u64::MAX << (wanted % 64))
                } else {
                    bits
                };
                // The word's lowest free port, if any.
                (taken != u64::MAX).then(|| (word * 64) as u16 + (!taken).trailing_zeros() as u16)
            })
    }
}

/// The words of a port bitmap that `low..=high` covers, and the bits it covers in each.
fn words(low: u16, high: u16) -> impl Iterator<Item = (usize, u64)> {
    let (first, last) = (usize::from(low) / 64, usize::from(high) / 64);
    (first..=last)
        .filter(move |_| low <= high)
        .map(move |word| {
            let mut mask = u64::MAX;
            if word == first {
                mask &= u64::MAX << (low % 64);
            }
            if word == last {
                mask &= u64::MAX >> (63 - high % 64);
            }
            (word, mask)
        })
}

/// A variable name that says it holds a port: a word `PORT` (`PORT`, `HTTP_PORT`,
/// `port`, `PORT_HTTPS`) or a camel-case `…Port` (`serverPort`); not `EXPORT` or `REPORT_DIR`.
pub fn is_port_name(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| {
            word.eq_ignore_ascii_case("port")
                || word.eq_ignore_ascii_case("ports")
                || word
                    .match_indices("Port")
                    .any(|(i, _)| word[..i].ends_with(|c: char| c.is_ascii_lowercase()))
        })
}

/// The words of a CMD/ENTRYPOINT/HEALTHCHECK command (HEALTHCHECK's `CMD` type excluded).
pub fn command_tokens(instruction: &Instruction) -> &[Token] {
    let skip = usize::from(instruction.kind == Keyword::Healthcheck);
    if instruction.json {
        instruction.args.get(skip..).unwrap_or(&[])
    } else if instruction.kind == Keyword::Healthcheck
        && !instruction
            .args
            .first()
            .is_some_and(|t| t.value.eq_ignore_ascii_case("cmd"))
    {
        &[]
    } else {
        &instruction.shell_words
    }
}

/// The span of `number` in `text` (which starts at `offset`), when `text` is the number,
/// optionally in quotes, followed by nothing or one of `after`.
pub fn number_in(text: &str, offset: usize, number: &str, after: &[char]) -> Option<Span> {
    let start = usize::from(text.starts_with(['"', '\'']));
    let rest = text.get(start..)?.strip_prefix(number)?;
    let next = rest.chars().next();
    if next.is_some_and(|c| c.is_ascii_digit() || !after.contains(&c)) {
        return None;
    }
    Some(Span::new(offset + start, offset + start + number.len()))
}

/// `${NAME:-80}` / `${NAME-80}` defaults equal to `number` in `text` (which starts at `offset`).
pub fn default_values(text: &str, offset: usize, number: &str) -> Vec<Span> {
    let needle = format!("-{number}}}");
    text.match_indices(&needle)
        .filter(|(i, _)| text[..*i].contains("${"))
        .map(|(i, _)| Span::new(offset + i + 1, offset + i + 1 + number.len()))
        .collect()
}

/// A port in a URL to the container itself.
#[derive(Debug, PartialEq, Eq)]
pub struct UrlPort {
    pub port: u16,
    /// The digits, or (when `implied`) the empty span where `:port` goes.
    pub span: Span,
    /// `http://localhost/…` (80) or `https://localhost/…` (443) without a port.
    pub implied: bool,
}

/// Ports of `localhost:80`, `127.0.0.1:80`, `0.0.0.0:80`, `[::1]:80`, and the implied port
/// of `http://localhost/` and `https://localhost/`, in the raw text of `span`.
pub fn url_ports(source: &str, span: Span) -> Vec<UrlPort> {
    let text = span.text(source);
    let mut found = Vec::new();
    for host in LOCAL_HOSTS {
        for (at, _) in text.match_indices(host) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
                continue;
            }
            let end = at + host.len();
            let after = &text[end..];
            if let Some(rest) = after.strip_prefix(':') {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                if let Ok(port) = rest[..digits].parse::<u16>() {
                    let start = span.start + end + 1;
                    found.push(UrlPort {
                        port,
                        span: Span::new(start, start + digits),
                        implied: false,
                    });
                }
                continue;
            }
            let ends_host = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
            let scheme = text[..at].to_ascii_lowercase();
            let port = if scheme.ends_with("https://") {
                443
            } else if scheme.ends_with("http://") {
                80
            } else {
                continue;
            };
            if ends_host {
                found.push(UrlPort {
                    port,
                    span: Span::empty(span.start + end),
                    implied: true,
                });
            }
        }
    }
    found
}

/// Ports given to the app as `--port 80`, `--port=80`, `-p 80` or `PORT=80` in the words of
/// a command (also inside a quoted `sh -c "…"` string or a JSON element).
pub fn argument_ports(source: &str, tokens: &[Token]) -> Vec<(Span, u16)> {
    let mut words: Vec<(usize, &str)> = Vec::new();
    for token in tokens {
        let mut text = token.span.text(source);
        let mut offset = token.span.start;
        if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            text = &text[1..text.len() - 1];
            offset += 1;
        }
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push(trim_quotes(offset + s, &text[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    let plain = |at: usize, text: &str| -> Option<(Span, u16)> {
        let (at, text) = trim_quotes(at, text);
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((Span::new(at, at + text.len()), text.parse().ok()?))
    };
    for (i, &(at, word)) in words.iter().enumerate() {
        if word == "--port" || word == "-p" {
            if let Some(&(next_at, next)) = words.get(i + 1) {
                found.extend(plain(next_at, next));
            }
            continue;
        }
        for prefix in ["--port=", "PORT="] {
            if let Some(value) = word.strip_prefix(prefix) {
                found.extend(plain(at + prefix.len(), value));
            }
        }
    }
    found
}

/// Drops quotes (and a trailing `;`) around a word, keeping its offset right.
fn trim_quotes(at: usize, text: &str) -> (usize, &str) {
    let trimmed = text.trim_start_matches(['"', '\'']);
    let at = at + (text.len() - trimmed.len());
    (at, trimmed.trim_end_matches(['"', '\'', ';']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names() {
        for name in [
            "PORT",
            "port",
            "HTTP_PORT",
            "PORT_HTTPS",
            "serverPort",
            "APP-PORTS",
        ] {
            assert!(is_port_name(name), "{name}");
        }
        for name in [
            "EXPORT",
            "REPORT_DIR",
            "SUPPORT",
            "TRANSPORT",
            "Port2",
            "PORTAL",
        ] {
            assert!(!is_port_name(name), "{name}");
        }
    }

    #[test]
    fn parses_expose_entries() {
        assert_eq!(PortSpec::parse("80"), Some(PortSpec::Port(80)));
        assert_eq!(PortSpec::parse("443/tcp"), Some(PortSpec::Port(443)));
        assert_eq!(PortSpec::parse("53/udp"), Some(PortSpec::Port(53)));
        assert_eq!(
            PortSpec::parse("8000-8010"),
            Some(PortSpec::Range(8000, 8010))
        );
        assert_eq!(PortSpec::parse("x"), None);
        assert!(!PortSpec::Port(0).privileged());
        assert!(!PortSpec::Port(1024).privileged());
        assert!(PortSpec::Port(1023).privileged());
        assert!(!PortSpec::Range(8000, 8010).privileged());
        assert!(PortSpec::Range(1000, 1100).privileged());
    }

    #[test]
    fn ports_in_use() {
        let mut used = PortsInUse {
            bits: vec![0; 1024],
        };
        assert!(used.free(0, 65535));
        used.reserve(63, 64);
        assert!(!used.free(0, 63) && !used.free(64, 64) && used.free(0, 62) && used.free(65, 127));
        assert_eq!(used.next_free(63), Some(65));
        used.reserve(8080, 8081);
        used.reserve(9000, 8000);
        assert!(!used.free(8000, 8080));
        assert!(used.free(8082, 65535));
        assert_eq!(used.next_free(8080), Some(8082));
        used.reserve(65535, 65535);
        assert_eq!(used.next_free(65535), None);
    }
}
