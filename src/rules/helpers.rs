//! Code the rules share: which stages are Node images, the text of RUNs.

use super::Context;
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

/// The command text of a RUN (shell form or JSON), heredoc bodies included.
pub(crate) fn run_text(run: &Instruction) -> String {
    let mut text: String = run
        .args
        .iter()
        .map(|a| a.value.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for heredoc in &run.heredocs {
        text.push('\n');
        text.push_str(&heredoc.content);
    }
    text
}

/// A Node image: Node in the base, installed by a RUN, or started by CMD/ENTRYPOINT.
pub(crate) fn is_node_stage(cx: &Context, stage: &Stage) -> bool {
    if stage.base.is_node() {
        return true;
    }
    chain_instructions(cx, stage).any(|i| match i.kind {
        Keyword::Run => installs_node(&run_text(i)),
        Keyword::Cmd | Keyword::Entrypoint => starts_node(i),
        _ => false,
    })
}

pub(crate) fn installs_node(script: &str) -> bool {
    let lower = script.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
        .collect();
    let installs = words.iter().any(|w| matches!(*w, "install" | "add"));
    (installs
        && words.iter().any(|w| {
            *w == "nodejs"
                || w.starts_with("nodejs=")
                || w.starts_with("nodejs-")
                || w.starts_with("nodejs2")
        }))
        || lower.contains("nodesource")
        || lower.contains("nvm install")
        || lower.contains("nvm.sh")
        || lower.contains("fnm install")
        || lower.contains("volta install node")
}

fn starts_node(instruction: &Instruction) -> bool {
    let words: Vec<&str> = if instruction.json {
        instruction.args.iter().map(|a| a.value.as_str()).collect()
    } else {
        instruction
            .shell_words
            .iter()
            .map(|w| w.value.as_str())
            .collect()
    };
    words.iter().take(4).any(|word| {
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
    }
}
