//! Deployment files (Compose, Kubernetes): one `unroot --write` moves a Dockerfile's port and
//! sets the user coherently in every file that runs its image; the move is unsafe when a
//! reference cannot be changed; a file that is not YAML is reported, never edited.
//!
//! The edited files are checked with real tools where installed (`.ci/run` installs them):
//! `docker-compose config` (Debian's docker-compose), `kubernetes-validate` (PyPI) and
//! Checkov's CKV_K8S_20 (allowPrivilegeEscalation), CKV_K8S_23 (runAsNonRoot) and CKV_K8S_30
//! (a security context); Checkov's CKV_K8S_6 checks PodSecurityPolicies only, and
//! CKV_K8S_40 (uid ≥ 10000) is not followed: the node images' user is 1000. A missing tool fails the test under CI (`CI` set) and
//! is skipped with a note otherwise.

use crate::common::Dir;

use std::path::{Path, PathBuf};
use std::process::Command;

const DOCKERFILE: &str = "FROM node:22-alpine
WORKDIR /app
COPY . .
RUN npm ci
ENV PORT=80
EXPOSE 80
CMD [\"node\", \"server.js\"]
";

const COMPOSE: &str = "# the app and its client
services:
  web:
    build:
      context: ./app
    image: ghcr.io/acme/web
    ports:
      - \"5001:80\"   # published side stays
      - target: 80
        published: 8081
    expose: [\"80\"]
    environment:
      PORT: '80'
    healthcheck:
      test: [\"CMD\", \"wget\", \"-qO-\", \"http://localhost/health\"]
  client:
    image: node:22
    command: node client.js
    environment:
      - API=http://web:80/api
";

const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0 # built from app/Dockerfile
          ports:
            - containerPort: 80
              name: http
          readinessProbe:
            httpGet:
              path: /health
              port: http
          livenessProbe:
            tcpSocket:
              port: 80
          env:
            - name: PORT
              value: \"80\"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - name: named
      port: 80
      targetPort: http
    - name: numeric
      port: 8000
      targetPort: 80
";

fn repository() -> Dir {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "app/server.js",
        "require('http').createServer().listen(process.env.PORT);\n",
    );
    dir.file("compose.yaml", COMPOSE);
    dir.file("k8s/web.yaml", MANIFEST);
    dir
}

#[test]
fn one_write_moves_the_port_and_sets_the_user_everywhere() {
    let dir = repository();
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let dockerfile = dir.read("app/Dockerfile");
    assert!(
        dockerfile.contains("ENV PORT=8080\nEXPOSE 8080\n"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("USER node\n"), "{dockerfile}");
    let compose = dir.read("compose.yaml");
    assert_eq!(
        compose,
        COMPOSE
            .replace("\"5001:80\"", "\"5001:8080\"")
            .replace("target: 80", "target: 8080")
            .replace("[\"80\"]", "[\"8080\"]")
            .replace("PORT: '80'", "PORT: '8080'")
            .replace("http://localhost/health", "http://localhost:8080/health")
            .replace(
                "      - API=http://web:80/api\n",
                "      - API=http://web:8080/api\n    user: \"node\"\n"
            )
    );
    let manifest = dir.read("k8s/web.yaml");
    assert_eq!(
        manifest,
        MANIFEST
            .replace("containerPort: 80\n", "containerPort: 8080\n")
            .replace("              port: 80\n", "              port: 8080\n")
            .replace("value: \"80\"", "value: \"8080\"")
            .replace("targetPort: 80\n", "targetPort: 8080\n")
            .replace(
                "              value: \"8080\"\n",
                "              value: \"8080\"\n          securityContext:\n            runAsNonRoot: true\n            runAsUser: 1000\n            runAsGroup: 1000\n            allowPrivilegeEscalation: false\n"
            )
    );
    // The named port and the published sides stay.
    assert!(manifest.contains("targetPort: http"));
    assert!(compose.contains("published: 8081"));
    // Fixed: a second run finds nothing.
    let again = dir.run(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    validate_compose(&dir.path("compose.yaml"));
    validate_manifests(&[dir.path("k8s/web.yaml")]);
}

#[test]
fn compose_alone() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "docker-compose.yml",
        "services:\r\n  web:\r\n    build: app\r\n    ports: [\"127.0.0.1:80:80/tcp\"]\r\n",
    );
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        dir.read("docker-compose.yml"),
        "services:\r\n  web:\r\n    build: app\r\n    ports: [\"127.0.0.1:80:8080/tcp\"]\r\n"
    );
    validate_compose(&dir.path("docker-compose.yml"));
}

#[test]
fn swarm_stack_files_follow_the_image_compose_builds() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "docker-compose.yml",
        "services:\n  web:\n    build: ./app\n    image: acme/web\n",
    );
    let stack = "version: \"3.8\"\nservices:\n  web:\n    image: acme/web:1.2\n    ports:\n      - \"80:80\"\n    deploy:\n      replicas: 2\n";
    dir.file("docker-stack.yml", stack);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        dir.read("docker-stack.yml"),
        stack.replace("\"80:80\"", "\"80:8080\"")
    );
    validate_compose(&dir.path("docker-stack.yml"));
}

#[test]
fn kubernetes_alone_with_a_service_in_another_file() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: registry.example.com/web:dev\n",
    );
    let (deployment, service) = MANIFEST.split_once("---\n").unwrap();
    let deployment = deployment.replace("ghcr.io/acme/web:1.0", "registry.example.com/web:2");
    dir.file("deploy/deployment.yml", &deployment);
    dir.file(
        "deploy/service.yml",
        service.replace("targetPort: http", "targetPort: 80"),
    );
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let service = dir.read("deploy/service.yml");
    assert_eq!(service.matches("targetPort: 8080").count(), 2, "{service}");
    assert!(dir
        .read("deploy/deployment.yml")
        .contains("containerPort: 8080"));
    validate_manifests(&[
        dir.path("deploy/deployment.yml"),
        dir.path("deploy/service.yml"),
    ]);
}

#[test]
fn a_service_without_target_port_gets_one() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: web\n",
    );
    let manifest = MANIFEST
        .replace("image: ghcr.io/acme/web:1.0", "image: web:1")
        .replace(
            "    - name: named\n      port: 80\n      targetPort: http\n",
            "    - name: named\n      port: 80\n",
        );
    dir.file("k8s.yaml", &manifest);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = dir.read("k8s.yaml");
    assert!(
        out.contains("    - name: named\n      port: 80\n      targetPort: 8080\n"),
        "{out}"
    );
    validate_manifests(&[dir.path("k8s.yaml")]);
}

#[test]
fn references_unroot_cannot_change_make_the_move_unsafe() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n    ports: [\"80-81:80-81\"]\n",
            "compose.yaml:4",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n    ports: [\"${HOST}:${APP_PORT:-80}\"]\n",
            "compose.yaml:4",
        ),
        (
            "nginx/default.conf",
            "server { location / { proxy_pass http://web:80; } }\n",
            "nginx/default.conf:1",
        ),
        (
            "app/config.json",
            "{\n  \"port\": 80\n}\n",
            "app/config.json:2",
        ),
        (
            "chart/values.yaml",
            "service:\n  port: 80\n",
            "chart/values.yaml:2",
        ),
        (
            "chart/templates/deployment.yaml",
            "spec:\n  containers:\n    - image: {{ .Values.image }}\n      ports:\n        - containerPort: 80\n",
            "chart/templates/deployment.yaml:5",
        ),
        (
            "test/smoke.test.js",
            "fetch('http://web/health')\n",
            "test/smoke.test.js:1",
        ),
    ];
    for (name, text, place) in cases {
        let dir = Dir::new();
        dir.file("app/Dockerfile", DOCKERFILE);
        if *name != "compose.yaml" {
            dir.file(
                "compose.yaml",
                "services:\n  web:\n    build: ./app\n    ports: [\"5001:80\"]\n",
            );
        }
        dir.file(name, text);
        if name.starts_with("chart/") {
            dir.file(
                "chart/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            );
        }
        let before = dir.read("compose.yaml");
        let run = dir.run(&["--write"]);
        assert_eq!(run.code, 1, "{name}: {run:?}");
        assert!(
            run.stdout.contains("the move is unsafe"),
            "{name}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(place),
            "{name}: {place} not listed: {}",
            run.stdout
        );
        assert!(
            dir.read("app/Dockerfile").contains("EXPOSE 80\n"),
            "{name}: moved anyway"
        );
        assert_eq!(
            dir.read("compose.yaml"),
            before,
            "{name}: compose edited for an unsafe move"
        );
        // With --unsafe-fixes the whole move is made.
        let run = dir.run(&["--write", "--unsafe-fixes"]);
        assert!(run.code == 0 || run.code == 1, "{name}: {run:?}");
        assert!(
            dir.read("app/Dockerfile").contains("EXPOSE 8080\n"),
            "{name}"
        );
    }
}

#[test]
fn yaml_that_does_not_parse_is_reported_and_never_edited() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    let broken = "services:\n  web:\n    build: ./app\n    ports: [\"5001:80\"\n  x: y\n";
    dir.file("compose.yaml", broken);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("compose.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("not valid YAML"), "{}", run.stderr);
    assert_eq!(dir.read("compose.yaml"), broken);
    // The move cannot see that file's references: unsafe, not made.
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 80\n"));
}

#[test]
fn user_only_named_images_get_no_run_as_non_root() {
    let dir = Dir::new();
    dir.file(
        "app/Dockerfile",
        "FROM node:22\nRUN useradd app\nUSER app\nCMD [\"node\", \"a.js\"]\n",
    );
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: web\n",
    );
    dir.file(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: web\n      image: web\n    - name: root\n      image: node:22\n      securityContext:\n        runAsUser: 0\n",
    );
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("runs as root (`runAsUser: 0`)"),
        "{}",
        run.stdout
    );
    let pod = dir.read("pod.yaml");
    assert!(
        pod.contains(
            "image: web\n      securityContext:\n        allowPrivilegeEscalation: false\n"
        ),
        "{pod}"
    );
    assert!(!pod.contains("runAsNonRoot"), "{pod}");
}

#[test]
fn pragmas_and_annotations_suppress() {
    let dir = Dir::new();
    dir.file(
        "pods.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    checkov.io/skip1: CKV_K8S_6=runs as root on purpose\nspec:\n  containers:\n    - name: a\n      image: node:22\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n    - name: b\n      # unroot ignore=deploy-user\n      image: node:22\n",
    );
    let run = dir.run(&[]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn deploy_user_has_its_documentation() {
    let run = Dir::new().run(&["--explain", "deploy-user"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("runAsNonRoot"), "{}", run.stdout);
}

#[test]
fn checkov_kubernetes_checks_pass_after_the_fix() {
    let Some(checkov) = require("checkov", "pip install checkov") else {
        return;
    };
    let dir = repository();
    // Checkov skips hidden folders, and the test tree is under `/tmp/.tmp…`.
    let work = tempfile::Builder::new()
        .prefix("unroot-checkov-")
        .tempdir()
        .expect("create a folder for checkov");
    let failed = |dir: &Path| -> Vec<String> {
        std::fs::copy(dir.join("k8s/web.yaml"), work.path().join("web.yaml"))
            .expect("copy the manifest");
        let output = Command::new(&checkov)
            .args([
                "--quiet",
                "--compact",
                "-o",
                "json",
                "--framework",
                "kubernetes",
            ])
            .args(["--check", "CKV_K8S_20,CKV_K8S_23,CKV_K8S_30", "-d"])
            .arg(work.path())
            .output()
            .expect("run checkov");
        let text = String::from_utf8_lossy(&output.stdout);
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        let results = if json.is_array() {
            json[0]["results"].clone()
        } else {
            json["results"].clone()
        };
        results["failed_checks"]
            .as_array()
            .map(|checks| {
                checks
                    .iter()
                    .filter_map(|c| c["check_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = failed(dir.root());
    for check in ["CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_30"] {
        assert!(
            before.iter().any(|c| c == check),
            "{check} passes before: {before:?}"
        );
    }
    assert_eq!(dir.run(&["--write"]).code, 0);
    assert_eq!(failed(dir.root()), Vec::<String>::new());
}

/// The tool's path on PATH. When it is missing: a failure under CI, else a skip note.
fn require(tool: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let note =
            format!("`{tool}` is not on PATH: install it with `{install}` (.ci/run does this)");
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
    }
    found
}

fn validate_compose(file: &Path) {
    let Some(tool) = require("docker-compose", "apt-get install docker-compose") else {
        return;
    };
    let output = Command::new(tool)
        .arg("-f")
        .arg(file)
        .args(["config", "-q"])
        .output()
        .expect("run docker-compose");
    assert!(
        output.status.success(),
        "docker-compose config: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn validate_manifests(files: &[PathBuf]) {
    let Some(tool) = require("kubernetes-validate", "pip install kubernetes-validate") else {
        return;
    };
    let output = Command::new(tool)
        .arg("--strict")
        .args(files)
        .output()
        .expect("run kubernetes-validate");
    assert!(
        output.status.success(),
        "kubernetes-validate: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
