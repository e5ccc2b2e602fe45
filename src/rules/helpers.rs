//! Code the rules share: which stages are Node images, the text of RUNs.

use super::Context;
pub(crate) use crate::analysis::run_text;
use crate::analysis::Stage;
use crate::syntax::{Instruction, Keyword};

/// Commands whose presence in CMD/ENTRYPOINT marks a Node image.
const NODE_COMMANDS: &[&str] = &[
    "node",
    "nodejs",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "pm2",
    "pm2-runtime",
];
pub(crate) fn chain_instructions<'a>(
    cx: &'a Context,
    stage: &Stage,
) -> impl Iterator<Item = &'a Instruction> {
    let chain = cx.analysis.chain(stage);
    let ranges: Vec<_> = chain.iter().map(|s| s.from + 1..s.end).collect();
    ranges
        .into_iter()
        .flat_map(move |range| cx.file.instructions[range].iter())
}

/// A Node image: Node in the base, installed by a RUN, or started by CMD/ENTRYPOINT.
pub(crate) fn is_node_stage(cx: &Context, stage: &Stage) -> bool {
    if stage.base.is_node() {
        return true;
    }
    chain_instructions(cx, stage).any(|i| match i.kind {
        // Most RUNs name no Node at all: asked of their parts before their text is joined.
        Keyword::Run => {
            let parts = i.args.iter().map(|arg| arg.value.as_str());
            let mut parts = parts.chain(i.heredocs.iter().map(|h| h.content.as_str()));
            parts.any(may_name_node) && installs_node(&run_text(i))
        }
        Keyword::Cmd | Keyword::Entrypoint => starts_node(i),
        _ => false,
    })
}

/// A RUN that leaves Node installed: it installs Node, and does not remove it again (a Go
/// builder that installs Node to build its web assets and purges it in the same RUN).
pub(crate) fn installs_node(script: &str) -> bool {
    may_name_node(script) && adds_node(script) && !removes_node(script)
}

/// Whether `text` holds `node`, `nvm` or `fnm` in any case: every install [`adds_node`]
/// knows names one of them. One pass, nothing allocated.
fn may_name_node(text: &str) -> bool {
    let bytes = text.as_bytes();
    let at = |start: usize, word: &[u8]| {
        bytes
            .get(start..start + word.len())
            .is_some_and(|found| found.eq_ignore_ascii_case(word))
    };
    let nodes = memchr::memchr2_iter(b'n', b'N', bytes).any(|n| at(n, b"node") || at(n, b"nvm"));
    nodes || memchr::memchr2_iter(b'f', b'F', bytes).any(|f| at(f, b"fnm"))
}

/// The script removes the Node it installed: `apk del` of `nodejs` or of the `--virtual`
/// group that added it, `apt-get purge|remove`, `dnf|yum|microdnf remove`.
fn removes_node(script: &str) -> bool {
    const MANAGERS: &[&str] = &["apk", "apt-get", "apt", "dnf", "yum", "microdnf"];
    let lower = script.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    // `apk add --virtual .build-deps nodejs npm` … `apk del .build-deps`.
    let group = words
        .windows(2)
        .find(|pair| matches!(pair[0], "--virtual" | "-t"))
        .map(|pair| pair[1]);
    let is_node = |word: &&str| {
        *word == "nodejs"
            || word.starts_with("nodejs=")
            || word.starts_with("nodejs-")
            || Some(*word) == group
    };
    words.iter().enumerate().any(|(at, word)| {
        let manager = words[..at]
            .iter()
            .rev()
            .find(|w| !w.starts_with('-'))
            .is_some_and(|w| MANAGERS.contains(w));
        matches!(*word, "del" | "remove" | "purge" | "erase")
            && manager
            && words[at + 1..]
                .iter()
                .take_while(|w| !MANAGERS.contains(w))
                .any(is_node)
    })
}

fn adds_node(script: &str) -> bool {
    let lower = script.to_ascii_lowercase();
    // Split into words only where a package named `nodejs…` may be installed.
    let words: Vec<&str> = if lower.contains("nodejs") {
        lower
            .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
            .collect()
    } else {
        Vec::new()
    };
    let installs = words.iter().any(|w| matches!(*w, "install" | "add"));
    (installs
        && words.iter().any(|w| {
            *w == "nodejs"
                || w.starts_with("nodejs=")
                || w.starts_with("nodejs-")
                || w.starts_with("nodejs2")
        }))
        || NODE_INSTALLERS
            .iter()
            .any(|finder| finder.find(lower.as_bytes()).is_some())
}

/// What a script that installs Node without a package manager names (searchers built once).
static NODE_INSTALLERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
    std::sync::LazyLock::new(|| {
        [
            "nodesource",
            "nvm install",
            "nvm.sh",
            "fnm install",
            "volta install node",
        ]
        .iter()
        .map(|needle| memchr::memmem::Finder::new(needle.as_bytes()))
        .collect()
    });

fn starts_node(instruction: &Instruction) -> bool {
    let words = if instruction.json {
        &instruction.args
    } else {
        &instruction.shell_words
    };
    words.iter().take(4).map(|w| w.value.as_str()).any(|word| {
        let command = word
            .trim_matches(['"', '\''])
            .rsplit('/')
            .next()
            .unwrap_or(word);
        NODE_COMMANDS.contains(&command)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_node_installs() {
        assert!(installs_node("apk add --update nodejs npm"));
        assert!(installs_node(
            "curl -fsSL https://deb.nodesource.com/setup_22.x | bash -"
        ));
        assert!(installs_node("apt-get install -y nodejs"));
        assert!(!installs_node("apt-get install -y curl"));
        // Installed and removed in the same RUN: the image has no Node.
        assert!(!installs_node(
            "apt-get update && apt-get install -y nodejs npm && make assets && apt-get purge -y nodejs npm"
        ));
        assert!(!installs_node(
            "apk add --no-cache --virtual .web nodejs npm && npm ci && npm run build && apk del .web"
        ));
        assert!(installs_node("apk add nodejs && apk del curl"));
        assert!(installs_node("APK ADD NODEJS"));
        assert!(installs_node(". $HOME/.NVM/NVM.SH"));
        assert!(installs_node("fnm install 22"));
        assert!(!installs_node("apk add --no-cache python3 make g++"));
        assert!(!may_name_node("no de, nv m, f nm"));
        assert!(may_name_node("x Node"));
    }
}
