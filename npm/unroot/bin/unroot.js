#!/usr/bin/env node
// The `unroot` command of the npm package: runs the prebuilt binary of the per-platform package
// that npm installed as an optional dependency (@unroot/<os>-<cpu>, the pattern esbuild and
// biome use), with the same arguments, standard streams and working directory, and exits as it
// exits: with its status, or killed by the same signal.
"use strict";

const { spawn } = require("child_process");

// process.platform + " " + process.arch -> the package that has the binary for it. The Linux
// binaries are static (musl), so they run on glibc and musl distributions alike.
const PACKAGES = {
  "linux x64": "@unroot/linux-x64",
  "linux arm64": "@unroot/linux-arm64",
  "darwin x64": "@unroot/darwin-x64",
  "darwin arm64": "@unroot/darwin-arm64",
  "win32 x64": "@unroot/win32-x64",
};

function fail(message) {
  process.stderr.write(`unroot: ${message}\n`);
  // 2 is unroot's own "something went wrong" status (1 means findings remain).
  process.exit(2);
}

function binaryPath() {
  const key = `${process.platform} ${process.arch}`;
  const name = PACKAGES[key];
  if (!name) {
    fail(
      `no prebuilt binary for ${process.platform}-${process.arch} (there are: ` +
        `${Object.values(PACKAGES).join(", ")}); ` +
        "build it from source with `cargo install --locked unroot`",
    );
  }
  const file = process.platform === "win32" ? "unroot.exe" : "unroot";
  try {
    return require.resolve(`${name}/bin/${file}`);
  } catch (err) {
    fail(
      `the package ${name}, which has the binary for ${process.platform}-${process.arch}, ` +
        "is not installed: npm installs it as an optional dependency of `unroot`, so it is " +
        "missing when optional dependencies are left out (`--omit=optional`, `--no-optional`) " +
        `or the lockfile was made on another platform; reinstall, or run \`npm install ${name}\``,
    );
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit" });

// A signal sent to this process (a `kill`, a CI runner's cancel) goes to unroot too; Ctrl-C
// already reaches both, as they share the terminal's process group.
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"].filter(
  (signal) => process.platform !== "win32" || signal === "SIGINT",
);
const handlers = forwarded.map((signal) => {
  const handler = () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
  };
  process.on(signal, handler);
  return [signal, handler];
});

child.on("error", (err) => fail(`cannot run ${child.spawnfile}: ${err.message}`));
child.on("exit", (code, signal) => {
  for (const [name, handler] of handlers) {
    process.removeListener(name, handler);
  }
  if (signal) {
    // Die of the same signal, so the caller sees what unroot saw.
    process.kill(process.pid, signal);
    // Not reached unless the signal cannot end this process: the shell's convention then.
    process.exit(128 + (require("os").constants.signals[signal] || 0));
  }
  process.exit(code === null ? 2 : code);
});
