#!/usr/bin/env node
// Builds the npm packages of unroot as tarballs (`npm pack`), from npm/ and the binaries given.
//
//   node scripts/npm-pack.js --out DIR unroot                    the main package (the launcher)
//   node scripts/npm-pack.js --out DIR linux-x64=PATH/unroot     a platform package, with this binary
//
// Any number of packages in one call. Each is staged in a temporary copy of npm/<package>
// (nothing is written under npm/), with the repository's LICENSE when there is one, and packed
// into DIR; the tarballs' paths are printed, one a line. Every package.json must have the version
// of Cargo.toml, and the main package's optional dependencies must be exactly the platform
// packages at that version: the release workflow publishes these tarballs as they are.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");

const root = path.resolve(__dirname, "..");
const npmDir = path.join(root, "npm");

function die(message) {
  process.stderr.write(`npm-pack: ${message}\n`);
  process.exit(2);
}

function cargoVersion() {
  const manifest = fs.readFileSync(path.join(root, "Cargo.toml"), "utf8");
  const pkg = manifest.split(/^\[/m).find((section) => section.startsWith("package]"));
  const match = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!match) die("Cargo.toml: no version in [package]");
  return match[1];
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// The platform packages: npm/<os>-<cpu>/ directories.
function platforms() {
  return fs
    .readdirSync(npmDir)
    .filter((name) => name !== "unroot" && fs.existsSync(path.join(npmDir, name, "package.json")))
    .sort();
}

function check(version) {
  const main = readJson(path.join(npmDir, "unroot", "package.json"));
  const problems = [];
  if (main.version !== version) problems.push(`npm/unroot: version ${main.version}`);
  const expected = {};
  for (const platform of platforms()) {
    const pkg = readJson(path.join(npmDir, platform, "package.json"));
    if (pkg.version !== version) problems.push(`npm/${platform}: version ${pkg.version}`);
    if (pkg.name !== `@unroot/${platform}`) problems.push(`npm/${platform}: name ${pkg.name}`);
    expected[pkg.name] = version;
  }
  const actual = main.optionalDependencies || {};
  if (JSON.stringify(Object.entries(actual).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
    problems.push(`npm/unroot: optionalDependencies ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`);
  }
  if (problems.length) die(`not at Cargo.toml's version ${version}: ${problems.join("; ")}`);
}

function stage(name, binary) {
  const source = path.join(npmDir, name);
  if (!fs.existsSync(path.join(source, "package.json"))) die(`no package npm/${name}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `unroot-npm-${name}-`));
  fs.cpSync(source, dir, { recursive: true });
  const license = path.join(root, "LICENSE");
  if (fs.existsSync(license)) fs.copyFileSync(license, path.join(dir, "LICENSE"));
  if (name !== "unroot") {
    if (!binary) die(`${name}: give the binary as ${name}=PATH`);
    const pkg = readJson(path.join(dir, "package.json"));
    const target = path.join(dir, pkg.files[0]);
    if (!fs.statSync(binary, { throwIfNoEntry: false })?.isFile()) die(`${binary}: not a file`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(binary, target);
    fs.chmodSync(target, 0o755);
  } else if (binary) {
    die("the main package has no binary");
  }
  return dir;
}

function pack(dir, out) {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["pack", "--json", "--pack-destination", out], {
    cwd: dir,
    encoding: "utf8",
    shell: process.platform === "win32",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (result.error) die(`npm pack: ${result.error.message}`);
  if (result.status !== 0) die(`npm pack in ${dir} exited with ${result.status}`);
  const [{ filename }] = JSON.parse(result.stdout);
  return path.join(out, filename);
}

function main(argv) {
  let out;
  const packages = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") out = argv[++i];
    else if (argv[i].startsWith("-")) die(`unknown option ${argv[i]}`);
    else packages.push(argv[i]);
  }
  if (!out || packages.length === 0) {
    die("usage: node scripts/npm-pack.js --out DIR (unroot | OS-CPU=BINARY)...");
  }
  fs.mkdirSync(out, { recursive: true });
  out = path.resolve(out);
  check(cargoVersion());
  for (const spec of packages) {
    const eq = spec.indexOf("=");
    const name = eq < 0 ? spec : spec.slice(0, eq);
    const binary = eq < 0 ? undefined : path.resolve(spec.slice(eq + 1));
    const dir = stage(name, binary);
    try {
      process.stdout.write(`${pack(dir, out)}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

main(process.argv.slice(2));
