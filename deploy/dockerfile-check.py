#!/usr/bin/env python3
"""Replays Calc's Dockerfiles without a Docker engine, so that a Dockerfile cannot silently rot.

For each build (a Dockerfile, or one that deploy/compose.yaml asks for: a Dockerfile with a target and build args)
  1. builds the context as `docker build` would send it (the repository minus .dockerignore's patterns) and checks
     that every COPY source exists in it (or, for COPY --from, in the stage it names): the static check;
  2. with --run, executes the build stages (FROM the .NET SDK image): every WORKDIR, COPY and RUN, in that order,
     in a temporary folder per stage (RUN lines with `sh -c` in the stage's WORKDIR), so the internal packages are
     packed, the app is restored from the local feed and published exactly as in the image. A stage whose
     instructions and inputs are the same as one already run (the shared `packages` stage) is reused, as Docker's
     layer cache would;
  3. checks the runtime target (the build's --target, else every stage FROM aspnet/runtime that nothing builds on):
     a non-root USER, a HEALTHCHECK whose program is in the image, and an ENTRYPOINT whose `dotnet X.dll` is in the
     published files.
With a target, only the stages it needs (FROM and COPY --from, transitively) are checked and run, as BuildKit does.
ARG values come from the build's args, else the ARG's default; they expand ${NAME} in COPY, WORKDIR and ENV and are
in the environment of RUN, as in Docker.
RUN lines of runtime stages (apt-get in the image) are not executed: they only make sense inside the image.

Limits, on purpose: the Dockerfile subset Calc uses (no ADD, no heredocs, no wildcards in COPY); RUN lines of build
stages must use paths relative to WORKDIR (the replay runs them in a temporary folder, not at /).

Usage: dockerfile-check.py [--run] [--work DIR] [--compose FILE] [Dockerfile...]   (paths relative to the repository root)
  --compose FILE: every distinct build of the compose file's services (dockerfile, target, args), instead of or
  besides the Dockerfiles named.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import yaml  # only for --compose (Debian: python3-yaml)
except ImportError:  # pragma: no cover
    yaml = None

SDK_IMAGE = re.compile(r"^mcr\.microsoft\.com/dotnet/sdk:")
RUNTIME_IMAGE = re.compile(r"^mcr\.microsoft\.com/dotnet/(aspnet|runtime|runtime-deps):")
ABSOLUTE_PATH = re.compile(r"""(?:^|[\s=:'"(])(/(?!dev/null\b)[A-Za-z_.][^\s'"]*)""")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class CheckError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------- .dockerignore


def _pattern_regex(pattern):
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over slash-separated relative paths."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise CheckError(f".dockerignore: unclosed '[' in {pattern!r}")
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("^" + "".join(out) + "$")


class DockerIgnore:
    def __init__(self, path):
        self.rules = []  # (regex, is_exception, literal prefix)
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                exception = line.startswith("!")
                if exception:
                    line = line[1:].strip()
                line = os.path.normpath(line).lstrip("/")
                self.rules.append((_pattern_regex(line), exception, line))

    def excluded(self, rel):
        """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
        parts = rel.split("/")
        candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        result = False
        for regex, exception, _ in self.rules:
            if any(regex.match(c) for c in candidates):
                result = not exception
        return result

    def may_reinclude_under(self, rel_dir):
        return any(exception and (literal.startswith(rel_dir + "/") or "*" in literal)
                   for _, exception, literal in self.rules)


def build_context(root):
    """The set of files (relative paths) `docker build <root>` would send, honouring .dockerignore."""
    ignore = DockerIgnore(os.path.join(root, ".dockerignore"))
    files = set()
    for directory, dirs, names in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        kept = []
        for d in dirs:
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d == ".git" or (ignore.excluded(rel) and not ignore.may_reinclude_under(rel)):
                continue
            kept.append(d)
        dirs[:] = kept
        for name in names:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignore.excluded(rel):
                files.add(rel)
    return files


# ------------------------------------------------------------------------------------------------------- Dockerfile


def parse_dockerfile(path):
    """[(line number, INSTRUCTION, arguments)] with continuations joined and comments dropped."""
    instructions, pending, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue  # comment lines inside a continued instruction are dropped, as Docker does
            if not pending:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, rest = text.partition(" ")
            if re.search(r"<<-?['\"]?[A-Za-z]", rest):
                raise CheckError(f"{path}:{start}: heredocs are not supported by this check")
            instructions.append((start, keyword.upper(), rest.strip()))
    if pending:
        raise CheckError(f"{path}: ends inside a continued line")
    return instructions


def split_flags(args):
    flags, rest = {}, args
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        name, _, value = token[2:].partition("=")
        flags[name] = value
        rest = rest.lstrip()
    return flags, rest


def json_or_words(args):
    if args.startswith("["):
        try:
            value = json.loads(args)
        except json.JSONDecodeError as e:
            raise CheckError(f"bad JSON array: {args} ({e})") from e
        return value, True
    return shlex.split(args), False


class Stage:
    def __init__(self, name, base, kind, root):
        self.name, self.base, self.kind, self.root = name, base, kind, root
        self.workdir, self.env, self.user = "/", {}, None
        self.healthcheck, self.entrypoint, self.cmd = None, None, None
        self.instructions = []
        self.used_as_base = False
        self.base_stage = None
        self.key = None
        self.needs = set()  # names of the stages it copies from
        self.static_env = {}
        self.build_args = {}

    def inherit(self, other):
        self.workdir, self.env, self.user = other.workdir, dict(other.env), other.user
        self.healthcheck, self.entrypoint, self.cmd = other.healthcheck, other.entrypoint, other.cmd

    def path(self, container_path):
        if not container_path.startswith("/"):
            container_path = os.path.join(self.workdir, container_path)
        return os.path.join(self.root, os.path.normpath(container_path).lstrip("/"))


def expand_text(text, env):
    """${NAME} and $NAME replaced from env (ARG and ENV values); unknown names are left as they are."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), m.group(0)), text)


def compose_builds(compose_file):
    """[(dockerfile, target, args, services)] for the distinct builds of a compose file's services."""
    if yaml is None:
        raise CheckError("--compose needs PyYAML (Debian: python3-yaml)")
    path = os.path.join(ROOT, compose_file)
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    builds = {}
    for name, service in (compose.get("services") or {}).items():
        build = service.get("build")
        if not build:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", ".")))
        dockerfile = os.path.relpath(os.path.join(context, build.get("dockerfile", "Dockerfile")), ROOT)
        args = build.get("args") or {}
        if isinstance(args, list):
            args = dict(a.split("=", 1) for a in args)
        key = (dockerfile, build.get("target"), tuple(sorted((k, str(v)) for k, v in args.items())))
        builds.setdefault(key, []).append(name)
    return [(d, t, dict(a), names) for (d, t, a), names in builds.items()]


def hash_files(members, digest):
    """Adds the names and contents of context files (relative paths, .dockerignore already applied) to a digest."""
    for member in members:
        digest.update(member.encode() + b"\0")
        with open(os.path.join(ROOT, member), "rb") as f:
            digest.update(f.read())


class Replay:
    def __init__(self, work, run):
        self.work, self.run = work, run
        self.context = build_context(ROOT)
        self.stage_cache = {}  # key -> root folder of a stage that ran
        self.counter = 0

    def context_source(self, dockerfile, number, src):
        src = os.path.normpath(src).lstrip("/")
        if src == ".":
            return ROOT, sorted(self.context)
        if any(ch in src for ch in "*?["):
            raise CheckError(f"{dockerfile}:{number}: COPY {src}: wildcards are not supported by this check")
        if src in self.context:
            return os.path.join(ROOT, src), [src]
        members = sorted(f for f in self.context if f.startswith(src + "/"))
        if not members:
            reason = "excluded by .dockerignore" if os.path.exists(os.path.join(ROOT, src)) else "does not exist"
            raise CheckError(f"{dockerfile}:{number}: COPY source '{src}' is not in the build context ({reason})")
        return os.path.join(ROOT, src), members

    def check(self, dockerfile, target=None, build_args=None):
        build_args = dict(build_args or {})
        path = os.path.join(ROOT, dockerfile)
        if not os.path.exists(path):
            raise CheckError(f"{dockerfile}: does not exist")
        instructions = parse_dockerfile(path)
        stages, order, current = {}, [], None
        notes = []
        for number, keyword, args in instructions:
            where = f"{dockerfile}:{number}"
            if keyword == "FROM":
                flags, rest = split_flags(args)
                words = rest.split()
                image = words[0]
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else f"#{len(order)}"
                if name in stages:
                    raise CheckError(f"{where}: stage name '{name}' used twice")
                if image in stages:
                    base = stages[image]
                    base.used_as_base = True
                    kind = base.kind
                elif SDK_IMAGE.match(image):
                    base, kind = None, "build"
                elif RUNTIME_IMAGE.match(image):
                    base, kind = None, "runtime"
                else:
                    raise CheckError(f"{where}: FROM {image}: only the .NET sdk/aspnet/runtime images or earlier stages are expected")
                self.counter += 1
                current = Stage(name, image, kind, os.path.join(self.work, f"stage{self.counter}-{name.strip('#')}"))
                current.base_stage = base
                stages[name] = current
                order.append(current)
                continue
            if current is None:
                if keyword == "ARG":
                    continue
                raise CheckError(f"{where}: {keyword} before FROM")
            current.instructions.append((number, keyword, args))

        # Static pass first (cheap): every COPY source exists, every --from names an earlier stage.
        for stage in order:
            env = dict(stage.base_stage.static_env) if stage.base_stage else {}
            for number, keyword, args_text in stage.instructions:
                if keyword == "ADD":
                    raise CheckError(f"{dockerfile}:{number}: use COPY, not ADD")
                if keyword == "ARG":
                    env.update(self.arg_value(args_text, build_args))
                if keyword != "COPY":
                    continue
                flags, rest = split_flags(args_text)
                words, _ = json_or_words(rest)
                if len(words) < 2:
                    raise CheckError(f"{dockerfile}:{number}: COPY needs a source and a destination")
                if "from" in flags:
                    if flags["from"] not in stages or order.index(stages[flags["from"]]) >= order.index(stage):
                        raise CheckError(f"{dockerfile}:{number}: COPY --from={flags['from']}: no earlier stage of that name")
                    stages[flags["from"]].used_as_base = True
                    stage.needs.add(flags["from"])
                else:
                    for src in words[:-1]:
                        self.context_source(dockerfile, number, expand_text(src, env))
            stage.static_env = env
        if target is not None:
            if target not in stages:
                raise CheckError(f"{dockerfile}: no stage named {target} (the build's target)")
            needed, pending = set(), [target]
            while pending:
                name = pending.pop()
                if name in needed:
                    continue
                needed.add(name)
                stage = stages[name]
                pending.extend(stage.needs)
                if stage.base_stage is not None:
                    pending.append(stage.base_stage.name)
            order = [s for s in order if s.name in needed]
        if not self.run:
            return f"COPY sources present ({', '.join(s.name for s in order)})"

        for stage in order:
            notes.append(self.replay_stage(dockerfile, stage, stages, build_args))
        if target is not None:
            targets = [stages[target]]
            if targets[0].kind != "runtime":
                raise CheckError(f"{dockerfile}: target {target} is not a runtime stage (FROM aspnet/runtime)")
        else:
            targets = [s for s in order if s.kind == "runtime" and not s.used_as_base]
        if not targets:
            raise CheckError(f"{dockerfile}: no runtime target stage (FROM aspnet/runtime) found")
        for target in targets:
            notes.append(self.check_target(dockerfile, target))
        return "; ".join(n for n in notes if n)

    @staticmethod
    def arg_value(text, build_args):
        """{NAME: value} for an ARG instruction: the build's value, else the default; {} when it has neither."""
        name, has_default, default = text.strip().partition("=")
        name = name.strip()
        if name in build_args:
            return {name: build_args[name]}
        return {name: default.strip().strip('"')} if has_default else {}

    def replay_stage(self, dockerfile, stage, stages, build_args):
        base = stage.base_stage
        if base is not None:
            stage.inherit(base)
        stage.build_args = build_args
        digest = hashlib.sha256(("FROM " + (base.key if base else stage.base)).encode())
        env = dict(stage.static_env)
        for number, keyword, args in stage.instructions:
            digest.update(f"{keyword} {args}\n".encode())
            if keyword == "ARG":
                digest.update(json.dumps(self.arg_value(args, build_args), sort_keys=True).encode())
            if keyword == "COPY":
                flags, rest = split_flags(args)
                words, _ = json_or_words(rest)
                if "from" in flags:
                    digest.update(stages[flags["from"]].key.encode())
                else:
                    for src in words[:-1]:
                        _, members = self.context_source(dockerfile, number, expand_text(src, env))
                        hash_files(members, digest)
        stage.key = digest.hexdigest()
        if stage.kind == "build" and stage.key in self.stage_cache:
            stage.root = self.stage_cache[stage.key]  # only read from here on (COPY --from, FROM copies it)
            for number, keyword, args in stage.instructions:  # the metadata still applies
                if keyword in ("WORKDIR", "ENV", "ARG"):
                    self.apply(dockerfile, stage, stages, number, keyword, args, execute=False)
            return f"{stage.name}: reused"
        os.makedirs(stage.root)
        if base is not None:
            shutil.copytree(base.root, stage.root, symlinks=True, dirs_exist_ok=True)
        started = time.monotonic()
        for number, keyword, args in stage.instructions:
            self.apply(dockerfile, stage, stages, number, keyword, args, execute=stage.kind == "build")
        if stage.kind == "build":
            self.stage_cache[stage.key] = stage.root
            return f"{stage.name}: ran in {time.monotonic() - started:.0f} s"
        return None

    def apply(self, dockerfile, stage, stages, number, keyword, args, execute):
        where = f"{dockerfile}:{number}"
        if keyword == "WORKDIR":
            stage.workdir = os.path.normpath(os.path.join(stage.workdir, self.expand(args, stage)))
            os.makedirs(stage.path(stage.workdir), exist_ok=True)
        elif keyword == "ENV":
            words = shlex.split(args)
            if len(words) >= 2 and "=" not in words[0]:
                stage.env[words[0]] = " ".join(words[1:])
            else:
                for word in words:
                    name, _, value = word.partition("=")
                    stage.env[name] = value
        elif keyword == "ARG":
            stage.env.update(self.arg_value(args, getattr(stage, "build_args", {})))
        elif keyword == "COPY":
            flags, rest = split_flags(args)
            words, _ = json_or_words(rest)
            sources, dest = [self.expand(w, stage) for w in words[:-1]], self.expand(words[-1], stage)
            for src in sources:
                if "from" in flags:
                    other = stages[flags["from"]]
                    source = other.path(src)
                    if not os.path.exists(source):
                        raise CheckError(f"{where}: COPY --from={other.name} {src}: the stage has no such path")
                    self.copy(source, None, stage.path(dest), dest.endswith("/") or len(sources) > 1)
                else:
                    source, members = self.context_source(dockerfile, number, src)
                    self.copy(source, members if os.path.isdir(source) else None, stage.path(dest),
                              dest.endswith("/") or len(sources) > 1)
        elif keyword == "RUN":
            if not execute:
                return
            flags, rest = split_flags(args)
            words, is_json = json_or_words(rest)
            if not is_json:
                absolute = ABSOLUTE_PATH.search(rest)
                if absolute:
                    raise CheckError(f"{where}: RUN uses the absolute path {absolute.group(1)}; build stages keep to paths relative to WORKDIR")
            command = words if is_json else ["/bin/sh", "-c", rest]
            env = dict(os.environ)
            # No MSBuild nodes left running after the replay (a container's would end with the build step).
            env.update({"DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1", "MSBUILDDISABLENODEREUSE": "1"})
            env.update(stage.env)
            print(f"    {stage.name}$ {rest if not is_json else ' '.join(words)}", flush=True)
            result = subprocess.run(command, cwd=stage.path(stage.workdir), env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            if result.returncode != 0:
                tail = "\n".join(result.stdout.splitlines()[-40:])
                raise CheckError(f"{where}: RUN failed with exit code {result.returncode} (as `docker build` would):\n{tail}")
        elif keyword == "USER":
            stage.user = args.strip()
        elif keyword == "HEALTHCHECK":
            flags, rest = split_flags(args)
            stage.healthcheck = (number, rest)
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = (number, json_or_words(args))
        elif keyword == "CMD":
            stage.cmd = (number, json_or_words(args))
        elif keyword in ("EXPOSE", "LABEL", "STOPSIGNAL", "VOLUME"):
            pass
        else:
            raise CheckError(f"{where}: {keyword} is not supported by this check")

    @staticmethod
    def expand(text, stage):
        return expand_text(text, stage.env)

    @staticmethod
    def copy(source, members, dest, into_folder):
        if os.path.isdir(source):
            os.makedirs(dest, exist_ok=True)
            if members is None:
                shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
            else:
                for member in members:
                    target = os.path.join(dest, os.path.relpath(os.path.join(ROOT, member), source))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(os.path.join(ROOT, member), target)
        else:
            if into_folder:
                os.makedirs(dest, exist_ok=True)
                dest = os.path.join(dest, os.path.basename(source))
            else:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(source, dest)

    def check_target(self, dockerfile, stage):
        where = f"{dockerfile} (target {stage.name})"
        if not stage.user or stage.user.split(":")[0] in ("root", "0"):
            raise CheckError(f"{where}: runs as root; set USER to a non-root user ($APP_UID in the .NET images)")
        if not stage.healthcheck:
            raise CheckError(f"{where}: has no HEALTHCHECK")
        number, rest = stage.healthcheck
        if rest.upper().startswith("CMD "):
            words, _ = json_or_words(rest[4:].strip())
            program = words[0] if words else ""
            if program.startswith("/") or "/" not in program:
                candidates = [program] if program.startswith("/") else [f"{d}/{program}" for d in ("/usr/local/bin", "/usr/bin", "/bin")]
                if not any(os.access(stage.path(c), os.X_OK) for c in candidates) and program not in ("bash", "sh", "dotnet"):
                    raise CheckError(f"{dockerfile}:{number}: HEALTHCHECK runs '{program}', which the image does not contain (or not executable)")
        if not stage.entrypoint:
            raise CheckError(f"{where}: has no ENTRYPOINT")
        number, (words, _) = stage.entrypoint
        if len(words) >= 2 and words[0] == "dotnet":
            dll = stage.path(os.path.join(stage.workdir, words[1]))
            if not os.path.isfile(dll):
                raise CheckError(f"{dockerfile}:{number}: ENTRYPOINT runs {words[1]}, which is not in {stage.workdir} of the image")
            runtimeconfig = dll[:-4] + ".runtimeconfig.json"
            if not os.path.isfile(runtimeconfig):
                raise CheckError(f"{dockerfile}:{number}: {words[1]} has no runtimeconfig.json next to it (not a published app)")
        args = " ".join(words[1:] + (stage.cmd[1][0] if stage.cmd else []))
        return f"{stage.name}: user {stage.user}, runs {args}"


def main(argv):
    run = "--run" in argv
    work = None
    builds = []
    i = 0
    while i < len(argv):
        if argv[i] == "--run":
            pass
        elif argv[i] == "--work":
            i += 1
            work = argv[i]
        elif argv[i] == "--compose":
            i += 1
            try:
                builds.extend(compose_builds(argv[i]))
            except (CheckError, OSError) as e:
                print(f"  FAIL {e}", flush=True)
                return 1
        else:
            builds.append((argv[i], None, {}, []))
        i += 1
    if not builds:
        print(__doc__)
        return 2
    own_work = work is None
    work = work or tempfile.mkdtemp(prefix="calc-dockerfile-check-")
    failed = 0
    try:
        replay = Replay(work, run)
        for dockerfile, target, args, services in builds:
            started = time.monotonic()
            label = dockerfile + (f" --target {target}" if target else "") + "".join(f" --build-arg {k}={v}" for k, v in sorted(args.items()))
            if services:
                label += f" (compose: {', '.join(services)})"
            print(f"  {label}", flush=True)
            try:
                summary = replay.check(dockerfile, target, args)
                print(f"  ok   {label} ({time.monotonic() - started:.0f} s): {summary}", flush=True)
            except CheckError as e:
                failed += 1
                print(f"  FAIL {e}", flush=True)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
