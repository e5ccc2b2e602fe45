//! The repository step, between the per-file checks: the deployment files (Compose,
//! Kubernetes, Helm, Kustomize) are read and parsed, linked to the Dockerfiles whose images
//! they run, and each linked Dockerfile is checked with what they say about its ports
//! ([`crate::deploy::DeploymentFacts`]). Its port moves and its user are then carried into
//! the deployment files, whose reports are made here: one move's edits, in every file, share
//! the Dockerfile fix's applicability, so they apply together or not at all.
//!
//! Only the linked Dockerfiles and the deployment files are held; every other Dockerfile
//! streams through the batch check as before.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use super::check::{check_file, read_file_limited, Checked};
use super::error::Error;
use super::report::FileReport;
use super::LintOptions;
use crate::analysis::{Analysis, BaseImage, EffectiveUser};
use crate::deploy::compose;
use crate::deploy::helm;
use crate::deploy::kube;
use crate::deploy::{
    image_repository, is_node_image, kind_of, DeploymentFacts, FileKind, PortFacts, Reference,
};
use crate::edit::{apply_fixes, Applicability, Fix};
use crate::fs::write::{write_together, Planned};
use crate::rules::deployment::{
    self, moved_port, Carried, ImageUser, ParentValues, Runner, Target,
};
use crate::rules::Finding;
use crate::syntax::{ErrorKind, ParseError};
use crate::yaml::line_of;
use crate::yaml::Stream;

/// What the repository step needs of a file's settings (the command line's are
/// `S`).
pub trait FileSettings: Clone {
    fn lint_options(&self) -> &LintOptions;
    fn fix_threshold(&self) -> Applicability;
}

/// A deployment file of the run.
struct DeployFile<S> {
    path: PathBuf,
    display: String,
    settings: S,
    bytes: Vec<u8>,
    kind: FileKind,
    /// Returned by the walk (a patch file a kustomization names may not be).
    walked: bool,
    /// The text and its documents; the error when it is not YAML unroot reads.
    parsed: Result<(String, Stream), (String, ParseError)>,
}

/// What runs a Dockerfile's image: a document of a deployment file, and the target there.
#[derive(Clone, Debug)]
struct Link {
    file: usize,
    target: Target,
}

/// A Helm chart of the run: its `values.yaml`, its templates (indices into the files) and
/// what they map.
struct ChartFiles {
    values: usize,
    templates: Vec<usize>,
    model: helm::Chart,
    /// Each container's image repository as the values render it.
    images: Vec<Option<String>>,
    /// A subchart (`charts/<name>/` of a chart of the run): the parent's `values.yaml` and
    /// the key its values for this subchart are under.
    parent: Option<(usize, String)>,
}

impl ChartFiles {
    /// Every container's image is known: the chart's port references are read exactly
    /// (not by the lines that name a port).
    fn resolved(&self) -> bool {
        !self.images.is_empty() && self.images.iter().all(Option::is_some)
    }
}

/// A result of the repository step.
enum Ready {
    Made(Box<Result<Checked, Error>>),
    /// A deployment file that nothing carries a change into: its report is made when the
    /// stream takes it (from the file alone), so the reports of many such files are not all
    /// held at once.
    Later {
        file: usize,
        show_unsafe: bool,
    },
}

/// The deployment files of a run and what they run.
pub struct Project<S> {
    files: Vec<DeployFile<S>>,
    /// Canonical Dockerfile path → what runs its image.
    links: HashMap<PathBuf, Vec<Link>>,
    /// Node images run directly.
    node_runners: Vec<Link>,
    /// Helm charts: a `values.yaml` and the templates beside it.
    charts: Vec<ChartFiles>,
    /// The files unroot cannot read that may name a port ([`unseen_text`]).
    unseen: Vec<usize>,
    /// Results made ahead of the stream: linked Dockerfiles and every deployment file.
    ready: Mutex<HashMap<PathBuf, Ready>>,
    /// The coherent changes: sets of files whose fixes belong together (a Dockerfile, and
    /// the deployment files its port move or its user edits), written or committed whole or
    /// not at all. Every file of `ready` is in one.
    groups: Mutex<Vec<Vec<PathBuf>>>,
    /// Every file of `groups`.
    held: Mutex<HashSet<PathBuf>>,
}

/// A YAML file of the run, read and parsed, if it deploys something.
fn read_deploy_file<S: Clone>(path: &Path, settings: &S) -> Option<DeployFile<S>> {
    let bytes = read_file_limited(path).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?.to_string();
    let kind = kind_of(path, &text)?;
    let parsed = match kind {
        FileKind::HelmTemplate => Err((
            text,
            parse_error(
                1,
                "a Helm template, not YAML: reported, never edited".to_string(),
            ),
        )),
        _ => match crate::yaml::parse(&text) {
            Ok(stream) => Ok((text, stream)),
            Err(err) => Err((
                text,
                parse_error(
                    err.line,
                    format!("not valid YAML, so not edited: {}", err.message),
                ),
            )),
        },
    };
    Some(DeployFile {
        path: path.to_path_buf(),
        display: path.display().to_string(),
        settings: settings.clone(),
        bytes,
        kind,
        walked: true,
        parsed,
    })
}

impl<S: FileSettings> Project<S> {
    /// Reads and parses the YAML files of the run, keeping those that deploy something.
    pub fn load(yaml: &[(PathBuf, S)], dockerfiles: &[(PathBuf, S)]) -> Project<S>
    where
        S: Send + Sync,
    {
        // Read and parsed on every core, kept in path order.
        let mut files: Vec<DeployFile<S>> = yaml
            .par_iter()
            .filter_map(|(path, settings)| read_deploy_file(path, settings))
            .collect();
        kustomize(&mut files);
        let charts = charts(&files);
        // The files of a chart whose images are all known are read exactly instead.
        let read: HashSet<usize> = charts
            .iter()
            .filter(|chart| chart.resolved())
            .flat_map(|chart| std::iter::once(chart.values).chain(chart.templates.iter().copied()))
            .collect();
        let unseen = (0..files.len())
            .filter(|index| !read.contains(index))
            .filter(|&index| unseen_text(&files[index]).is_some())
            .collect();
        let mut project = Project {
            unseen,
            files,
            charts,
            links: HashMap::new(),
            node_runners: Vec::new(),
            ready: Mutex::new(HashMap::new()),
            groups: Mutex::new(Vec::new()),
            held: Mutex::new(HashSet::new()),
        };
        project.link(dockerfiles);
        project
    }

    /// The paths of the deployment files, to be checked in the stream with the Dockerfiles.
    pub fn paths(&self) -> Vec<(PathBuf, S)> {
        self.files
            .iter()
            .filter(|f| f.kind != FileKind::HelmTemplate && f.walked)
            .map(|f| (f.path.clone(), f.settings.clone()))
            .collect()
    }

    /// The coherent changes: each set of files whose fixes belong together (a Dockerfile,
    /// and the deployment files its port move or its user edits). Every file the repository
    /// step checked is in exactly one (alone, when nothing links it).
    pub fn coherent_changes(&self) -> Vec<Vec<PathBuf>> {
        self.groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the repository step checked `path` (its result comes from [`Project::take`],
    /// and [`Project::write`] writes it).
    pub fn holds(&self, path: &Path) -> bool {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(path)
    }

    /// `--write` for the files held ahead of the stream: each coherent change is written
    /// whole or not at all ([`write_change`]). The stream must not write them again.
    pub fn write(&self) {
        let mut ready = self.ready.lock().unwrap_or_else(PoisonError::into_inner);
        for result in ready.values_mut() {
            if let Ready::Later { file, show_unsafe } = *result {
                *result = Ready::Made(Box::new(self.report(
                    &self.files[file],
                    &[],
                    &[],
                    Vec::new(),
                    show_unsafe,
                )));
            }
        }
        let mut checked: HashMap<PathBuf, &mut Checked> = ready
            .iter_mut()
            .filter_map(|(path, result)| match result {
                Ready::Made(made) => Some((path.clone(), made.as_mut().as_mut().ok()?)),
                Ready::Later { .. } => None,
            })
            .collect();
        for group in self.coherent_changes() {
            write_change(&group, &mut checked);
        }
    }

    /// The result made for `path` ahead of the stream, if any.
    pub fn take(&self, path: &Path) -> Option<Result<Checked, Error>> {
        let ready = self
            .ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(path)?;
        Some(match ready {
            Ready::Made(result) => *result,
            Ready::Later { file, show_unsafe } => {
                self.report(&self.files[file], &[], &[], Vec::new(), show_unsafe)
            }
        })
    }

    fn link(&mut self, dockerfiles: &[(PathBuf, S)]) {
        // The run's Dockerfiles by their resolved paths, made once, when first needed.
        let mut known: Option<HashSet<PathBuf>> = None;
        // Compose `build:` links a service; `image:` beside it names the image for the rest.
        let mut images: HashMap<String, PathBuf> = HashMap::new();
        for (index, file) in self.files.iter().enumerate() {
            let Ok((_, stream)) = &file.parsed else {
                continue;
            };
            if file.kind != FileKind::Compose {
                continue;
            }
            let dir = file.path.parent().unwrap_or(Path::new("."));
            for (doc_index, doc) in stream.documents.iter().enumerate() {
                for service in compose::services(doc) {
                    let target = Target::ComposeService {
                        doc: doc_index,
                        name: service.name.to_string(),
                    };
                    if let Some(build) = service.build() {
                        let path = dir.join(&build.context).join(&build.dockerfile);
                        let known = known.get_or_insert_with(|| {
                            dockerfiles
                                .iter()
                                .filter_map(|(path, _)| canonical(path))
                                .collect()
                        });
                        let Some(dockerfile) = canonical(&path).filter(|p| known.contains(p))
                        else {
                            continue;
                        };
                        if let Some(wanted) = &build.target {
                            if final_stage_name(&dockerfile).as_deref() != Some(wanted.as_str()) {
                                continue;
                            }
                        }
                        if let Some(image) = service.image() {
                            images.insert(image_repository(image).to_string(), dockerfile.clone());
                        }
                        self.links.entry(dockerfile).or_default().push(Link {
                            file: index,
                            target,
                        });
                    } else if service.image().is_some_and(is_node_image) {
                        self.node_runners.push(Link {
                            file: index,
                            target,
                        });
                    }
                }
            }
        }
        // Images that CI workflows, bake and skaffold files build from a known Dockerfile;
        // only when something runs an image by its name (else no Dockerfile is resolved for it).
        if self.runs_images_by_name() {
            let known = known.get_or_insert_with(|| {
                dockerfiles
                    .iter()
                    .filter_map(|(path, _)| canonical(path))
                    .collect()
            });
            for (image, dockerfile) in built_images(known) {
                images.entry(image).or_insert(dockerfile);
            }
        }
        // Services that only name an image a Compose file builds (a Swarm stack file).
        for (index, file) in self.files.iter().enumerate() {
            let Ok((_, stream)) = &file.parsed else {
                continue;
            };
            if file.kind != FileKind::Compose {
                continue;
            }
            for (doc_index, doc) in stream.documents.iter().enumerate() {
                for service in compose::services(doc) {
                    let built = service.build().is_some();
                    let image = service.image().map(image_repository);
                    if let (false, Some(dockerfile)) = (built, image.and_then(|i| images.get(i))) {
                        let target = Target::ComposeService {
                            doc: doc_index,
                            name: service.name.to_string(),
                        };
                        let link = Link {
                            file: index,
                            target,
                        };
                        self.links.entry(dockerfile.clone()).or_default().push(link);
                    }
                }
            }
        }
        let overrides = self.kustomize_images();
        for (index, file) in self.files.iter().enumerate() {
            let Ok((_, stream)) = &file.parsed else {
                continue;
            };
            if file.kind != FileKind::Kubernetes {
                continue;
            }
            // The kustomizations that build this manifest, and their image overrides.
            let resolved = (!overrides.is_empty())
                .then(|| canonical(&file.path))
                .flatten();
            let renamed = |image: &str| -> Option<&String> {
                let resolved = resolved.as_ref()?;
                overrides
                    .iter()
                    .filter(|(dirs, _, _)| dirs.iter().any(|dir| resolved.starts_with(dir)))
                    .find(|(_, name, _)| image_repository(name) == image)
                    .map(|(_, _, new_name)| new_name)
            };
            for (doc_index, doc) in stream.documents.iter().enumerate() {
                let Some(workload) = kube::workload(doc) else {
                    continue;
                };
                for container in workload.containers() {
                    let target = Target::Container {
                        doc: doc_index,
                        name: container.name.to_string(),
                    };
                    let link = Link {
                        file: index,
                        target,
                    };
                    let written = image_repository(container.image);
                    // A kustomization's `images:` renames it: the new name is what runs.
                    let image = renamed(written).map_or(written, |new| image_repository(new));
                    if let Some(dockerfile) = images.get(image) {
                        self.links.entry(dockerfile.clone()).or_default().push(link);
                    } else if is_node_image(image) {
                        self.node_runners.push(link);
                    }
                }
            }
        }
        // Helm charts: containers whose values-rendered image is the repository's own.
        for (index, chart) in self.charts.iter().enumerate() {
            let mut by_dockerfile: Vec<(Option<PathBuf>, Vec<usize>)> = Vec::new();
            for (container, image) in chart.images.iter().enumerate() {
                let Some(image) = image else { continue };
                let dockerfile = match images.get(image.as_str()) {
                    Some(dockerfile) => Some(dockerfile.clone()),
                    None if is_node_image(image) => None,
                    None => continue,
                };
                match by_dockerfile.iter_mut().find(|(d, _)| *d == dockerfile) {
                    Some((_, containers)) => containers.push(container),
                    None => by_dockerfile.push((dockerfile, vec![container])),
                }
            }
            let parent = chart.parent.as_ref().and_then(|(parent, key)| {
                let file = &self.files[*parent];
                let (source, _) = file.parsed.as_ref().ok()?;
                Some(ParentValues {
                    shown: file.display.clone(),
                    source: source.clone(),
                    values: override_of(file, key)?.clone(),
                })
            });
            for (dockerfile, containers) in by_dockerfile {
                let link = Link {
                    file: chart.values,
                    target: Target::HelmChart {
                        doc: 0,
                        chart: index,
                        security: containers
                            .iter()
                            .map(|&c| chart.model.security(c))
                            .collect(),
                        containers,
                        parent: parent.clone(),
                    },
                };
                match dockerfile {
                    Some(dockerfile) => self.links.entry(dockerfile).or_default().push(link),
                    None => self.node_runners.push(link),
                }
            }
        }
    }

    /// The kustomizations' `images:` overrides: the directories each applies to (its own and
    /// those its `resources:` name, resolved), the image name and its `newName`.
    fn kustomize_images(&self) -> Vec<(Vec<PathBuf>, String, String)> {
        let mut found = Vec::new();
        for file in &self.files {
            let (FileKind::Kustomization, Ok((_, stream))) = (file.kind, &file.parsed) else {
                continue;
            };
            let dir = file.path.parent().unwrap_or(Path::new("."));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            for doc in &stream.documents {
                let renames = crate::deploy::kustomize_images(doc);
                if renames.is_empty() {
                    continue;
                }
                let dirs: Vec<PathBuf> = std::iter::once(dir.to_path_buf())
                    .chain(
                        crate::deploy::kustomize_resource_dirs(doc)
                            .iter()
                            .map(|resource| dir.join(resource)),
                    )
                    .filter_map(|dir| canonical(&dir))
                    .collect();
                for (name, new_name) in renames {
                    found.push((dirs.clone(), name, new_name));
                }
            }
        }
        found
    }

    /// Whether a file runs an image that [`Project::link`] looks up by its name: a Compose
    /// service with `image:` and no `build:`, a Kubernetes container, a Helm chart's image.
    fn runs_images_by_name(&self) -> bool {
        let documents = |kind: FileKind| {
            self.files
                .iter()
                .filter(move |file| file.kind == kind)
                .filter_map(|file| file.parsed.as_ref().ok())
                .flat_map(|(_, stream)| &stream.documents)
        };
        documents(FileKind::Compose).any(|doc| {
            compose::services(doc)
                .iter()
                .any(|service| service.build().is_none() && service.image().is_some())
        }) || documents(FileKind::Kubernetes).any(|doc| {
            kube::workload(doc).is_some_and(|workload| !workload.containers().is_empty())
        }) || self
            .charts
            .iter()
            .any(|chart| chart.images.iter().any(Option::is_some))
    }

    /// Checks the linked Dockerfiles with their deployment facts and makes the deployment
    /// files' reports, ahead of the stream.
    pub fn prepare(&self, dockerfiles: &[(PathBuf, S)], show_unsafe: bool) {
        let mut carried: Vec<Vec<Carried>> = vec![Vec::new(); self.files.len()];
        let mut runners: Vec<Vec<Runner>> = vec![Vec::new(); self.files.len()];
        for link in &self.node_runners {
            let uid = self.files[link.file].settings.lint_options().rules.uid;
            runners[link.file].push(Runner {
                target: link.target.clone(),
                image_user: ImageUser::NodeImage,
                dockerfile: None,
                uid,
            });
        }
        let mut ready = HashMap::new();
        // Dockerfile → deployment file, where the file's edits follow the Dockerfile's fixes.
        let mut joined: Vec<(PathBuf, PathBuf)> = Vec::new();
        for (path, settings) in dockerfiles {
            // Nothing links a Dockerfile: no need to resolve each one's path.
            let links = (!self.links.is_empty())
                .then(|| canonical(path))
                .flatten()
                .and_then(|c| self.links.get(&c))
                .cloned()
                .unwrap_or_default();
            let unseen = self.unseen_references(path, !links.is_empty());
            if links.is_empty() && unseen.is_empty() {
                continue;
            }
            // First without facts: which ports the rules move.
            let Ok(first) = check_file(
                path,
                settings.lint_options(),
                settings.fix_threshold(),
                false,
            ) else {
                continue;
            };
            let moves = moves_of(&first.report);
            if moves.is_empty() && links.is_empty() {
                continue;
            }
            let shown = path.display().to_string();
            let facts = DeploymentFacts {
                linked: links
                    .iter()
                    .map(|l| self.files[l.file].display.clone())
                    .collect(),
                ports: moves
                    .iter()
                    .map(|&(old, _, _)| self.port_facts(path, &links, &unseen, old))
                    .collect(),
            };
            let mut options = settings.lint_options().clone();
            options.rules.deployment = Some(Arc::new(facts));
            let result = check_file(path, &options, settings.fix_threshold(), show_unsafe);
            if let Ok(checked) = &result {
                let report = &checked.report;
                for (old, new, applicability) in moves_of(report) {
                    for link in &links {
                        let own = self
                            .references(link, old, new)
                            .into_iter()
                            .map(|r| (link.file, r));
                        for (file, reference) in own.chain(self.foreign_services(link, old, new)) {
                            if matches!(reference, Reference::Edit { .. }) {
                                joined.push((path.clone(), self.files[file].path.clone()));
                            }
                            carried[file].push(Carried {
                                reference,
                                old,
                                new,
                                applicability,
                                dockerfile: shown.clone(),
                            });
                        }
                    }
                }
                let uid = settings.lint_options().rules.uid;
                let user = match (image_user(&report.fixed), uid) {
                    // `--uid N`: the number of a user the Dockerfile names but does not create.
                    (ImageUser::Named(name), Some(uid)) if !creates_user(&report.fixed, &name) => {
                        ImageUser::Numeric {
                            uid,
                            gid: Some(uid),
                        }
                    }
                    (user, _) => user,
                };
                for link in &links {
                    joined.push((path.clone(), self.files[link.file].path.clone()));
                    runners[link.file].push(Runner {
                        target: link.target.clone(),
                        image_user: user.clone(),
                        dockerfile: Some(shown.clone()),
                        uid,
                    });
                }
            }
            ready.insert(path.clone(), Ready::Made(Box::new(result)));
        }
        let mut patch_users = self.patch_users(&runners);
        for (index, file) in self.files.iter().enumerate() {
            if file.kind == FileKind::HelmTemplate || !file.walked {
                continue;
            }
            let extra = std::mem::take(&mut patch_users[index]);
            let result =
                if carried[index].is_empty() && runners[index].is_empty() && extra.is_empty() {
                    Ready::Later {
                        file: index,
                        show_unsafe,
                    }
                } else {
                    Ready::Made(Box::new(self.report(
                        file,
                        &carried[index],
                        &runners[index],
                        extra,
                        show_unsafe,
                    )))
                };
            ready.insert(file.path.clone(), result);
        }
        let paths: Vec<PathBuf> = ready.keys().cloned().collect();
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = paths.iter().cloned().collect();
        *self.groups.lock().unwrap_or_else(PoisonError::into_inner) = components(paths, &joined);
        *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = ready;
    }

    /// For each file, the Kustomize patch findings of a `runAsUser` other than the uid of the
    /// image the patched container runs (a linked container of the same workload kind, name
    /// and container name; a pod-level `runAsUser` counts for each container).
    fn patch_users(&self, runners: &[Vec<Runner>]) -> Vec<Vec<Finding>> {
        let mut found = vec![Vec::new(); self.files.len()];
        // (kind, workload, container) → (uid, where the image comes from).
        let mut users: Vec<(&str, &str, &str, u32, String)> = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            let (FileKind::Kubernetes, Ok((_, stream))) = (file.kind, &file.parsed) else {
                continue;
            };
            for runner in &runners[index] {
                let Target::Container { doc, name } = &runner.target else {
                    continue;
                };
                let Some(workload) = stream.documents.get(*doc).and_then(kube::workload) else {
                    continue;
                };
                let image = match (&runner.image_user, &runner.dockerfile) {
                    (ImageUser::Numeric { .. }, Some(dockerfile)) => format!("`{dockerfile}`"),
                    (ImageUser::NodeImage, _) => "the `node` image".to_string(),
                    _ => continue,
                };
                let Some((Some(uid), _)) = runner.image_ids() else {
                    continue;
                };
                users.push((workload.kind, workload.name, name.as_str(), uid, image));
            }
        }
        if users.is_empty() {
            return found;
        }
        // Each patch: its file, its document, and where an inline patch is in the
        // kustomization (its findings point there).
        let mut patches: Vec<(usize, crate::yaml::Node, Option<crate::syntax::Span>)> = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            let Ok((_, stream)) = &file.parsed else {
                continue;
            };
            match file.kind {
                FileKind::KustomizePatch => patches.extend(
                    stream
                        .documents
                        .iter()
                        .map(|doc| (index, doc.clone(), None)),
                ),
                FileKind::Kustomization => {
                    for doc in &stream.documents {
                        for (text, span) in crate::deploy::kustomize_inline_patches(doc) {
                            let Ok(inline) = crate::yaml::parse(text) else {
                                continue;
                            };
                            patches.extend(
                                inline
                                    .documents
                                    .into_iter()
                                    .map(|doc| (index, doc, Some(span))),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        for (index, doc, inline) in &patches {
            let Some(workload) = kube::workload(doc) else {
                continue;
            };
            fn run_as(node: Option<&crate::yaml::Node>) -> Option<&crate::yaml::Node> {
                node.and_then(|n| n.get("securityContext"))
                    .and_then(|c| c.get("runAsUser"))
                    .filter(|v| v.number().is_some_and(|n| n != 0))
            }
            let pod = run_as(Some(workload.pod));
            let patched: Vec<(&str, &crate::yaml::Node)> = ["initContainers", "containers"]
                .iter()
                .filter_map(|key| workload.pod.get(key))
                .flat_map(crate::yaml::Node::items)
                .filter_map(|item| {
                    let name = item.get("name").and_then(crate::yaml::Node::str)?;
                    Some((name, run_as(Some(item)).or(pod)?))
                })
                .collect();
            let mut seen = Vec::new();
            for (kind, name, container, uid, image) in &users {
                if *kind != workload.kind || *name != workload.name {
                    continue;
                }
                let set = patched
                    .iter()
                    .find(|(patched, _)| patched == container)
                    .map(|(_, node)| *node)
                    .or(pod);
                let Some(node) = set else { continue };
                let Some(number) = node.number().filter(|n| n != uid) else {
                    continue;
                };
                if seen.contains(&(node.span.start, *container)) {
                    continue;
                }
                seen.push((node.span.start, *container));
                let who = format!("{kind} `{name}` container `{container}`");
                found[*index].push(deployment::patch_uid_finding(
                    inline.unwrap_or(node.span),
                    &who,
                    number,
                    *uid,
                    image,
                ));
            }
        }
        found
    }

    fn report(
        &self,
        file: &DeployFile<S>,
        carried: &[Carried],
        runners: &[Runner],
        patch_users: Vec<Finding>,
        show_unsafe: bool,
    ) -> Result<Checked, Error> {
        let (source, stream) = file.parsed.as_ref().map_err(|(_, err)| Error::Parse {
            path: file.path.clone(),
            source: err.clone(),
        })?;
        let selection = &file.settings.lint_options().selection;
        let kustomize = matches!(
            file.kind,
            FileKind::Kustomization | FileKind::KustomizePatch
        );
        let findings = deployment::findings(
            source,
            &stream.documents,
            carried,
            runners,
            selection,
            kustomize,
            patch_users,
        );
        let threshold = file.settings.fix_threshold();
        let fixes: Vec<&Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
        let applied = apply_fixes(source, &fixes, threshold);
        let fixed = applied.text;
        let fixed_with_unsafe = if show_unsafe {
            apply_fixes(source, &fixes, Applicability::Unsafe).text
        } else {
            fixed.clone()
        };
        // An edit that leaves text unroot cannot parse is a bug: nothing is written.
        if fixed != *source && crate::yaml::parse(&fixed).is_err() {
            return Err(Error::Parse {
                path: file.path.clone(),
                source: parse_error(
                    1,
                    "internal error: the planned fix is not valid YAML; nothing was changed"
                        .to_string(),
                ),
            });
        }
        let remaining = findings.len() - applied.applied.len();
        Ok(Checked {
            report: FileReport {
                path: file.display.clone(),
                source: source.clone(),
                remaining,
                findings,
                fixed,
                fixed_with_unsafe,
                threshold,
                unapplied: false,
                untouched: None,
            },
            bytes: file.bytes.clone(),
            lookup_failures: Vec::new(),
            write_error: None,
        })
    }

    /// Where the target of `link` names container port `old`.
    fn references(&self, link: &Link, old: u16, new: u16) -> Vec<Reference> {
        let file = &self.files[link.file];
        let Ok((source, stream)) = &file.parsed else {
            return Vec::new();
        };
        let doc = &stream.documents[link.target.doc()];
        match &link.target {
            Target::ComposeService { name, .. } => {
                let Some(service) = compose::services(doc).into_iter().find(|s| s.name == name)
                else {
                    return Vec::new();
                };
                let mut found = compose::port_references(source, &service, old, new);
                for other in &stream.documents {
                    found.extend(compose::client_references(
                        source,
                        other,
                        &[name.as_str()],
                        old,
                        new,
                    ));
                }
                found
            }
            Target::Container { name, .. } => {
                let Some(workload) = kube::workload(doc) else {
                    return Vec::new();
                };
                let Some(container) = workload.containers().into_iter().find(|c| c.name == name)
                else {
                    return Vec::new();
                };
                let (mut found, names) = kube::port_references(source, &container, old, new);
                for other in &stream.documents {
                    if kube::kind(other) == Some("Service") && kube::selects(other, &workload) {
                        found.extend(kube::service_references(source, other, &names, old, new));
                    }
                }
                found
            }
            Target::HelmChart {
                chart, containers, ..
            } => {
                let chart = &self.charts[*chart];
                helm::port_references(source, doc, &chart.model, containers, old, new).0
            }
        }
    }

    /// Services in other manifest files that select a linked workload: their edits belong to
    /// their own file, so each is a reference of that file.
    fn foreign_services(&self, link: &Link, old: u16, new: u16) -> Vec<(usize, Reference)> {
        let mut found = Vec::new();
        let file = &self.files[link.file];
        if let (
            Ok((source, stream)),
            Target::HelmChart {
                chart, containers, ..
            },
        ) = (&file.parsed, &link.target)
        {
            // The template lines of a chart that a person must change.
            let chart = &self.charts[*chart];
            let doc = &stream.documents[link.target.doc()];
            let (own, templates) =
                helm::port_references(source, doc, &chart.model, containers, old, new);
            found.extend(
                templates
                    .into_iter()
                    .map(|(template, reference)| (chart.templates[template], reference)),
            );
            // A subchart: the parent's values for it are what Helm renders.
            if let Some((parent, key)) = &chart.parent {
                let parent_file = &self.files[*parent];
                if let (Some(over), Ok((parent_source, _))) =
                    (override_of(parent_file, key), &parent_file.parsed)
                {
                    let overrides =
                        helm::override_references(parent_source, over, key, doc, &own, old, new);
                    found.extend(overrides.into_iter().map(|r| (*parent, r)));
                }
            }
            return found;
        }
        let (Ok((own_source, stream)), Target::Container { name, .. }) =
            (&file.parsed, &link.target)
        else {
            return found;
        };
        let Some(workload) = kube::workload(&stream.documents[link.target.doc()]) else {
            return found;
        };
        let Some(container) = workload.containers().into_iter().find(|c| c.name == name) else {
            return found;
        };
        let (_, names) = kube::port_references(own_source, &container, old, new);
        for (index, other) in self.files.iter().enumerate() {
            if index == link.file || other.kind != FileKind::Kubernetes {
                continue;
            }
            let Ok((source, other_stream)) = &other.parsed else {
                continue;
            };
            for doc in &other_stream.documents {
                if kube::kind(doc) == Some("Service") && kube::selects(doc, &workload) {
                    for reference in kube::service_references(source, doc, &names, old, new) {
                        found.push((index, reference));
                    }
                }
            }
        }
        found
    }

    /// Files that may name a port but that unroot cannot read: Helm templates and values,
    /// Kustomize files, YAML that does not parse. Their lines that name a port are listed
    /// for a person.
    ///
    /// An unlinked Dockerfile counts those in its own directory and below, and those beside
    /// one of its ancestors, not every one of a large tree. Only Dockerfiles with a port
    /// move are held for this.
    ///
    /// Only those files are looked at ([`Project::unseen`]), so a tree of many Dockerfiles
    /// and many manifests unroot reads costs nothing here per Dockerfile.
    fn unseen_references(&self, dockerfile: &Path, linked: bool) -> Vec<(String, String)> {
        let dir = dockerfile.parent().unwrap_or(Path::new(""));
        self.unseen
            .iter()
            .map(|&index| &self.files[index])
            .filter(|file| {
                let beside = file.path.parent().unwrap_or(Path::new(""));
                linked || file.path.starts_with(dir) || dir.starts_with(beside)
            })
            .filter_map(|file| {
                let text = unseen_text(file)?;
                Some((file.display.clone(), self.unmasked(file, text)))
            })
            .collect()
    }

    /// `text` (of `file`) without the lines unroot reads exactly: a parent chart's values for
    /// a subchart whose images are all known ([`helm::override_references`] reads them).
    fn unmasked(&self, file: &DeployFile<S>, text: &str) -> String {
        let mut masked: Vec<(usize, usize)> = Vec::new();
        for chart in self.charts.iter().filter(|chart| chart.resolved()) {
            let Some((parent, key)) = &chart.parent else {
                continue;
            };
            let parent_file = &self.files[*parent];
            if parent_file.path != file.path {
                continue;
            }
            let entry = parent_file
                .parsed
                .as_ref()
                .ok()
                .and_then(|(_, stream)| stream.documents.first()?.entry(key));
            if let Some((key, value)) = entry {
                masked.push((
                    line_of(text, key.span.start),
                    line_of(text, value.span.end.saturating_sub(1)),
                ));
            }
        }
        if masked.is_empty() {
            return text.to_string();
        }
        text.split_inclusive('\n')
            .enumerate()
            .map(|(index, line)| {
                let number = index + 1;
                if masked
                    .iter()
                    .any(|&(from, to)| from <= number && number <= to)
                {
                    "\n"
                } else {
                    line
                }
            })
            .collect()
    }

    fn port_facts(
        &self,
        dockerfile: &Path,
        links: &[Link],
        unseen: &[(String, String)],
        old: u16,
    ) -> PortFacts {
        let mut facts = PortFacts {
            port: old,
            ..PortFacts::default()
        };
        for link in links {
            let display = &self.files[link.file].display;
            let mut references: Vec<(String, Reference)> = self
                .references(link, old, old)
                .into_iter()
                .map(|r| (display.clone(), r))
                .collect();
            references.extend(
                self.foreign_services(link, old, old)
                    .into_iter()
                    .map(|(index, r)| (self.files[index].display.clone(), r)),
            );
            for (display, reference) in references {
                match reference {
                    Reference::Edit { line, what, .. } | Reference::Follows { line, what } => {
                        facts.carried.push(format!("{display}:{line} ({what})"))
                    }
                    Reference::Person { line, why } => {
                        facts.person.push(format!("{display}:{line}: {why}"))
                    }
                }
            }
        }
        for (display, line) in self.notes_references(links, old) {
            facts.person.push(format!(
                "{display}:{line}: names port `{old}` in the chart's notes, which unroot does not edit"
            ));
        }
        for (display, line) in self.application_references(dockerfile, links, old) {
            facts
                .person
                .push(format!("{display}:{line}: names port `{old}` of the app"));
        }
        for (display, text) in unseen {
            for (index, line) in text.lines().enumerate() {
                if line.to_ascii_lowercase().contains("port") && compose::mentions_port(line, old) {
                    facts.person.push(format!(
                        "{display}:{}: names port `{old}` in a file unroot does not edit",
                        index + 1
                    ));
                }
            }
        }
        facts
    }
}

impl<S: FileSettings> Project<S> {
    /// The lines of the linked charts' `templates/NOTES.txt` (text shown after an install,
    /// never edited) that name the port.
    fn notes_references(&self, links: &[Link], old: u16) -> Vec<(String, usize)> {
        let mut found = Vec::new();
        let mut seen: Vec<usize> = Vec::new();
        for link in links {
            let Target::HelmChart { chart, .. } = &link.target else {
                continue;
            };
            if seen.contains(chart) {
                continue;
            }
            seen.push(*chart);
            let values = &self.files[self.charts[*chart].values];
            let notes = values
                .path
                .parent()
                .unwrap_or(Path::new(""))
                .join("templates")
                .join("NOTES.txt");
            let Ok(bytes) = read_file_limited(&notes) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let shown = notes
                .strip_prefix(".")
                .unwrap_or(&notes)
                .display()
                .to_string();
            for (index, line) in text.lines().enumerate() {
                if compose::mentions_port(line, old) {
                    found.push((shown.clone(), index + 1));
                }
            }
        }
        found
    }

    /// Application files that name the port: app config and tests under the Dockerfile's
    /// directory (a `port` key set to it, or a call of the service on it), proxy configs and
    /// tests next to the deployment files (calls of the service on it). The walk honours
    /// ignore files, skips `node_modules` and hidden files, and reads at most
    /// [`MAX_SCANNED`] files of at most 256 KiB.
    fn application_references(
        &self,
        dockerfile: &Path,
        links: &[Link],
        old: u16,
    ) -> Vec<(String, usize)> {
        let mut hosts: Vec<String> = Vec::new();
        for link in links {
            let file = &self.files[link.file];
            match &link.target {
                Target::ComposeService { name, .. } => hosts.push(name.clone()),
                // A chart's Service names are templated.
                Target::HelmChart { .. } => {}
                Target::Container { doc, .. } => {
                    let Ok((_, stream)) = &file.parsed else {
                        continue;
                    };
                    if let Some(workload) = kube::workload(&stream.documents[*doc]) {
                        let documents = self
                            .files
                            .iter()
                            .flat_map(|f| f.parsed.iter())
                            .flat_map(|(_, s)| &s.documents);
                        for other in documents {
                            if kube::kind(other) == Some("Service")
                                && kube::selects(other, &workload)
                            {
                                hosts.push(kube::name(other).to_string());
                            }
                        }
                    }
                }
            }
        }
        hosts.retain(|h| !h.is_empty());
        hosts.sort();
        hosts.dedup();
        let mut roots: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(dir) = dockerfile.parent() {
            roots.push((dir.to_path_buf(), true));
        }
        for link in links {
            if let Some(dir) = self.files[link.file].path.parent() {
                roots.push((dir.to_path_buf(), false));
            }
        }
        let deployment: Vec<&Path> = self.files.iter().map(|f| f.path.as_path()).collect();
        let mut seen = std::collections::HashSet::new();
        let mut found = Vec::new();
        let mut scanned = 0;
        for (root, config) in roots {
            let root = if root.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                root
            };
            let walk = ignore::WalkBuilder::new(&root)
                .max_depth(Some(4))
                .filter_entry(|e| e.file_name() != "node_modules")
                .build();
            for entry in walk.flatten() {
                let path = entry.path();
                if !entry.file_type().is_some_and(|t| t.is_file())
                    || path == dockerfile
                    || deployment.contains(&path)
                    || !application_file(path)
                    || !seen.insert(path.to_path_buf())
                {
                    continue;
                }
                scanned += 1;
                if scanned > MAX_SCANNED {
                    return found;
                }
                let small = entry.metadata().is_ok_and(|m| m.len() <= 256 * 1024);
                let Some(text) = small.then(|| std::fs::read_to_string(path).ok()).flatten() else {
                    continue;
                };
                let is_config = config && !is_test(path);
                for line in crate::deploy::text_references(&text, &hosts, old, is_config) {
                    let shown = path.strip_prefix(".").unwrap_or(path);
                    found.push((shown.display().to_string(), line));
                }
            }
        }
        found
    }
}

/// The images the repository's build files (CI workflows, `.gitlab-ci.yml`, bake and
/// skaffold files) build from the run's Dockerfiles (`known`, by canonical path): the build
/// files at the current directory and at the root (the folder with `.git`) above each
/// Dockerfile.
fn built_images(known: &HashSet<PathBuf>) -> Vec<(String, PathBuf)> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut add = |root: PathBuf| {
        if let Some(root) = canonical(&root) {
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
    };
    add(PathBuf::from("."));
    for dockerfile in known {
        if let Some(root) = dockerfile
            .ancestors()
            .skip(1)
            .find(|a| a.join(".git").exists())
        {
            add(root.to_path_buf());
        }
    }
    let mut found = Vec::new();
    for root in &roots {
        for file in crate::deploy::builds::build_files(root) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for built in crate::deploy::builds::built(&file, &text, root) {
                if let Some(dockerfile) = canonical(&built.dockerfile).filter(|d| known.contains(d))
                {
                    found.push((built.image, dockerfile));
                }
            }
        }
    }
    found
}

/// Files that a `kustomization.yaml` names as patches become [`FileKind::KustomizePatch`]:
/// never linked nor edited, their lines that name a moved port listed for a person. Patch
/// files the walk did not return (`*.json`) are read too.
fn kustomize<S: Clone>(files: &mut Vec<DeployFile<S>>) {
    let mut patches: Vec<(PathBuf, S)> = Vec::new();
    for file in files.iter() {
        let (FileKind::Kustomization, Ok((_, stream))) = (file.kind, &file.parsed) else {
            continue;
        };
        let dir = file.path.parent().unwrap_or(Path::new(""));
        for doc in &stream.documents {
            for patch in crate::deploy::kustomize_patches(doc) {
                patches.push((dir.join(patch), file.settings.clone()));
            }
        }
    }
    for (path, settings) in patches {
        let wanted = canonical(&path);
        match files
            .iter_mut()
            .find(|f| wanted.is_some() && canonical(&f.path) == wanted)
        {
            Some(file) => file.kind = FileKind::KustomizePatch,
            None => {
                let Ok(bytes) = read_file_limited(&path) else {
                    continue;
                };
                let Ok(text) = String::from_utf8(bytes.clone()) else {
                    continue;
                };
                // JSON is YAML: a JSON 6902 patch parses too.
                let parsed = crate::yaml::parse(&text)
                    .map(|stream| (text.clone(), stream))
                    .map_err(|err| (text.clone(), parse_error(err.line, err.message)));
                files.push(DeployFile {
                    display: path.display().to_string(),
                    path,
                    settings,
                    bytes,
                    kind: FileKind::KustomizePatch,
                    walked: false,
                    parsed,
                });
            }
        }
    }
}

/// The charts among the files: each `values.yaml` with the templates under its
/// `templates/`.
fn charts<S>(files: &[DeployFile<S>]) -> Vec<ChartFiles> {
    let mut charts = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if file.kind != FileKind::HelmValues {
            continue;
        }
        let Ok((_, stream)) = &file.parsed else {
            continue;
        };
        let Some(values) = stream.documents.first() else {
            continue;
        };
        let dir = file
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .join("templates");
        let templates: Vec<usize> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FileKind::HelmTemplate && f.path.starts_with(&dir))
            .map(|(i, _)| i)
            .collect();
        let texts: Vec<(String, &str)> = templates
            .iter()
            .map(|&i| {
                let text = match &files[i].parsed {
                    Ok((text, _)) | Err((text, _)) => text.as_str(),
                };
                (files[i].display.clone(), text)
            })
            .collect();
        let helpers = chart_helpers(&dir);
        let model = helm::Chart::read_with_helpers(&texts, &helpers);
        let parent = subchart_parent(files, &file.path);
        let over = parent
            .as_ref()
            .and_then(|(parent, key)| override_of(&files[*parent], key));
        let images = match over {
            Some(over) => model.images_over(&[over, values]),
            None => model.images(values),
        };
        charts.push(ChartFiles {
            values: index,
            templates,
            model,
            images,
            parent,
        });
    }
    charts
}

/// The helpers (`define` blocks) of the `.tpl` files in a chart's `templates/` directory
/// (`_helpers.tpl`), read in name order.
fn chart_helpers(templates: &Path) -> helm::Helpers {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(templates)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "tpl") && path.is_file())
        .collect();
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            let bytes = read_file_limited(path).ok()?;
            String::from_utf8(bytes).ok()
        })
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    helm::Helpers::read(&texts)
}

/// The parent chart of the chart whose `values.yaml` is `values` (at `<parent>/charts/<name>/`),
/// when the run has the parent's `values.yaml` and it sets values for this subchart: its index
/// and the key (the subchart's `name` in its Chart.yaml, else its directory's name).
fn subchart_parent<S>(files: &[DeployFile<S>], values: &Path) -> Option<(usize, String)> {
    let dir = values.parent()?;
    let charts = dir
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == "charts"))?;
    let parent_dir = charts.parent()?;
    let parent = files
        .iter()
        .position(|f| f.kind == FileKind::HelmValues && f.path.parent() == Some(parent_dir))?;
    let declared = read_file_limited(&dir.join("Chart.yaml"))
        .ok()
        .and_then(|bytes| crate::yaml::parse(&String::from_utf8(bytes).ok()?).ok())
        .and_then(|chart| Some(chart.documents.first()?.get("name")?.str()?.to_string()));
    let names = declared
        .into_iter()
        .chain(dir.file_name().and_then(|n| n.to_str()).map(str::to_string));
    for name in names {
        if override_of(&files[parent], &name).is_some() {
            return Some((parent, name));
        }
    }
    None
}

/// The parent chart's values for subchart `key`: its `<key>:` mapping.
fn override_of<'a, S>(parent: &'a DeployFile<S>, key: &str) -> Option<&'a crate::yaml::Node> {
    let (_, stream) = parent.parsed.as_ref().ok()?;
    stream
        .documents
        .first()?
        .get(key)
        .filter(|node| node.is_map())
}

/// The most application files one port move reads.
const MAX_SCANNED: usize = 2000;

fn is_test(path: &Path) -> bool {
    let text = path.to_string_lossy();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.contains(".test.")
        || name.contains(".spec.")
        || ["/test/", "/tests/", "/e2e/", "/__tests__/"]
            .iter()
            .any(|d| text.contains(d))
}

/// Config files, proxy configs and tests: what may name the app's port.
fn application_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, "package.json" | "package-lock.json") || name.starts_with("tsconfig") {
        return false;
    }
    if name.starts_with("Caddyfile") || name.starts_with("nginx") {
        return true;
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension {
        "conf" | "json" | "toml" | "ini" | "env" => true,
        "js" | "mjs" | "cjs" | "ts" | "sh" | "py" => is_test(path),
        _ => false,
    }
}

/// The port moves a Dockerfile's report plans: (port, new port, applicability).
fn moves_of(report: &FileReport) -> Vec<(u16, u16, Applicability)> {
    report
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .filter_map(|fix| moved_port(fix).map(|(old, new)| (old, new, fix.applicability)))
        .collect()
}

/// Who the fixed Dockerfile's image runs as.
fn image_user(fixed: &str) -> ImageUser {
    let Ok(file) = crate::syntax::parse(fixed) else {
        return ImageUser::Root;
    };
    let analysis = Analysis::of(&file);
    let Some(stage) = analysis.final_stage() else {
        return ImageUser::Root;
    };
    let user = analysis.effective_user(&file, stage);
    if user.is_root() != Some(false) {
        return ImageUser::Root;
    }
    let value = match &user {
        EffectiveUser::Instruction { resolved, .. } => resolved.clone().unwrap_or_default(),
        EffectiveUser::ImageDefault(user) => user.unwrap_or("").to_string(),
    };
    let (name, group) = value
        .split_once(':')
        .map_or((value.as_str(), None), |(n, g)| (n, Some(g)));
    let numeric = |text: &str| text.parse::<u32>().ok();
    if let Some(uid) = numeric(name) {
        return ImageUser::Numeric {
            uid,
            gid: group.and_then(numeric),
        };
    }
    if name == "node"
        && matches!(stage.base, BaseImage::OfficialNode { .. })
        && group.is_none_or(|g| g == "node")
    {
        return ImageUser::Numeric {
            uid: 1000,
            gid: Some(1000),
        };
    }
    match created_uid(fixed, name) {
        Some(uid) => ImageUser::Numeric {
            uid,
            gid: Some(uid),
        },
        None => ImageUser::Named(name.to_string()),
    }
}

/// Whether a `useradd`/`adduser` in `text` creates `name` (with or without `-u`).
fn creates_user(text: &str, name: &str) -> bool {
    text.split(['&', ';', '|', '\n']).any(|segment| {
        let words: Vec<&str> = segment.split_whitespace().collect();
        words.iter().any(|w| *w == "useradd" || *w == "adduser") && words.last() == Some(&name)
    })
}

/// The `-u <uid>` a `useradd`/`adduser` of `name` gives it.
fn created_uid(text: &str, name: &str) -> Option<u32> {
    text.split(['&', ';', '|', '\n']).find_map(|segment| {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let creates = words.iter().any(|w| *w == "useradd" || *w == "adduser");
        if !creates || words.last() != Some(&name) {
            return None;
        }
        words.windows(2).find_map(|pair| match pair[0] {
            "-u" | "--uid" => pair[1].parse().ok(),
            _ => pair[0].strip_prefix("--uid=").and_then(|v| v.parse().ok()),
        })
    })
}

fn final_stage_name(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let file = crate::syntax::parse_bytes(&bytes).ok()?;
    let analysis = Analysis::of(&file);
    analysis.final_stage()?.name.clone()
}

/// The text of a file that may name a port but that unroot cannot read (a Helm template or
/// values file, a Kustomization, YAML that does not parse).
fn unseen_text<S>(file: &DeployFile<S>) -> Option<&str> {
    match (&file.parsed, file.kind) {
        (Err((text, _)), _) => Some(text),
        (
            Ok((text, _)),
            FileKind::HelmValues | FileKind::Kustomization | FileKind::KustomizePatch,
        ) => Some(text),
        _ => None,
    }
}

fn canonical(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

fn parse_error(line: usize, message: String) -> ParseError {
    ParseError {
        line,
        end_line: line,
        kind: ErrorKind::Syntax,
        message,
    }
}

/// The connected parts of the graph on `nodes` with `edges` (edges to nodes not listed are
/// left out), each sorted, in the order of their first path.
fn components(mut nodes: Vec<PathBuf>, edges: &[(PathBuf, PathBuf)]) -> Vec<Vec<PathBuf>> {
    nodes.sort();
    let index: HashMap<&PathBuf, usize> = nodes.iter().enumerate().map(|(i, p)| (p, i)).collect();
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    fn root(parent: &mut [usize], mut at: usize) -> usize {
        while parent[at] != at {
            parent[at] = parent[parent[at]];
            at = parent[at];
        }
        at
    }
    for (a, b) in edges {
        if let (Some(&a), Some(&b)) = (index.get(a), index.get(b)) {
            let (a, b) = (root(&mut parent, a), root(&mut parent, b));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: Vec<Vec<PathBuf>> = Vec::new();
    let mut at_root: HashMap<usize, usize> = HashMap::new();
    for (i, path) in nodes.iter().enumerate() {
        let r = root(&mut parent, i);
        let group = *at_root.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(path.clone());
    }
    groups
}

/// Writes the files of one coherent change that have fixes, all or none
/// ([`write_together`]); each file's report says what happened. A change with a failed
/// `--pin digest` lookup is not written.
pub fn write_change(group: &[PathBuf], checked: &mut HashMap<PathBuf, &mut Checked>) {
    let changed: Vec<&PathBuf> = group
        .iter()
        .filter(|path| {
            checked
                .get(*path)
                .is_some_and(|c| c.report.fixed != c.report.source)
        })
        .collect();
    if changed.is_empty()
        || changed
            .iter()
            .any(|path| !checked[*path].lookup_failures.is_empty())
    {
        return;
    }
    let results = {
        let planned: Vec<Planned> = changed
            .iter()
            .map(|path| {
                let file = &checked[*path];
                (
                    path.as_path(),
                    file.bytes.as_slice(),
                    file.report.fixed.as_str(),
                )
            })
            .collect();
        write_together(&planned)
    };
    for (path, result) in changed.into_iter().zip(results) {
        if let Err(source) = result {
            let Some(file) = checked.get_mut(path) else {
                continue;
            };
            file.write_error = Some(Error::Write {
                path: path.clone(),
                source,
            });
            file.report.mark_unapplied();
        }
    }
}
