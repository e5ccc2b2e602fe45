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
fn a_run_as_user_other_than_the_images_is_reported_without_a_fix() {
    let dir = Dir::new();
    dir.file(
        "k8s/web.yaml",
        MANIFEST.replace(
            "image: ghcr.io/acme/web:1.0 # built from app/Dockerfile",
            "image: node:22\n          securityContext:\n            runAsUser: 5000",
        ),
    );
    let run = dir.run(&["--write"]);
    assert!(
        run.stdout.contains("k8s/web.yaml:18:24: deploy-user: Deployment `web` container `web` sets `runAsUser: 5000`, but its image runs as uid 1000"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "{run:?}");
    // The image's group is not added beside another user; the other keys are.
    let fixed = dir.read("k8s/web.yaml");
    assert!(
        fixed.contains("runAsUser: 5000\n            runAsNonRoot: true\n            allowPrivilegeEscalation: false\n"),
        "{fixed}"
    );
    assert!(!fixed.contains("runAsGroup"), "{fixed}");
    // The image's own uid is no finding.
    let dir = Dir::new();
    dir.file(
        "k8s/web.yaml",
        MANIFEST.replace(
            "image: ghcr.io/acme/web:1.0 # built from app/Dockerfile",
            "image: node:22\n          securityContext:\n            runAsUser: 1000",
        ),
    );
    let run = dir.run(&[]);
    assert!(
        !run.stdout.contains("runAsUser: 1000`, but"),
        "{}",
        run.stdout
    );
    // In a Helm chart's values, the same.
    let dir = Dir::new();
    chart(&dir);
    let values = CHART_VALUES.replace("ghcr.io/acme/web", "node").replace(
        "securityContext: {}\n",
        "securityContext:\n  runAsUser: 5000\n",
    );
    dir.file("chart/values.yaml", &values);
    let run = dir.run(&[]);
    assert!(
        run.stdout.contains("chart/values.yaml:20:14: deploy-user:")
            && run
                .stdout
                .contains("sets `runAsUser: 5000`, but its image runs as uid 1000"),
        "{}",
        run.stdout
    );
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

const CHART_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
spec:
  selector:
    matchLabels:
      {{- include "web.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "web.selectorLabels" . | nindent 8 }}
    spec:
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: {{ .Values.service.targetPort }}
              protocol: TCP
          env:
            - name: PORT
              value: {{ .Values.service.targetPort | quote }}
          livenessProbe:
            {{- toYaml .Values.livenessProbe | nindent 12 }}
"#;

const CHART_SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: {{ include "web.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: {{ .Values.service.targetPort }}
      protocol: TCP
      name: http
"#;

const CHART_VALUES: &str = r#"# Default values for web.
image:
  repository: ghcr.io/acme/web
  tag: ""

service:
  type: ClusterIP
  port: 80 # what clients call
  targetPort: 80

livenessProbe:
  httpGet:
    path: /health
    port: http

podSecurityContext: {}
  # fsGroup: 2000

securityContext: {}
  # capabilities:
  #   drop:
  #   - ALL
"#;

fn chart(dir: &Dir) {
    dir.file(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    );
    dir.file("chart/values.yaml", CHART_VALUES);
    dir.file("chart/templates/deployment.yaml", CHART_DEPLOYMENT);
    dir.file("chart/templates/service.yaml", CHART_SERVICE);
}

/// The edited values.yaml as the fixture expects it.
const CHART_VALUES_FIXED: &str = r#"# Default values for web.
image:
  repository: ghcr.io/acme/web
  tag: ""

service:
  type: ClusterIP
  port: 80 # what clients call
  targetPort: 8080

livenessProbe:
  httpGet:
    path: /health
    port: http

podSecurityContext: {}
  # fsGroup: 2000

securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  allowPrivilegeEscalation: false
  # capabilities:
  #   drop:
  #   - ALL
"#;

#[test]
fn helm_values_follow_where_the_templates_map_them() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
    );
    chart(&dir);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 8080\n"));
    let values = dir.read("chart/values.yaml");
    assert_eq!(values, CHART_VALUES_FIXED);
    // Templates are never edited.
    assert_eq!(
        dir.read("chart/templates/deployment.yaml"),
        CHART_DEPLOYMENT
    );
    assert_eq!(dir.read("chart/templates/service.yaml"), CHART_SERVICE);
    valid_yaml(&dir.path("chart/values.yaml"));
    assert_eq!(dir.run(&[]).code, 0);
}

#[test]
fn helm_ports_the_templates_do_not_map_make_the_move_unsafe() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // The container port and the Service's published port read one value.
        (
            "templates/deployment.yaml",
            ".Values.service.targetPort",
            ".Values.service.port",
            "chart/values.yaml:8",
        ),
        // A hard-coded port in a template.
        (
            "templates/deployment.yaml",
            "containerPort: {{ .Values.service.targetPort }}",
            "containerPort: 80",
            "chart/templates/deployment.yaml:23",
        ),
        // An expression unroot does not follow.
        (
            "templates/service.yaml",
            "targetPort: {{ .Values.service.targetPort }}",
            "targetPort: {{ .Values.service.targetPort | default 80 }}",
            "chart/templates/service.yaml:9",
        ),
    ];
    for (template, from, to, place) in cases {
        let dir = Dir::new();
        dir.file("app/Dockerfile", DOCKERFILE);
        dir.file(
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
        );
        chart(&dir);
        let path = format!("chart/{template}");
        let text = dir.read(&path).replace(from, to);
        dir.file(&path, &text);
        let run = dir.run(&["--write"]);
        assert_eq!(run.code, 1, "{place}: {run:?}");
        assert!(
            run.stdout.contains("the move is unsafe"),
            "{place}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(place),
            "{place} not listed: {}",
            run.stdout
        );
        assert!(
            dir.read("app/Dockerfile").contains("EXPOSE 80\n"),
            "{place}"
        );
        assert!(
            dir.read("chart/values.yaml").contains("targetPort: 80\n"),
            "{place}: values moved for an unsafe move"
        );
        assert_eq!(dir.read(&path), text);
    }
}

#[test]
fn helm_charts_of_node_images_get_the_user() {
    let dir = Dir::new();
    chart(&dir);
    let values = CHART_VALUES.replace("ghcr.io/acme/web", "node");
    dir.file("chart/values.yaml", &values);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = dir.read("chart/values.yaml");
    assert!(
        out.contains("securityContext:\n  runAsNonRoot: true\n  runAsUser: 1000\n"),
        "{out}"
    );
    // No Dockerfile moves a port: the port value stays.
    assert!(out.contains("targetPort: 80\n"), "{out}");
    valid_yaml(&dir.path("chart/values.yaml"));
}

#[test]
fn helm_values_get_the_uid_chosen_with_uid() {
    // A chart running the repository's image, and one running the node image directly.
    for image in ["ghcr.io/acme/web", "node"] {
        let dir = Dir::new();
        if image != "node" {
            dir.file("app/Dockerfile", DOCKERFILE);
            dir.file(
                "compose.yaml",
                "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
            );
        }
        chart(&dir);
        dir.file(
            "chart/values.yaml",
            CHART_VALUES.replace("ghcr.io/acme/web", image),
        );
        let run = dir.run(&["--write", "--uid", "20000"]);
        assert_eq!(run.code, 0, "{image}: {run:?}");
        let values = dir.read("chart/values.yaml");
        assert!(
            values.contains(
                "securityContext:\n  runAsNonRoot: true\n  runAsUser: 20000\n  runAsGroup: 20000\n  allowPrivilegeEscalation: false\n"
            ),
            "{image}: {values}"
        );
        if image != "node" {
            assert!(
                dir.read("app/Dockerfile").contains("USER 20000:20000\n"),
                "{image}"
            );
        }
        valid_yaml(&dir.path("chart/values.yaml"));
        // Checked again with the same uid: nothing is left to fix.
        assert_eq!(dir.run(&["--uid", "20000"]).code, 0, "{image}");
    }
}

const HELPERS: &str = r#"{{/* The container's ports, from values. */}}
{{- define "web.ports" -}}
- name: http
  containerPort: {{ .Values.containerPort }}
  protocol: TCP
{{- end }}
"#;

#[test]
fn helm_helpers_that_map_the_port_count_as_mapping_it() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
    );
    chart(&dir);
    let deployment = CHART_DEPLOYMENT.replace(
        "            - name: http\n              containerPort: {{ .Values.service.targetPort }}\n              protocol: TCP\n",
        "            {{- include \"web.ports\" . | nindent 12 }}\n",
    );
    assert_ne!(deployment, CHART_DEPLOYMENT);
    dir.file("chart/templates/deployment.yaml", &deployment);
    dir.file("chart/templates/_helpers.tpl", HELPERS);
    let values = CHART_VALUES.replace(
        "  targetPort: 80\n",
        "  targetPort: 80\ncontainerPort: 80\n",
    );
    dir.file("chart/values.yaml", &values);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 8080\n"));
    let fixed = dir.read("chart/values.yaml");
    assert!(fixed.contains("\ncontainerPort: 8080\n"), "{fixed}");
    assert!(fixed.contains("  targetPort: 8080\n"), "{fixed}");
    assert_eq!(dir.read("chart/templates/_helpers.tpl"), HELPERS);
    assert_eq!(dir.read("chart/templates/deployment.yaml"), deployment);

    // A helper unroot cannot read, where the ports are set: the move needs a person.
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
    );
    chart(&dir);
    dir.file(
        "chart/templates/deployment.yaml",
        deployment.replace("web.ports", "common.ports"),
    );
    dir.file("chart/values.yaml", &values);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "chart/templates/deployment.yaml:22: the template includes helper `common.ports`"
        ),
        "{}",
        run.stdout
    );
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 80\n"));
    assert_eq!(dir.read("chart/values.yaml"), values);
}

#[test]
fn helm_charts_with_writable_volumes_get_fs_group_advice() {
    let literal = "      volumes:\n        - name: data\n          emptyDir: {}\n";
    let from_values =
        "      {{- with .Values.volumes }}\n      volumes:\n        {{- toYaml . | nindent 8 }}\n      {{- end }}\n";
    let cases = [
        (literal, "", true),
        (
            from_values,
            "volumes:\n  - name: cache\n    persistentVolumeClaim:\n      claimName: cache\n",
            true,
        ),
        (from_values, "volumes: []\n", false),
        (
            "      volumes:\n        - name: config\n          configMap:\n            name: web\n",
            "",
            false,
        ),
    ];
    for (volumes, values, advised) in cases {
        let dir = Dir::new();
        chart(&dir);
        dir.file(
            "chart/values.yaml",
            format!(
                "{}{values}",
                CHART_VALUES.replace("ghcr.io/acme/web", "node")
            ),
        );
        dir.file(
            "chart/templates/deployment.yaml",
            format!("{CHART_DEPLOYMENT}{volumes}"),
        );
        let run = dir.run(&[]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stdout.contains("deploy-user"), "{}", run.stdout);
        let advice = "the pod mounts writable volumes: `fsGroup: 1000` in values `podSecurityContext` (the pod's `securityContext`) makes them writable by the image's group";
        assert_eq!(
            run.stdout.contains(advice),
            advised,
            "{volumes}{values}: {}",
            run.stdout
        );
        // Set in the pod's values, it is not advised again.
        if advised {
            let values = dir.read("chart/values.yaml").replace(
                "podSecurityContext: {}",
                "podSecurityContext:\n  fsGroup: 1000",
            );
            dir.file("chart/values.yaml", &values);
            let run = dir.run(&[]);
            assert!(!run.stdout.contains("writable volumes"), "{}", run.stdout);
        }
    }
}

#[test]
fn helm_notes_naming_the_port_need_a_person_and_are_never_edited() {
    for (notes, safe) in [
        ("Get the URL:\n  kubectl port-forward svc/{{ .Release.Name }} 8080:80\n", false),
        ("Get the URL:\n  kubectl port-forward svc/{{ .Release.Name }} 8080:{{ .Values.service.port }}\n", true),
    ] {
        let dir = Dir::new();
        dir.file("app/Dockerfile", DOCKERFILE);
        dir.file(
            "compose.yaml",
            "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
        );
        chart(&dir);
        dir.file("chart/templates/NOTES.txt", notes);
        let run = dir.run(&["--write"]);
        assert_eq!(dir.read("chart/templates/NOTES.txt"), notes);
        if safe {
            assert_eq!(run.code, 0, "{run:?}");
            assert_eq!(dir.read("chart/values.yaml"), CHART_VALUES_FIXED);
            continue;
        }
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout.contains(
                "chart/templates/NOTES.txt:2: names port `80` in the chart's notes, which unroot does not edit"
            ),
            "{}",
            run.stdout
        );
        assert!(dir.read("app/Dockerfile").contains("EXPOSE 80\n"));
        assert!(dir.read("chart/values.yaml").contains("targetPort: 80\n"));
    }
}

/// An umbrella chart at `chart/` whose subchart `charts/web/` is the chart of [`chart`]; the
/// parent's values for it (`web:`) name the repository's image and the container port.
fn umbrella(dir: &Dir, parent_values: &str) {
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
    );
    dir.file(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: web\n    version: 0.1.0\n",
    );
    dir.file("chart/values.yaml", parent_values);
    dir.file(
        "chart/charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    );
    // The subchart's own default image is not the repository's: the parent's wins.
    dir.file(
        "chart/charts/web/values.yaml",
        CHART_VALUES.replace("ghcr.io/acme/web", "nginx"),
    );
    dir.file(
        "chart/charts/web/templates/deployment.yaml",
        CHART_DEPLOYMENT,
    );
    dir.file("chart/charts/web/templates/service.yaml", CHART_SERVICE);
}

const PARENT_VALUES: &str = "# the shop\nweb:\n  image:\n    repository: ghcr.io/acme/web\n  service:\n    targetPort: 80 # the app's port\n";

#[test]
fn helm_subcharts_follow_the_parent_charts_values() {
    let dir = Dir::new();
    umbrella(&dir, PARENT_VALUES);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 8080\n"));
    // The parent's value, which Helm renders, and the subchart's default both move.
    assert_eq!(
        dir.read("chart/values.yaml"),
        PARENT_VALUES.replace("targetPort: 80 #", "targetPort: 8080 #")
    );
    let values = dir.read("chart/charts/web/values.yaml");
    assert!(values.contains("  targetPort: 8080\n"), "{values}");
    assert!(
        values.contains("  port: 80 # what clients call\n"),
        "{values}"
    );
    assert!(values.contains("  runAsUser: 1000\n"), "{values}");
    valid_yaml(&dir.path("chart/values.yaml"));
    assert_eq!(dir.run(&[]).code, 0);
}

#[test]
fn a_parent_charts_security_context_for_a_subchart_counts() {
    // Keys the parent sets for the subchart are not added again.
    let dir = Dir::new();
    let parent = format!(
        "{PARENT_VALUES}  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    runAsGroup: 1000\n"
    );
    umbrella(&dir, &parent);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let values = dir.read("chart/charts/web/values.yaml");
    assert!(
        values.contains("securityContext:\n  allowPrivilegeEscalation: false\n"),
        "{values}"
    );
    assert!(!values.contains("runAsUser"), "{values}");
    // `runAsUser: 0` there is reported.
    let dir = Dir::new();
    let parent = format!("{PARENT_VALUES}  securityContext:\n    runAsUser: 0\n");
    umbrella(&dir, &parent);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "runs as root (`runAsUser: 0` in the parent chart's values at chart/values.yaml:8)"
        ),
        "{}",
        run.stdout
    );
    assert!(!dir
        .read("chart/charts/web/values.yaml")
        .contains("runAsUser"));
    // So is another uid than the image's, and the image's group is not added beside it.
    let dir = Dir::new();
    let parent = format!("{PARENT_VALUES}  securityContext:\n    runAsUser: 5000\n");
    umbrella(&dir, &parent);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "sets `runAsUser: 5000`, but its image runs as uid 1000 (in the parent chart's values at chart/values.yaml:8)"
        ),
        "{}",
        run.stdout
    );
    assert!(!dir
        .read("chart/charts/web/values.yaml")
        .contains("runAsGroup"));
}

#[test]
fn a_port_the_parent_chart_sets_where_the_subchart_does_not_move_makes_the_move_unsafe() {
    let dir = Dir::new();
    // The parent runs a node worker of its own (so unroot reads its values exactly), and sets
    // the subchart's container port to the port where the subchart's default is another.
    let parent = "worker:\n  image: node\nweb:\n  service:\n    targetPort: 80\n";
    umbrella(&dir, parent);
    dir.file(
        "chart/charts/web/values.yaml",
        CHART_VALUES.replace("targetPort: 80", "targetPort: 3000"),
    );
    dir.file(
        "chart/templates/worker.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: {{ .Values.worker.image }}\n",
    );
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("the move is unsafe"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "chart/values.yaml:5: the parent chart's values set `web.service.targetPort`"
        ),
        "{}",
        run.stdout
    );
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 80\n"));
    assert_eq!(dir.read("chart/values.yaml"), parent);
}

/// The file parses with unroot's YAML reader (`unroot` reads it again) and, where
/// installed, with PyYAML.
fn valid_yaml(file: &Path) {
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let output = Command::new(python)
        .args(["-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))"])
        .arg(file)
        .output()
        .expect("run python3");
    if String::from_utf8_lossy(&output.stderr).contains("No module named 'yaml'") {
        assert!(std::env::var_os("CI").is_none(), "PyYAML is not installed");
        println!("SKIPPED: PyYAML is not installed");
        return;
    }
    assert!(
        output.status.success(),
        "PyYAML: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A repository whose compose file builds `ghcr.io/acme/web` from app/Dockerfile, with a
/// Kustomize base of one Deployment.
fn kustomize_base(deployment: &str) -> Dir {
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    image: ghcr.io/acme/web\n",
    );
    dir.file("k8s/base/deployment.yaml", deployment);
    dir.file(
        "k8s/base/kustomization.yaml",
        "resources:\n  - deployment.yaml\n",
    );
    dir
}

#[test]
fn kustomize_patches_are_reported_never_edited() {
    let (deployment, _) = MANIFEST.split_once("---\n").unwrap();
    let dir = kustomize_base(deployment);
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:2.0\n          ports:\n            - containerPort: 80\n          securityContext:\n            runAsUser: 0\n";
    dir.file("k8s/prod/patch.yaml", patch);
    let json_patch = "[{\"op\": \"replace\", \"path\": \"/spec/template/spec/containers/0/ports/0/containerPort\", \"value\": 80}]\n";
    dir.file("k8s/prod/port.json", json_patch);
    let kustomization = "resources:\n  - ../base\npatchesStrategicMerge:\n  - patch.yaml\npatchesJson6902:\n  - target: {kind: Deployment, name: web}\n    path: port.json\n";
    dir.file("k8s/prod/kustomization.yaml", kustomization);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("the move is unsafe"), "{}", run.stdout);
    for place in ["k8s/prod/patch.yaml:12", "k8s/prod/port.json:1"] {
        assert!(
            run.stdout.contains(place),
            "{place} not listed: {}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("a Kustomize patch sets `runAsUser: 0`"),
        "{}",
        run.stdout
    );
    assert_eq!(dir.read("k8s/prod/patch.yaml"), patch);
    assert_eq!(dir.read("k8s/prod/port.json"), json_patch);
    assert_eq!(dir.read("k8s/prod/kustomization.yaml"), kustomization);
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 80\n"));
}

#[test]
fn kustomize_images_overrides_link_the_manifests_they_rename() {
    let (deployment, _) = MANIFEST.split_once("---\n").unwrap();
    // The base names a placeholder image that the overlay renames to the repository's.
    let base = deployment.replace("ghcr.io/acme/web:1.0", "web");
    let dir = kustomize_base(&base);
    let overlay = "resources:\n  - ../base\nimages:\n  - name: web\n    newName: ghcr.io/acme/web\n    newTag: \"1.0\"\n";
    dir.file("k8s/prod/kustomization.yaml", overlay);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("app/Dockerfile").contains("EXPOSE 8080\n"));
    let fixed = dir.read("k8s/base/deployment.yaml");
    assert!(fixed.contains("containerPort: 8080"), "{fixed}");
    assert!(fixed.contains("runAsUser: 1000"), "{fixed}");
    assert_eq!(dir.read("k8s/prod/kustomization.yaml"), overlay);
    // Without the override the placeholder runs no image of the repository.
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file("k8s/base/deployment.yaml", &base);
    dir.file(
        "k8s/prod/kustomization.yaml",
        "resources:\n  - ../base\nimages:\n  - name: web\n    newTag: \"1.0\"\n",
    );
    dir.run(&["--write"]);
    assert_eq!(dir.read("k8s/base/deployment.yaml"), base);
}

#[test]
fn a_kustomize_patch_setting_another_uid_than_the_images_is_reported() {
    let (deployment, _) = MANIFEST.split_once("---\n").unwrap();
    let dir = kustomize_base(deployment);
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            runAsUser: 5000\n";
    dir.file("k8s/prod/patch.yaml", patch);
    dir.file(
        "k8s/prod/kustomization.yaml",
        "resources:\n  - ../base\npatchesStrategicMerge:\n  - patch.yaml\n",
    );
    let run = dir.run(&["--write"]);
    assert!(
        run.stdout.contains("k8s/prod/patch.yaml:11:24: deploy-user: a Kustomize patch sets `runAsUser: 5000` for Deployment `web` container `web`, whose image runs as uid 1000"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(dir.read("k8s/prod/patch.yaml"), patch);
    // The image's own uid in the patch is no finding; nor is another workload's.
    for same in [
        patch.replace("5000", "1000"),
        patch.replace("name: web\nspec", "name: worker\nspec"),
    ] {
        dir.file("k8s/prod/patch.yaml", &same);
        let run = dir.run(&[]);
        assert!(
            !run.stdout.contains("a Kustomize patch sets"),
            "{}",
            run.stdout
        );
    }
    // An inline patch in the kustomization: reported at the patch.
    let inline = "resources:\n  - ../base\npatches:\n  - target:\n      kind: Deployment\n      name: web\n    patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n        name: web\n      spec:\n        template:\n          spec:\n            securityContext:\n              runAsUser: 7000\n";
    std::fs::remove_file(dir.path("k8s/prod/patch.yaml")).expect("remove the patch file");
    dir.file("k8s/prod/kustomization.yaml", inline);
    let run = dir.run(&[]);
    assert!(
        run.stdout.contains("k8s/prod/kustomization.yaml:8:7: deploy-user: a Kustomize patch sets `runAsUser: 7000` for Deployment `web` container `web`, whose image runs as uid 1000"),
        "{}",
        run.stdout
    );
    assert_eq!(dir.read("k8s/prod/kustomization.yaml"), inline);
}

#[test]
fn images_built_by_ci_bake_and_skaffold_link_kubernetes_manifests() {
    let cases: &[(&str, &str)] = &[
        (
            ".github/workflows/release.yml",
            "on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          context: app\n          push: true\n          tags: |\n            registry.example.com/team/web:latest\n            registry.example.com/team/web:${{ github.sha }}\n",
        ),
        (
            ".github/workflows/build.yaml",
            "on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker build -t registry.example.com/team/web:${{ github.sha }} -f app/Dockerfile app\n",
        ),
        (
            ".gitlab-ci.yml",
            "build:\n  script:\n    - docker buildx build --tag registry.example.com/team/web:$CI_COMMIT_SHA ./app\n",
        ),
        (
            "docker-bake.hcl",
            "target \"web\" {\n  context = \"app\"\n  tags = [\"registry.example.com/team/web:1\"]\n}\n",
        ),
        (
            "docker-bake.json",
            "{\"target\": {\"web\": {\"context\": \"app\", \"dockerfile\": \"Dockerfile\", \"tags\": [\"registry.example.com/team/web:1\"]}}}\n",
        ),
        (
            "skaffold.yaml",
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n    - image: registry.example.com/team/web\n      context: app\n      docker:\n        dockerfile: Dockerfile\n",
        ),
    ];
    let (deployment, _) = MANIFEST.split_once("---\n").unwrap();
    let deployment = deployment.replace("ghcr.io/acme/web:1.0", "registry.example.com/team/web:2");
    for (name, text) in cases {
        let dir = Dir::new();
        dir.file("app/Dockerfile", DOCKERFILE);
        dir.file(name, text);
        dir.file("deploy/web.yaml", &deployment);
        let run = dir.run(&["--write"]);
        assert_eq!(run.code, 0, "{name}: {run:?}");
        let out = dir.read("deploy/web.yaml");
        assert!(out.contains("containerPort: 8080\n"), "{name}: {out}");
        assert!(out.contains("runAsUser: 1000\n"), "{name}: {out}");
        assert_eq!(dir.read(name), *text, "{name}: a build file was edited");
    }
    // An image no build file names is not linked: only the node-image rule could apply.
    let dir = Dir::new();
    dir.file("app/Dockerfile", DOCKERFILE);
    dir.file("deploy/web.yaml", &deployment);
    dir.run(&["--write"]);
    assert!(dir.read("deploy/web.yaml").contains("containerPort: 80\n"));
}

/// An insta snapshot stored as `snapshots/deploy/<name>.snap`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/deploy"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

const STACK: &str = "version: \"3.8\"\nservices:\n  web:\n    image: ghcr.io/acme/web:1.2\n    ports:\n      - \"5001:80\"\n    deploy:\n      replicas: 2\n";

/// One repository with every kind of deployment file: a Dockerfile (node, `EXPOSE 80`,
/// `ENV PORT=80`, no `USER`), a Compose file, a Swarm stack file, a Kubernetes Deployment and
/// Service (named port) and a Helm chart.
fn everything() -> Dir {
    let dir = repository();
    dir.file("docker-stack.yml", STACK);
    chart(&dir);
    dir
}

#[test]
fn one_write_makes_every_kind_of_file_coherent() {
    let dir = everything();
    let checkov_before = checkov_failures(&dir);
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    for (name, path) in [
        ("everything_dockerfile", "app/Dockerfile"),
        ("everything_compose", "compose.yaml"),
        ("everything_stack", "docker-stack.yml"),
        ("everything_kubernetes", "k8s/web.yaml"),
        ("everything_values", "chart/values.yaml"),
    ] {
        snapshot!(name, dir.read(path));
    }
    // The container side is 8080 everywhere, the published sides stay.
    let dockerfile = dir.read("app/Dockerfile");
    assert!(
        dockerfile.contains("ENV PORT=8080\nEXPOSE 8080\n"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("USER node\n"), "{dockerfile}");
    assert!(dir.read("compose.yaml").contains("\"5001:8080\""));
    assert!(dir.read("docker-stack.yml").contains("\"5001:8080\""));
    let values = dir.read("chart/values.yaml");
    assert!(
        values.contains("  port: 80 # what clients call\n  targetPort: 8080\n"),
        "{values}"
    );
    assert!(values.contains("runAsUser: 1000\n"), "{values}");
    assert_eq!(
        dir.read("chart/templates/deployment.yaml"),
        CHART_DEPLOYMENT
    );
    // A second run has nothing left to do.
    let again = dir.run(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    validate_compose(&dir.path("compose.yaml"));
    validate_compose(&dir.path("docker-stack.yml"));
    validate_manifests(&[dir.path("k8s/web.yaml")]);
    valid_yaml(&dir.path("chart/values.yaml"));
    if let Some(before) = checkov_before {
        // CKV_K8S_6 checks PodSecurityPolicies, not workloads: CKV_K8S_23 is its
        // runAsNonRoot check for Deployments.
        for check in ["CKV_K8S_20", "CKV_K8S_23"] {
            assert!(
                before.iter().any(|c| c == check),
                "{check} passes before: {before:?}"
            );
        }
        assert_eq!(checkov_failures(&dir), Some(Vec::new()));
    }
}

/// The Checkov checks (CKV_K8S_20, CKV_K8S_23) the Kubernetes manifest fails; `None`
/// without Checkov.
fn checkov_failures(dir: &Dir) -> Option<Vec<String>> {
    let checkov = require("checkov", "pip install checkov")?;
    // Checkov skips hidden folders, and the test tree is under `/tmp/.tmp…`.
    let work = tempfile::Builder::new()
        .prefix("unroot-checkov-")
        .tempdir()
        .expect("create a folder for checkov");
    std::fs::copy(dir.path("k8s/web.yaml"), work.path().join("web.yaml"))
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
        .args(["--check", "CKV_K8S_20,CKV_K8S_23", "-d"])
        .arg(work.path())
        .output()
        .expect("run checkov");
    let text = String::from_utf8_lossy(&output.stdout);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let results = if json.is_array() {
        json[0]["results"].clone()
    } else {
        json["results"].clone()
    };
    Some(
        results["failed_checks"]
            .as_array()
            .map(|checks| {
                checks
                    .iter()
                    .filter_map(|c| c["check_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    )
}
