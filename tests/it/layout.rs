//! The layout of src/: the top-level modules form a pipeline whose imports point one way.
//! Each module's `crate::…` paths outside its unit tests are its imports; the graph they make
//! has no cycle, and nothing but `main.rs` imports the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules it imports.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let mut parts = relative.components();
        let first = parts.next().expect("a file").as_os_str().to_string_lossy();
        if parts.next().is_none() {
            // lib.rs, main.rs: the crate root declares the modules.
            continue;
        }
        if first == "bin" {
            continue;
        }
        let module = first.to_string();
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let entry = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && !name.is_empty() {
                entry.insert(name);
            }
        }
    }
    graph
}

#[test]
fn nothing_imports_the_command_line() {
    for (module, imports) in import_graph() {
        assert!(
            !imports.contains("cli"),
            "src/{module} imports crate::cli: the command line is the top of the pipeline"
        );
    }
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = import_graph();
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|seen| seen == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_string());
            panic!(
                "the modules import each other in a circle: {}",
                cycle.join(" → ")
            );
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(module.to_string());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
    assert!(
        graph.contains_key("cli") && graph.contains_key("linter"),
        "{graph:?}"
    );
}

#[test]
fn settings_know_nothing_of_clap() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/settings");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(!text.contains("clap"), "{} mentions clap", file.display());
    }
}
