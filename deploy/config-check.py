#!/usr/bin/env python3
"""Static checks of deploy/: the Kubernetes manifests parse and hang together, and the compose file and manifests
configure the apps with keys the apps actually read.

Kubernetes (deploy/k8s/*.yaml, deploy/kustomization.yaml): every document parses and has apiVersion, kind, a name
and the `calc` namespace; every container has an image, resource requests and limits, readiness and liveness
probes, and probes/Services name ports the container declares; ConfigMaps, Secrets and their keys referenced exist;
Services select a Deployment's pods; HorizontalPodAutoscalers are autoscaling/v2 and target a Deployment here;
kustomization.yaml lists every manifest and every image.

Both (compose and Kubernetes): every `Section__Key` environment variable given to a Calc app is a configuration key
that app's code or appsettings.json knows (a misspelt key would be ignored silently at run time), and a jobs worker
gets no Gateway__Url (it would register and receive /jobs requests it does not serve).

Usage: config-check.py   (from anywhere; exit 1 on the first kind of problem found, all problems listed)
"""

import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NAMESPACE = "calc"
# The apps' own configuration sources: code (options classes and literal keys) and appsettings.json.
APP_SOURCES = ["Calc.Core", "Calc.Data.Abstractions", "gateway", "services"]
# Keys that belong to ASP.NET Core / .NET themselves rather than to Calc's code.
FRAMEWORK_PREFIXES = ("Logging:", "Kestrel:", "AllowedHosts", "Urls", "HostFiltering:")

problems = []


def problem(text):
    problems.append(text)


def rel(path):
    return os.path.relpath(path, ROOT)


# ------------------------------------------------------------------------------------------- known configuration keys


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}:{k}" if prefix else k, v, out)
    elif isinstance(value, list):
        out.add(prefix)
        for i, v in enumerate(value):
            flatten(f"{prefix}:{i}", v, out)
    else:
        out.add(prefix)


def known_configuration_keys():
    keys = set()
    for source in APP_SOURCES:
        for path in glob.glob(os.path.join(ROOT, source, "**", "*"), recursive=True):
            if "/bin/" in path or "/obj/" in path or not os.path.isfile(path):
                continue
            if os.path.basename(path).startswith("appsettings") and path.endswith(".json"):
                with open(path, encoding="utf-8") as f:
                    flatten("", json.load(f), keys)
            elif path.endswith(".cs"):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                # Literal keys: configuration["Service:PublicUrl"], GetValue("Performance:InlineIo"), ...
                keys.update(re.findall(r'"([A-Z][A-Za-z0-9]*(?::[A-Z][A-Za-z0-9]*)+)"', text))
                keys.update(re.findall(r'Configuration\["([A-Z][A-Za-z0-9]*)"\]', text))
                # Options classes: const string SectionName = "X"; public T Name { get; set; }
                for chunk in re.split(r"\bclass\s+", text)[1:]:
                    section = re.search(r'SectionName\s*=\s*"([A-Za-z0-9]+)"', chunk)
                    if section:
                        for prop in re.findall(r"public\s+[\w<>\[\]?,. ]+?\s+(\w+)\s*\{\s*get;\s*(?:set|init);", chunk):
                            keys.add(f"{section.group(1)}:{prop}")
    return keys


def check_environment(where, env, known, is_worker):
    for name in env:
        if "__" not in name:
            if name == "Role" and "Role" not in known:
                problem(f"{where}: Role is not a known configuration key")
            continue
        key = name.replace("__", ":")
        if key.startswith(FRAMEWORK_PREFIXES):
            continue
        if key not in known and not any(k.startswith(key + ":") for k in known):
            problem(f"{where}: environment variable {name} sets '{key}', which no Calc app reads (misspelt?)")
    if is_worker and "Gateway__Url" in env:
        problem(f"{where}: a jobs worker must not get Gateway__Url (it would register and be sent /jobs requests)")


# -------------------------------------------------------------------------------------------------------- Kubernetes


def load_manifests():
    documents = []
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml"))):
        try:
            with open(path, encoding="utf-8") as f:
                for doc in yaml.safe_load_all(f):
                    if doc is not None:
                        documents.append((rel(path), doc))
        except yaml.YAMLError as e:
            problem(f"{rel(path)}: does not parse: {e}")
    return documents


def pod_env(container, configmaps, secrets):
    """The environment a container gets: its env entries and the keys of the ConfigMaps it takes whole."""
    env = {}
    for source in container.get("envFrom", []) or []:
        if "configMapRef" in source:
            env.update({k: v for k, v in (configmaps.get(source["configMapRef"]["name"]) or {}).items()})
        if "secretRef" in source:
            env.update({k: "" for k in (secrets.get(source["secretRef"]["name"]) or {})})
    for entry in container.get("env", []) or []:
        env[entry["name"]] = entry.get("value", "")
    return env


def check_kubernetes(known):
    documents = load_manifests()
    if not documents:
        problem("deploy/k8s: no manifests found")
        return
    by_kind = {}
    for path, doc in documents:
        kind, meta = doc.get("kind"), doc.get("metadata") or {}
        if not doc.get("apiVersion") or not kind or not meta.get("name"):
            problem(f"{path}: a document lacks apiVersion, kind or metadata.name")
            continue
        if kind != "Namespace" and meta.get("namespace") != NAMESPACE:
            problem(f"{path}: {kind}/{meta['name']} is not in namespace {NAMESPACE}")
        by_kind.setdefault(kind, {})[meta["name"]] = (path, doc)

    configmaps = {n: d.get("data") or {} for n, (_, d) in by_kind.get("ConfigMap", {}).items()}
    secrets = {n: {**(d.get("stringData") or {}), **(d.get("data") or {})} for n, (_, d) in by_kind.get("Secret", {}).items()}
    deployments = by_kind.get("Deployment", {})
    if not deployments:
        problem("deploy/k8s: no Deployment found")
    images = set()

    for name, (path, doc) in deployments.items():
        where = f"{path}: Deployment/{name}"
        spec = doc.get("spec") or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problem(f"{where}: spec.selector.matchLabels does not match the pod template's labels")
        pod = template.get("spec") or {}
        volumes = {v["name"] for v in pod.get("volumes", []) or []}
        for container in pod.get("containers", []) or []:
            cwhere = f"{where} container {container.get('name')}"
            if not container.get("image"):
                problem(f"{cwhere}: no image")
            else:
                images.add(container["image"].split(":")[0])
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(part) or {}).get(resource):
                        problem(f"{cwhere}: no resources.{part}.{resource}")
            ports = {p.get("name") for p in container.get("ports", []) or []} | {p.get("containerPort") for p in container.get("ports", []) or []}
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problem(f"{cwhere}: no {probe}")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                body = container.get(probe) or {}
                for handler in ("httpGet", "tcpSocket"):
                    if handler in body and body[handler].get("port") not in ports:
                        problem(f"{cwhere}: {probe} uses port {body[handler].get('port')!r}, which the container does not declare")
                if "httpGet" in body and not str(body["httpGet"].get("path", "")).startswith("/health/"):
                    problem(f"{cwhere}: {probe} should ask a /health/ endpoint")
            for source in container.get("envFrom", []) or []:
                if "configMapRef" in source and source["configMapRef"]["name"] not in configmaps:
                    problem(f"{cwhere}: envFrom names ConfigMap {source['configMapRef']['name']}, which is not defined")
            for entry in container.get("env", []) or []:
                ref = (entry.get("valueFrom") or {})
                for kind, table in (("secretKeyRef", secrets), ("configMapKeyRef", configmaps)):
                    if kind in ref:
                        target = ref[kind]
                        if target["name"] not in table or target["key"] not in table[target["name"]]:
                            problem(f"{cwhere}: env {entry['name']} takes {kind} {target['name']}/{target['key']}, which is not defined")
            for mount in container.get("volumeMounts", []) or []:
                if mount["name"] not in volumes:
                    problem(f"{cwhere}: mounts volume {mount['name']}, which the pod does not define")
            if "calc/" in container.get("image", ""):
                check_environment(cwhere, pod_env(container, configmaps, secrets), known, container["image"].startswith("calc/jobs-worker"))

    for name, (path, doc) in by_kind.get("Service", {}).items():
        selector = (doc.get("spec") or {}).get("selector") or {}
        matches = [d for d in deployments.values()
                   if selector and all(((d[1]["spec"]["template"].get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in selector.items())]
        if not matches:
            problem(f"{path}: Service/{name} selects no Deployment's pods")
            continue
        container_ports = {p.get("name") for _, d in matches for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])} \
            | {p.get("containerPort") for _, d in matches for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for port in doc["spec"].get("ports", []) or []:
            if port.get("targetPort", port.get("port")) not in container_ports:
                problem(f"{path}: Service/{name} targets port {port.get('targetPort')!r}, which its pods do not declare")

    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    for name, (path, doc) in hpas.items():
        if doc["apiVersion"] != "autoscaling/v2":
            problem(f"{path}: HorizontalPodAutoscaler/{name} should be autoscaling/v2")
        spec = doc.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {})
        if target.get("kind") != "Deployment" or target.get("name") not in deployments:
            problem(f"{path}: HorizontalPodAutoscaler/{name} targets {target.get('kind')}/{target.get('name')}, not a Deployment here")
        if not spec.get("metrics") or not 1 <= spec.get("minReplicas", 1) <= spec.get("maxReplicas", 0):
            problem(f"{path}: HorizontalPodAutoscaler/{name} needs metrics and 1 <= minReplicas <= maxReplicas")
        else:
            for metric in spec["metrics"]:
                if metric.get("type") == "Resource":
                    container_lacks = [c["name"] for c in deployments.get(target.get("name"), ("", {"spec": {"template": {"spec": {"containers": []}}}}))[1]["spec"]["template"]["spec"]["containers"]
                                       if not ((c.get("resources") or {}).get("requests") or {}).get(metric["resource"]["name"])]
                    if container_lacks:
                        problem(f"{path}: HorizontalPodAutoscaler/{name} scales on {metric['resource']['name']} but {container_lacks} request none")
    for name in deployments:
        if name != "calc-cache" and not any(d.get("spec", {}).get("scaleTargetRef", {}).get("name") == name for _, d in hpas.values()):
            problem(f"deploy/k8s: Deployment/{name} has no HorizontalPodAutoscaler")

    kustomization = os.path.join(ROOT, "deploy", "kustomization.yaml")
    if os.path.exists(kustomization):
        with open(kustomization, encoding="utf-8") as f:
            k = yaml.safe_load(f)
        listed = set(k.get("resources") or [])
        present = {os.path.relpath(p, os.path.dirname(kustomization)) for p in glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml"))}
        for missing in sorted(present - listed):
            problem(f"deploy/kustomization.yaml: does not list {missing}")
        for extra in sorted(listed - present):
            problem(f"deploy/kustomization.yaml: lists {extra}, which does not exist")
        named = {i.get("name") for i in k.get("images") or []}
        for image in sorted(images - named):
            problem(f"deploy/kustomization.yaml: image {image} has no entry under images")
    print(f"  k8s: {len(documents)} documents, {len(deployments)} Deployments, {len(hpas)} HorizontalPodAutoscalers")


# ----------------------------------------------------------------------------------------------------------- compose


def dockerfile_stages(path):
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", f.read(), re.MULTILINE | re.IGNORECASE))


def check_compose(known):
    path = os.path.join(ROOT, "deploy", "compose.yaml")
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    published = [name for name, s in services.items() if s.get("ports")]
    if published != ["gateway"]:
        problem(f"deploy/compose.yaml: only the gateway should publish ports, not {published}")
    for name, service in services.items():
        where = f"deploy/compose.yaml: service {name}"
        build = service.get("build")
        if not build:
            continue
        dockerfile = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", "."), build.get("dockerfile", "Dockerfile")))
        if not os.path.exists(dockerfile):
            problem(f"{where}: builds {rel(dockerfile)}, which does not exist")
            continue
        if build.get("target") and build["target"] not in dockerfile_stages(dockerfile):
            problem(f"{where}: build target {build['target']} is not a stage of {rel(dockerfile)}")
        if not service.get("healthcheck"):
            problem(f"{where}: no healthcheck")
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
        check_environment(where, env, known, str(build.get("target", "")).endswith("worker"))
    print(f"  compose: {len(services)} services, {sum(1 for s in services.values() if s.get('build'))} built from Calc's Dockerfiles")


def main():
    known = known_configuration_keys()
    check_kubernetes(known)
    check_compose(known)
    for p in problems:
        print(f"  FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
