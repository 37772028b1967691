#!/usr/bin/env python3
"""Proves that the image tar from tools/build_image.sh works, without Docker: it unpacks the layers named in the tar's
manifest.json, in order, into a root filesystem (.image/check/rootfs) and runs the image's entrypoint there with
chroot, in its own mount and PID namespaces, as the image's user, in its working directory, with its environment, the
way a container runtime would (with /proc, /dev, /sys, /etc/hosts and /etc/resolv.conf mounted, and volumes bound).

  sudo tools/check_image.py [--podman] [cluster/app/target/arbor-image.tar]     (root: chroot, mounts, unshare)

Checks, in order:
  1. the image's config matches the Dockerfile (entrypoint, command, user, working directory, ports, JAVA_HOME,
     DJL_CACHE_DIR) and its tag is the lab overlay's image;
  2. every ELF file in the image, and the linux-x86-64 native libraries inside its jars, resolve all their shared
     libraries inside the image (with the image's own loader), except libjvm.so (the launcher finds it) and
     libcuda.so.1 / libnvrtc.so.12 (the NVIDIA container runtime provides them);
  3. the JVM starts as user arbor with UTF-8 encoding;
  4. `arbor serve` (the bundled tiny model, no volume): /health, /v1/models, a chat completion, a streamed completion;
  5. `arbor node --config /etc/arbor/application.conf` as the manifests run it (the repository's application.conf and
     models/tiny-qwen2 bound read-only at /etc/arbor and /models, ARBOR_* variables as the manifests set them, etcd
     and NATS JetStream on this machine): /health, Pekko Management's /ready, /alive and /metrics, a chat completion;
     skipped when etcd or nats-server is not installed;
  6. with --podman, a real OCI runtime: `podman load -i` the tar into a private store under .image/check, `podman run`
     `serve` with the host's network, the same API calls, `podman stop`.
Each run ends with SIGTERM, as Kubernetes stops a pod, and must exit by itself.
"""
import gzip
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK = os.path.join(ROOT, ".image", "check")
EXPECTED_MISSING = {"libjvm.so", "libcuda.so.1", "libnvrtc.so.12"}
NATIVE_IN_JAR = re.compile(r"(?i)(linux.*(x86[-_]64|amd64)|(x86[-_]64|amd64).*linux).*\.so$")


def say(msg):
    print(f"check_image: {msg}", flush=True)


def fail(msg):
    say(f"FAILED: {msg}")
    sys.exit(1)


# ---------------------------------------------------------------------------------------------------- the tar itself

def read_image(tar_path):
    with tarfile.open(tar_path) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        if len(manifest) != 1:
            fail(f"manifest.json lists {len(manifest)} images, expected one")
        entry = manifest[0]
        config = json.load(t.extractfile(entry["Config"]))
        layers = []
        for name in entry["Layers"]:
            info = t.getmember(name)
            layers.append((name, info.size))
    return entry, config, layers


def check_digests(tar_path, config, layers):
    """What `docker load` verifies: each layer, uncompressed, hashes to its diff_id in the config."""
    diff_ids = config["rootfs"]["diff_ids"]
    if len(diff_ids) != len(layers):
        fail(f"{len(layers)} layers but {len(diff_ids)} diff_ids")
    with tarfile.open(tar_path) as outer:
        for (name, _), want in zip(layers, diff_ids):
            h = hashlib.sha256()
            with gzip.open(outer.extractfile(name)) as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if "sha256:" + h.hexdigest() != want:
                fail(f"layer {name} hashes to sha256:{h.hexdigest()}, the config says {want}")
    say(f"layer digests: all {len(layers)} layers match the config's diff_ids")


def dockerfile_expectations():
    """ENTRYPOINT, CMD, USER, WORKDIR, EXPOSE and ENV of the Dockerfile's final stage."""
    text = open(os.path.join(ROOT, "Dockerfile")).read().replace("\\\n", " ")
    final = re.split(r"(?m)^FROM\s", text)[-1]
    exp = {"env": {}}
    for line in final.splitlines():
        line = line.strip()
        m = re.match(r"(ENTRYPOINT|CMD)\s+(\[.*\])$", line)
        if m:
            exp[m.group(1).lower()] = json.loads(m.group(2))
        elif line.startswith("USER "):
            exp["user"] = line.split()[1]
        elif line.startswith("WORKDIR "):
            exp["workdir"] = line.split()[1]
        elif line.startswith("EXPOSE "):
            exp["ports"] = {f"{p}/tcp" for p in line.split()[1:]}
        elif line.startswith("ENV "):
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                exp["env"][k] = v
    return exp


def lab_image():
    text = open(os.path.join(ROOT, "k8s", "overlays", "lab", "kustomization.yaml")).read()
    name = re.search(r"newName:\s*(\S+)", text).group(1)
    tag = re.search(r"newTag:\s*(\S+)", text).group(1)
    return f"{name}:{tag}"


def check_config(entry, config):
    c = config["config"]
    exp = dockerfile_expectations()
    env = dict(e.split("=", 1) for e in c.get("Env", []))
    problems = []
    if c.get("Entrypoint") != exp["entrypoint"]:
        problems.append(f"Entrypoint {c.get('Entrypoint')} != Dockerfile's {exp['entrypoint']}")
    if c.get("Cmd") != exp["cmd"]:
        problems.append(f"Cmd {c.get('Cmd')} != Dockerfile's {exp['cmd']}")
    if c.get("User") != exp["user"]:
        problems.append(f"User {c.get('User')} != Dockerfile's {exp['user']}")
    if c.get("WorkingDir") != exp["workdir"]:
        problems.append(f"WorkingDir {c.get('WorkingDir')} != Dockerfile's {exp['workdir']}")
    if set(c.get("ExposedPorts", {})) != exp["ports"]:
        problems.append(f"ExposedPorts {sorted(c.get('ExposedPorts', {}))} != Dockerfile's {sorted(exp['ports'])}")
    for k, v in exp["env"].items():
        if "$" in v:  # PATH=/opt/java/openjdk/bin:$PATH: the prefix must match
            if not env.get(k, "").startswith(v.split("$")[0]):
                problems.append(f"{k}={env.get(k)} does not start like the Dockerfile's {v}")
        elif env.get(k) != v:
            problems.append(f"{k}={env.get(k)} != Dockerfile's {v}")
    if lab_image() not in (entry.get("RepoTags") or []):
        problems.append(f"RepoTags {entry.get('RepoTags')} lack the lab overlay's image {lab_image()}")
    if config.get("architecture") != "amd64" or config.get("os") != "linux":
        problems.append(f"platform {config.get('os')}/{config.get('architecture')}")
    if problems:
        fail("; ".join(problems))
    say(f"config matches the Dockerfile: entrypoint {c['Entrypoint']}, command {c['Cmd']}, user {c['User']}, "
        f"working directory {c['WorkingDir']}, ports {' '.join(sorted(p.split('/')[0] for p in c['ExposedPorts']))}, "
        f"env {' '.join(c['Env'])}; tag {' '.join(entry['RepoTags'])} (the lab overlay's)")


def safe_path(root, name):
    rel = os.path.normpath(name.lstrip("/"))
    if rel.startswith("..") or os.path.isabs(rel):
        fail(f"layer entry {name} escapes the root")
    return os.path.join(root, rel) if rel != "." else root


def unpack(tar_path, layers, rootfs):
    """Applies the layers in order, as a container runtime does (whiteouts included, though Jib writes none)."""
    if os.path.exists(rootfs):
        shutil.rmtree(rootfs)
    os.makedirs(rootfs)
    total = 0
    with tarfile.open(tar_path) as outer:
        for name, _ in layers:
            with tarfile.open(fileobj=outer.extractfile(name), mode="r:*") as layer:
                members = []
                for m in layer.getmembers():
                    base = os.path.basename(m.name.rstrip("/"))
                    target = safe_path(rootfs, m.name)
                    if base == ".wh..wh..opq":
                        d = os.path.dirname(target)
                        for child in os.listdir(d) if os.path.isdir(d) else []:
                            p = os.path.join(d, child)
                            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
                    elif base.startswith(".wh."):
                        p = os.path.join(os.path.dirname(target), base[4:])
                        if os.path.isdir(p) and not os.path.islink(p):
                            shutil.rmtree(p)
                        elif os.path.lexists(p):
                            os.remove(p)
                    else:
                        if m.isfile():
                            total += m.size
                        if m.islnk():
                            safe_path(rootfs, m.linkname)
                        members.append(m)
                try:
                    layer.extractall(rootfs, members=members, numeric_owner=True, filter="fully_trusted")
                except TypeError:  # Python without extraction filters
                    layer.extractall(rootfs, members=members, numeric_owner=True)
    return total


# ------------------------------------------------------------------------------------------- shared libraries (ELF)

def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def check_libraries(rootfs):
    elfs = []
    for d, _, files in os.walk(rootfs):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p) and is_elf(p):
                elfs.append("/" + os.path.relpath(p, rootfs))
    # the jars' native code is unpacked at run time (to DJL_CACHE_DIR, /tmp): check it from a copy
    natives = os.path.join(rootfs, "tmp", ".natives")
    os.makedirs(natives)
    jars = 0
    for d, _, files in os.walk(os.path.join(rootfs, "opt", "arbor")):
        for f in files:
            if f.endswith(".jar"):
                with zipfile.ZipFile(os.path.join(d, f)) as z:
                    for n in z.namelist():
                        if NATIVE_IN_JAR.search(n):
                            jars += 1
                            out = os.path.join(natives, f[:-4] + "__" + os.path.basename(n))
                            with open(out, "wb") as o:
                                o.write(z.read(n))
                            elfs.append("/" + os.path.relpath(out, rootfs))
    problems, checked = [], 0
    for e in sorted(elfs):
        r = subprocess.run(["chroot", rootfs, "/lib64/ld-linux-x86-64.so.2", "--list", e],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        if "not a dynamic executable" in out or "statically linked" in out:
            continue
        checked += 1
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => not found", line)
            if m and m.group(1) not in EXPECTED_MISSING:
                problems.append(f"{e} needs {m.group(1)}")
    shutil.rmtree(natives)
    if problems:
        fail("unresolved shared libraries inside the image: " + "; ".join(problems))
    say(f"shared libraries: {checked} ELF files ({jars} of them native libraries from the jars) resolve inside the "
        f"image with its own loader (only {', '.join(sorted(EXPECTED_MISSING))} left to the launcher / NVIDIA runtime)")


# ------------------------------------------------------------------------------------ running the entrypoint inside

def container_exec(spec_path):
    """Runs inside `unshare --mount --pid --fork`: mounts what a runtime mounts, then chroot + setuid + exec."""
    spec = json.load(open(spec_path))
    root = spec["rootfs"]

    def bind(src, dst, ro, rec=False):
        if os.path.isdir(src):
            os.makedirs(dst, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "a").close()
        subprocess.run(["mount", "--rbind" if rec else "--bind", src, dst], check=True)
        if ro:
            subprocess.run(["mount", "-o", "remount,bind,ro", dst], check=True)

    bind("/dev", os.path.join(root, "dev"), False, rec=True)
    bind("/sys", os.path.join(root, "sys"), False, rec=True)
    for f in ("/etc/hosts", "/etc/resolv.conf"):
        if os.path.exists(f):
            bind(f, os.path.join(root, f.lstrip("/")), True)
    for src, dst in spec["volumes"]:
        bind(src, os.path.join(root, dst.lstrip("/")), True)
    os.chroot(root)
    os.chdir(spec["workdir"])
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


class Container:
    def __init__(self, name, rootfs, config, args, env=None, volumes=(), user=None, entrypoint=None):
        c = config["config"]
        self.name = name
        self.log_path = os.path.join(CHECK, f"{name}.log")
        uid = int((user or c.get("User") or "0").split(":")[0])
        gid = uid  # the image's /etc/passwd gives arbor (10001) group 10001
        image_env = dict(e.split("=", 1) for e in c.get("Env", []))
        home = "/root" if uid == 0 else "/opt/arbor"
        full_env = {**image_env, "HOSTNAME": name, "HOME": home, **(env or {})}
        spec = {"rootfs": rootfs, "workdir": c.get("WorkingDir") or "/", "uid": uid, "gid": gid,
                "argv": (entrypoint or c["Entrypoint"]) + list(args), "env": full_env, "volumes": list(volumes)}
        self.spec_path = os.path.join(CHECK, f"{name}.json")
        json.dump(spec, open(self.spec_path, "w"))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--kill-child", f"--mount-proc={rootfs}/proc",
             sys.executable, os.path.abspath(__file__), "--container-exec", self.spec_path],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = None

    def init_pid(self):
        """The host PID of the container's PID 1 (the JVM, which the launcher execs)."""
        if self.pid is None:
            try:
                kids = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
                self.pid = int(kids[0]) if kids else None
            except OSError:
                pass
        return self.pid

    def uid_and_command(self):
        pid = self.init_pid()
        status = open(f"/proc/{pid}/status").read()
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
        cmd = open(f"/proc/{pid}/cmdline").read().split("\0")
        return uid, cmd

    def alive(self):
        return self.proc.poll() is None

    def tail(self, n=40):
        self.log.flush()
        return "".join(open(self.log_path, errors="replace").readlines()[-n:])

    def stop(self, timeout=90):
        """SIGTERM to PID 1, as the kubelet does; returns its exit status (None if it had to be killed)."""
        if not self.alive():
            return self.proc.returncode
        pid = self.init_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as e:
        return None, str(e)


def await_ok(container, url, timeout):
    deadline = time.time() + timeout
    start = time.time()
    while time.time() < deadline:
        if not container.alive():
            fail(f"{container.name} exited with {container.proc.returncode} before {url} answered:\n"
                 + container.tail())
        status, _ = http("GET", url, timeout=5)
        if status == 200:
            return time.time() - start
        time.sleep(1)
    fail(f"{url} not 200 after {timeout} s:\n" + container.tail())


def exercise_api(base, model):
    status, body = http("GET", f"{base}/v1/models")
    if status != 200 or model not in [m["id"] for m in json.loads(body)["data"]]:
        fail(f"GET /v1/models: {status} {body[:300]}")
    say(f"  GET /v1/models → {status} {body.strip()[:160]}")
    status, body = http("POST", f"{base}/v1/chat/completions", {
        "model": model, "messages": [{"role": "user", "content": "Explain Grove in one sentence"}],
        "max_tokens": 16, "seed": 1})
    if status != 200:
        fail(f"POST /v1/chat/completions: {status} {body[:300]}")
    reply = json.loads(body)
    content = reply["choices"][0]["message"]["content"]
    usage = reply["usage"]
    if not isinstance(content, str) or usage["completion_tokens"] <= 0:
        fail(f"chat completion without content: {body[:300]}")
    say(f"  POST /v1/chat/completions → {status}, {usage['prompt_tokens']} prompt + {usage['completion_tokens']} "
        f"completion tokens, finish_reason {reply['choices'][0]['finish_reason']}, content {content[:60]!r}")
    status, body = http("POST", f"{base}/v1/completions", {
        "model": model, "prompt": "Hello", "max_tokens": 8, "stream": True, "seed": 2})
    events = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    if status != 200 or not events or events[-1] != "[DONE]":
        fail(f"streamed completion: {status} {body[:300]}")
    say(f"  POST /v1/completions (stream) → {status}, {len(events) - 1} SSE events, then [DONE]")


def scenario_serve(rootfs, config):
    port = free_port()
    say("run 1: `arbor serve` with the bundled model (no volume), as the image's user")
    c = Container("serve", rootfs, config, ["serve", "--host", "127.0.0.1", "--port", str(port)],
                  env={"ARBOR_JAVA_OPTS": "-Xmx1g", "ARBOR_KV_CACHE_MEMORY": "64 MiB"})
    try:
        took = await_ok(c, f"http://127.0.0.1:{port}/health", 300)
        uid, cmd = c.uid_and_command()
        say(f"  /health 200 after {took:.0f} s; PID 1 runs as uid {uid}: {' '.join(cmd[:6])} …")
        if uid != config["config"]["User"]:
            fail(f"PID 1 runs as uid {uid}, not the image's user {config['config']['User']}")
        for line in c.tail(200).splitlines():
            if line.startswith("arbor: "):
                say(f"  | {line}")
        exercise_api(f"http://127.0.0.1:{port}", "tiny-qwen2")
        djl = os.path.join(rootfs, "tmp", "djl")
        unpacked = [f for _, _, fs in os.walk(djl) for f in fs if f.endswith(".so")]
        if not unpacked:
            fail("the tokenizer's native library was not unpacked into DJL_CACHE_DIR=/tmp/djl")
        say(f"  the tokenizer's native code was unpacked into /tmp/djl and loaded: {', '.join(unpacked)}")
    finally:
        code = c.stop()
    say(f"  SIGTERM → exit status {code}")
    if code is None:
        fail("`arbor serve` did not exit within 90 s of SIGTERM")


def scenario_node(rootfs, config):
    etcd, nats = shutil.which("etcd"), shutil.which("nats-server")
    if not etcd or not nats:
        say("run 2 skipped: etcd and nats-server are needed (Debian etcd-server, nats-server; bin/test installs them)")
        return
    work = tempfile.mkdtemp(prefix="arbor-image-check-")
    ec, ep, np_, nm = free_port(), free_port(), free_port(), free_port()
    infra = [
        subprocess.Popen([etcd, "--name", "check", "--data-dir", f"{work}/etcd",
                          "--listen-client-urls", f"http://127.0.0.1:{ec}",
                          "--advertise-client-urls", f"http://127.0.0.1:{ec}",
                          "--listen-peer-urls", f"http://127.0.0.1:{ep}",
                          "--initial-advertise-peer-urls", f"http://127.0.0.1:{ep}",
                          "--initial-cluster", f"check=http://127.0.0.1:{ep}", "--log-level", "warn"],
                         stdout=open(f"{work}/etcd.log", "w"), stderr=subprocess.STDOUT),
        subprocess.Popen([nats, "-js", "-a", "127.0.0.1", "-p", str(np_), "-m", str(nm), "-sd", f"{work}/js"],
                         stdout=open(f"{work}/nats.log", "w"), stderr=subprocess.STDOUT),
    ]
    c = None
    try:
        for url in (f"http://127.0.0.1:{ec}/health", f"http://127.0.0.1:{nm}/healthz?js-enabled-only=true"):
            deadline = time.time() + 30
            while http("GET", url, timeout=2)[0] != 200:
                if time.time() > deadline:
                    fail(f"{url} did not come up (logs in {work})")
                time.sleep(0.5)
        port, mgmt, remoting = free_port(), free_port(), free_port()
        say("run 2: `arbor node --config /etc/arbor/application.conf` as the manifests run it "
            "(k8s/base/arbor/application.conf and models/tiny-qwen2 mounted read-only; etcd and NATS on this host)")
        # the manifests' variables (ARBOR_ROLES, ARBOR_ADVERTISE_HOST, ARBOR_JAVA_OPTS), then what differs from a
        # pod: the model (tiny instead of Qwen2.5-1.5B), CPU instead of CUDA, loopback ports free on a shared host,
        # and etcd/NATS on this host instead of their in-cluster Services
        env = {"ARBOR_ROLES": "frontend,worker", "ARBOR_ADVERTISE_HOST": "127.0.0.1", "ARBOR_JAVA_OPTS": "-Xmx1g",
               "ARBOR_MODEL": "/models/tiny-qwen2", "ARBOR_SERVED_MODEL_NAME": "tiny-qwen2", "ARBOR_DEVICE": "cpu",
               "ARBOR_KV_CACHE_MEMORY": "64 MiB", "ARBOR_HOST": "127.0.0.1", "ARBOR_PORT": str(port),
               "ARBOR_MANAGEMENT_PORT": str(mgmt), "ARBOR_REMOTING_PORT": str(remoting),
               "ARBOR_ETCD": f"http://127.0.0.1:{ec}", "ARBOR_NATS": f"nats://127.0.0.1:{np_}",
               "ARBOR_CLUSTER_NAME": f"image-check-{os.getpid()}"}
        volumes = [(os.path.join(ROOT, "k8s", "base", "arbor", "application.conf"), "/etc/arbor/application.conf"),
                   (os.path.join(ROOT, "models", "tiny-qwen2"), "/models/tiny-qwen2")]
        c = Container("node", rootfs, config, ["node", "--config", "/etc/arbor/application.conf"], env=env,
                      volumes=volumes)
        took = await_ok(c, f"http://127.0.0.1:{port}/health", 300)
        uid, _ = c.uid_and_command()
        say(f"  startup probe /health 200 after {took:.0f} s (uid {uid})")
        for line in c.tail(400).splitlines():
            if line.startswith("arbor: "):
                say(f"  | {line}")
        for path in ("/ready", "/alive"):
            status, body = http("GET", f"http://127.0.0.1:{mgmt}{path}")
            if status != 200:
                fail(f"management {path}: {status} {body[:200]}")
            say(f"  management {path} → {status}")
        exercise_api(f"http://127.0.0.1:{port}", "tiny-qwen2")
        # what the PodMonitor scrapes; the request counters appear once requests were served (a scrape tick later)
        deadline, series = time.time() + 30, set()
        while "arbor_frontend_requests_total" not in series and time.time() < deadline:
            status, body = http("GET", f"http://127.0.0.1:{mgmt}/metrics")
            series = {line.split("{")[0].split(" ")[0] for line in body.splitlines() if line.startswith("arbor_")}
            time.sleep(1)
        if status != 200 or "arbor_frontend_requests_total" not in series:
            fail(f"management /metrics: {status}, no arbor_frontend_requests_total: {body[:500]}")
        say(f"  management /metrics → {status}, {len(series)} arbor_* series (arbor_frontend_requests_total among them)")
    finally:
        code = c.stop() if c else 0
        for p in infra:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
    drained = [l for l in open(c.log_path, errors="replace") if "WorkerDrain" in l] if c else []
    say(f"  SIGTERM → exit status {code}" + (f"; {drained[-1].split(' - ', 1)[-1].strip()}" if drained else ""))
    if code is None:
        fail("`arbor node` did not exit within 90 s of SIGTERM")


def scenario_podman(tar_path, config):
    """A real OCI runtime: `podman load` the tar into a private store, `podman run` it (host network), call the API."""
    podman = shutil.which("podman")
    if not podman:
        fail("--podman needs podman (Debian podman; runc where crun cannot run, e.g. in a container)")
    store = os.path.join(CHECK, "podman")
    base = [podman, "--root", f"{store}/root", "--runroot", f"{store}/run", "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    if shutil.which("runc"):
        base += ["--runtime", "runc"]

    def pod(*args, check=True):
        r = subprocess.run(base + list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            fail(f"podman {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout.strip()

    loaded = pod("load", "-i", tar_path)
    image = loaded.split("Loaded image:")[-1].strip().splitlines()[0].strip()
    say(f"run 3: podman load -i → {image}; podman run … serve")
    # podman's default limits are higher than a container without CAP_SYS_RESOURCE (like the development machine) may
    # set: keep the open-file limit this process has, and a modest process limit (runc refused 65536 there, took 8192)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    nproc = (8192, 8192)
    port, name = free_port(), f"arbor-image-check-{os.getpid()}"
    pod("run", "-d", "--name", name, "--network", "host", "--ulimit", f"nofile={nofile[0]}:{nofile[1]}",
        "--ulimit", f"nproc={nproc[0]}:{nproc[1]}",
        "-e", "ARBOR_JAVA_OPTS=-Xmx1g", "-e", "ARBOR_KV_CACHE_MEMORY=64 MiB",
        image, "serve", "--host", "127.0.0.1", "--port", str(port))
    try:
        deadline, start = time.time() + 300, time.time()
        while http("GET", f"http://127.0.0.1:{port}/health", timeout=5)[0] != 200:
            if time.time() > deadline or pod("inspect", "--format", "{{.State.Running}}", name) != "true":
                fail("podman run: no /health 200:\n" + pod("logs", name, check=False)[-3000:])
            time.sleep(1)
        say(f"  /health 200 after {time.time() - start:.0f} s; podman top: "
            + " | ".join(pod("top", name, "user", "pid", "comm").splitlines()))
        exercise_api(f"http://127.0.0.1:{port}", "tiny-qwen2")
    finally:
        pod("stop", "-t", "60", name, check=False)
        code = pod("inspect", "--format", "{{.State.ExitCode}}", name, check=False)
        pod("rm", "-f", name, check=False)
        pod("rmi", "-a", "-f", check=False)
        shutil.rmtree(store, ignore_errors=True)
    say(f"  podman stop → exit status {code}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--container-exec":
        container_exec(sys.argv[2])
        return
    if os.geteuid() != 0:
        fail("needs root (chroot, mount, unshare)")
    args = [a for a in sys.argv[1:] if a != "--podman"]
    tar_path = os.path.abspath(args[0] if args else os.path.join(ROOT, "cluster", "target", "arbor-image.tar"))
    if not os.path.exists(tar_path):
        fail(f"{tar_path} does not exist: run tools/build_image.sh")
    os.makedirs(CHECK, exist_ok=True)
    entry, config, layers = read_image(tar_path)
    sizes = ", ".join(f"{h['comment']} {size / 2**20:.1f}" for h, (_, size) in zip(config["history"], layers))
    say(f"{tar_path}: {os.path.getsize(tar_path) / 2**20:.1f} MiB, {len(layers)} layers ({sizes} MiB compressed)")
    check_config(entry, config)
    check_digests(tar_path, config, layers)
    rootfs = os.path.join(CHECK, "rootfs")
    size = unpack(tar_path, layers, rootfs)
    say(f"unpacked the layers in order into {os.path.relpath(rootfs, ROOT)}: {size / 2**20:.0f} MiB of files")
    for d in ("proc", "dev", "sys"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    check_libraries(rootfs)
    # the JVM as the image's user: passwd entry, home, encoding (C.UTF-8 locale), the jlinked modules
    java = Container("java", rootfs, config, ["-XshowSettings:properties", "-version"], entrypoint=["/opt/java/openjdk/bin/java"])
    code = java.proc.wait(60)
    output = java.tail(1000)
    got = dict(re.findall(r"^\s+(\S+) = (.*)$", output, re.M))
    want = {"user.name": "arbor", "user.home": "/opt/arbor", "file.encoding": "UTF-8", "sun.jnu.encoding": "UTF-8",
            "java.home": "/opt/java/openjdk"}
    if code != 0 or any(got.get(k) != v for k, v in want.items()):
        fail(f"java -XshowSettings:properties as the image's user: exit {code}; "
             f"{ {k: got.get(k) for k in want} }\n{output[-2000:]}")
    say(f"java {got.get('java.runtime.version')} starts as uid 10001: "
        + ", ".join(f"{k}={v}" for k, v in want.items()))
    scenario_serve(rootfs, config)
    scenario_node(rootfs, config)
    if "--podman" in sys.argv:
        scenario_podman(tar_path, config)
    say("OK: the image runs")


if __name__ == "__main__":
    main()
