//! Image references (`registry/repo:tag@digest`) and what unroot knows about base images.

use crate::syntax::Span;

/// A parsed image reference with byte ranges relative to the reference text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (`localhost:5000`, `gcr.io`), if the reference names one.
    pub registry: Option<String>,
    /// Repository path without registry (`library/node` is normalised to `node`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Where the tag is (without `:`), or where one would be inserted (after the name).
    pub tag_range: Span,
}

impl ImageRef {
    /// Parses `text` (already free of variables).
    pub fn parse(text: &str) -> ImageRef {
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (text, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag, tag_range) = match name_and_tag[last_slash..].find(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (
                    &name_and_tag[..colon],
                    Some(name_and_tag[colon + 1..].to_string()),
                    Span::new(colon + 1, name_and_tag.len()),
                )
            }
            None => (name_and_tag, None, Span::empty(name_and_tag.len())),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first.to_ascii_lowercase()), rest)
            }
            _ => (None, name),
        };
        let repository = path.to_ascii_lowercase();
        let repository = match (registry.as_deref(), repository.strip_prefix("library/")) {
            (None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io"), Some(rest)) => {
                rest.to_string()
            }
            _ => repository,
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
            tag_range,
        }
    }

    fn is_docker_hub(&self) -> bool {
        matches!(
            self.registry.as_deref(),
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        )
    }

    /// The official `node` image, also through common Docker Hub mirrors.
    pub fn is_official_node(&self) -> bool {
        if self.is_docker_hub() {
            return self.repository == "node";
        }
        matches!(
            (self.registry.as_deref(), self.repository.as_str()),
            (Some("public.ecr.aws"), "docker/library/node")
                | (Some("mirror.gcr.io"), "library/node")
        )
    }

    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

/// The family of the base distribution, which decides how a user is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Alpine: BusyBox `addgroup`/`adduser`.
    Busybox,
    /// Debian and Ubuntu: shadow `groupadd`/`useradd`.
    Debian,
    /// RHEL, UBI, Fedora, CentOS, Amazon Linux: shadow utilities.
    Rhel,
    /// RHEL/UBI minimal images: shadow-utils must be installed with microdnf first.
    RhelMinimal,
}

/// What unroot knows about a base image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseImage {
    /// Official `node`: runs as root, has user `node` (1000:1000).
    OfficialNode { alpine: bool },
    /// `gcr.io/distroless/*`: no shell; `:nonroot` tags run as 65532.
    Distroless { nonroot: bool, nodejs: bool },
    /// `cgr.dev/chainguard/node`: runs as `node` = 65532 already.
    Chainguard,
    /// Red Hat UBI / RHEL `nodejs-*` images: run as 1001 already.
    UbiNodejs,
    /// `bitnami/node`: runs as root; Bitnami's convention is `USER 1001`.
    Bitnami,
    /// `scratch`: empty image, no `/etc/passwd`.
    Scratch,
    /// Windows containers: never touched.
    Windows,
    /// A distribution without Node preinstalled, of a known family.
    Distro {
        family: Family,
        ubuntu_version: Option<(u32, u32)>,
        micro: bool,
    },
    /// Anything else.
    Unknown,
}

impl BaseImage {
    pub fn classify(image: &ImageRef) -> BaseImage {
        let repo = image.repository.as_str();
        let registry = image.registry.as_deref().unwrap_or("");
        let tag = image.tag_or_latest().to_ascii_lowercase();
        let last = repo.rsplit('/').next().unwrap_or(repo);
        if repo == "scratch" && image.is_docker_hub() {
            return BaseImage::Scratch;
        }
        if registry == "mcr.microsoft.com"
            && (repo.starts_with("windows")
                || repo.contains("nanoserver")
                || repo.contains("servercore"))
            || last == "nanoserver"
            || last == "servercore"
            || (repo.contains("windows") && !repo.contains("linux"))
            || tag.contains("windowsservercore")
            || tag.contains("nanoserver")
        {
            return BaseImage::Windows;
        }
        if image.is_official_node() {
            return BaseImage::OfficialNode {
                alpine: tag.contains("alpine"),
            };
        }
        if repo.starts_with("distroless/") {
            return BaseImage::Distroless {
                nonroot: tag.contains("nonroot"),
                nodejs: last.starts_with("nodejs"),
            };
        }
        if ((registry == "cgr.dev" && repo.starts_with("chainguard"))
            || repo.starts_with("chainguard/"))
            && last.starts_with("node")
        {
            return BaseImage::Chainguard;
        }
        if (registry.starts_with("registry.access.redhat.com")
            || registry.starts_with("registry.redhat.io")
            || registry == "quay.io")
            && last.starts_with("nodejs")
        {
            return BaseImage::UbiNodejs;
        }
        if repo == "bitnami/node" || repo.ends_with("/bitnami/node") {
            return BaseImage::Bitnami;
        }
        let distro = |family| BaseImage::Distro {
            family,
            ubuntu_version: None,
            micro: false,
        };
        match last {
            "alpine" => distro(Family::Busybox),
            "debian" | "buildpack-deps" => distro(Family::Debian),
            "ubuntu" => BaseImage::Distro {
                family: Family::Debian,
                ubuntu_version: ubuntu_version(&tag),
                micro: false,
            },
            "fedora" | "centos" | "rockylinux" | "almalinux" | "amazonlinux" | "oraclelinux"
            | "ubi" | "ubi8" | "ubi9" | "ubi10" | "rhel" => distro(Family::Rhel),
            "ubi-minimal" | "ubi8-minimal" | "ubi9-minimal" | "ubi10-minimal" => {
                distro(Family::RhelMinimal)
            }
            "ubi-micro" | "ubi8-micro" | "ubi9-micro" | "ubi10-micro" => BaseImage::Distro {
                family: Family::Rhel,
                ubuntu_version: None,
                micro: true,
            },
            _ if repo.starts_with("ubi") && repo.contains("minimal") => distro(Family::RhelMinimal),
            _ => BaseImage::Unknown,
        }
    }

    /// The user the image runs as when the Dockerfile sets none (`None`: root).
    pub fn default_user(&self) -> Option<&'static str> {
        match self {
            BaseImage::Distroless { nonroot: true, .. } => Some("65532"),
            BaseImage::Chainguard => Some("65532"),
            BaseImage::UbiNodejs => Some("1001"),
            _ => None,
        }
    }

    /// Node is part of the image itself.
    pub fn is_node(&self) -> bool {
        matches!(
            self,
            BaseImage::OfficialNode { .. }
                | BaseImage::Distroless { nodejs: true, .. }
                | BaseImage::Chainguard
                | BaseImage::UbiNodejs
                | BaseImage::Bitnami
        )
    }
}

fn ubuntu_version(tag: &str) -> Option<(u32, u32)> {
    let named = match tag.split('-').next().unwrap_or(tag) {
        "latest" | "noble" | "rolling" => return Some((24, 4)),
        "jammy" => return Some((22, 4)),
        "focal" => return Some((20, 4)),
        "bionic" => return Some((18, 4)),
        "oracular" => return Some((24, 10)),
        "plucky" => return Some((25, 4)),
        "questing" => return Some((25, 10)),
        "resolute" => return Some((26, 4)),
        other => other,
    };
    let (major, minor) = named.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let image = ImageRef::parse("localhost:5000/node:latest");
        assert_eq!(image.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(image.repository, "node");
        assert_eq!(image.tag.as_deref(), Some("latest"));
        let image = ImageRef::parse("docker.io/library/node:22-alpine@sha256:abc");
        assert!(image.is_official_node());
        assert_eq!(image.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(
            &"docker.io/library/node:22-alpine@sha256:abc"
                [image.tag_range.start..image.tag_range.end],
            "22-alpine"
        );
        let image = ImageRef::parse("node");
        assert!(image.is_official_node());
        assert_eq!(image.tag_range, Span::empty(4));
        assert!(!ImageRef::parse("localhost:5000/node").is_official_node());
    }

    #[test]
    fn classifies_bases() {
        let classify = |s: &str| BaseImage::classify(&ImageRef::parse(s));
        assert_eq!(
            classify("node:22-alpine"),
            BaseImage::OfficialNode { alpine: true }
        );
        assert_eq!(
            classify("gcr.io/distroless/nodejs22-debian12:nonroot"),
            BaseImage::Distroless {
                nonroot: true,
                nodejs: true
            }
        );
        assert_eq!(
            classify("cgr.dev/chainguard/node:latest"),
            BaseImage::Chainguard
        );
        assert_eq!(
            classify("registry.access.redhat.com/ubi9/nodejs-22"),
            BaseImage::UbiNodejs
        );
        assert_eq!(classify("bitnami/node:22"), BaseImage::Bitnami);
        assert_eq!(
            classify("mcr.microsoft.com/windows/servercore:ltsc2022"),
            BaseImage::Windows
        );
        assert_eq!(classify("scratch"), BaseImage::Scratch);
        assert!(matches!(
            classify("ubuntu:24.04"),
            BaseImage::Distro {
                ubuntu_version: Some((24, 4)),
                ..
            }
        ));
        assert!(matches!(
            classify("alpine:3.20"),
            BaseImage::Distro {
                family: Family::Busybox,
                ..
            }
        ));
    }
}
