//! `--pin digest`: the digests a file's pins need are looked up before its rules run, each
//! from the run's registry resolver (which caches every answer), and handed to the rules as a
//! table. Rules read data; no rule does network I/O.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{lint_parsed, LintError, LintOptions};
use crate::analysis::ImageRef;
use crate::edit::Applicability;
use crate::rules::{DigestResolver, Digests, RuleOptions};
use crate::syntax::Dockerfile;

type Key = (Option<String>, String, String);

fn key(image: &ImageRef, tag: &str) -> Key {
    (
        image.registry.clone(),
        image.repository.clone(),
        tag.to_string(),
    )
}

/// What the rules ask for, in the order they ask; answers nothing.
#[derive(Default)]
struct Requests(Mutex<Vec<(ImageRef, String)>>);

impl DigestResolver for Requests {
    fn digest(&self, image: &ImageRef, tag: &str) -> Result<String, String> {
        let mut asked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !asked
            .iter()
            .any(|(seen, seen_tag)| seen == image && seen_tag == tag)
        {
            asked.push((image.clone(), tag.to_string()));
        }
        Err(String::new())
    }
}

/// The digests looked up for one file, and the lookups that failed as the rules read them.
pub struct Table {
    answers: HashMap<Key, Result<String, String>>,
    failures: Mutex<Vec<String>>,
}

impl DigestResolver for Table {
    fn digest(&self, image: &ImageRef, tag: &str) -> Result<String, String> {
        let answer = self
            .answers
            .get(&key(image, tag))
            .cloned()
            .unwrap_or_else(|| {
                Err(format!(
                    "internal error: the digest of {}:{tag} was not looked up",
                    image.repository
                ))
            });
        if let Err(message) = &answer {
            let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            if !failures.contains(message) {
                failures.push(message.clone());
            }
        }
        answer
    }
}

impl Table {
    /// The lookups that failed in the rules' reading, each once, in the order they failed.
    pub fn failures(&self) -> Vec<String> {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The options to check `file` with: with `--pin digest`, the rules get the table of the
/// digests they will ask for, looked up now. `None` for the table: no digest is pinned.
pub fn resolve(
    file: &Dockerfile,
    options: &LintOptions,
) -> Result<(LintOptions, Option<Arc<Table>>), LintError> {
    let Some(registry) = &options.registry else {
        return Ok((options.clone(), None));
    };
    // A generated file gets no fix: nothing to look up.
    if super::untouched::generated_mark(file).is_some() {
        return Ok((options.clone(), None));
    }
    // The rules, with every fix and every round, say which tags they would pin.
    let requests = Arc::new(Requests::default());
    lint_parsed(
        file,
        &with_digests(options, Digests(requests.clone())),
        Applicability::Unsafe,
    )?;
    let asked = std::mem::take(&mut *requests.0.lock().unwrap_or_else(PoisonError::into_inner));
    let answers = asked
        .into_iter()
        .map(|(image, tag)| {
            let answer = registry
                .digest(image.registry.as_deref(), &image.repository, &tag)
                .map_err(|error| error.to_string());
            (key(&image, &tag), answer)
        })
        .collect();
    let table = Arc::new(Table {
        answers,
        failures: Mutex::default(),
    });
    Ok((with_digests(options, Digests(table.clone())), Some(table)))
}

fn with_digests(options: &LintOptions, digests: Digests) -> LintOptions {
    LintOptions {
        rules: RuleOptions {
            digests: Some(digests),
            ..options.rules.clone()
        },
        selection: options.selection.clone(),
        registry: None,
        surroundings: options.surroundings.clone(),
        roots: options.roots.clone(),
    }
}
