#!/usr/bin/env python3
"""Conclave kernel bridge: the one long-lived process of a sandbox container.

It keeps ONE ipykernel (variables persist between executions) and serves the Host over
its own stdin/stdout as newline-delimited JSON, because the Host attaches to the container:

  request   {"id": "..", "code": "..", "timeout_s": 60, "max_output_bytes": 65536}
  response  {"id": "..", "status": "ok|error|timeout|cancelled", "stdout": "..", "stderr": "..",
             "result": "..", "html": "..", "display": [{"mime": "image/png",
             "path": "outputs/plot-..png"}], "error": {"ename", "evalue", "traceback"},
             "truncated": false, "duration_ms": 12, "kernel_restarted": false}
  commands  {"id": "..", "op": "ping" | "reset"}, {"id": "..", "op": "interrupt", "target": "<execution id>"}

First a {"hello": true, "limits": {...}} line reports the limits the kernel enforces on this
container (cgroup files, rlimits, seccomp, the workspace's size), read before any user code runs,
so the Host can refuse a container its engine did not limit. A {"ready": true} line follows once
the kernel answers. Every text in a response (stdout, stderr, result, html, error) is bounded by
max_output_bytes with a note where it was cut; images travel as workspace paths, not inline. The bridge is PID 1 of the
container: it reaps orphans, and when the kernel must go it kills every other process in the
container at once (kill(-1)), so nothing user code started survives (fork bombs included).
Diagnostics go to stderr; stdout carries the protocol only.
"""

import base64
import ctypes
import json
import os
import queue
import re
import resource
import signal
import sys
import subprocess
import threading
import time
import uuid

import zmq
from jupyter_client import KernelManager

WORKSPACE = "/workspace"
OUTPUTS = os.path.join(WORKSPACE, "outputs")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_OUTPUT = 64 * 1024
INTERRUPT_GRACE_S = float(os.environ.get("CONCLAVE_INTERRUPT_GRACE_S", "2"))
POLL_S = 0.25
MAX_DISPLAYS = 20
PR_SET_DUMPABLE = 4
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# Keep the protocol channel private: anything else that writes to fd 1 lands on stderr.
_protocol = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
sys.stdout = sys.stderr
_write_lock = threading.Lock()
# Guards starting/stopping the kernel against the reaper: reaping a just-started kernel
# behind Popen's back would make it look dead.
PROCESS_LOCK = threading.RLock()


def send(message):
    line = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
    with _write_lock:
        _protocol.write(line)


def log(text):
    sys.stderr.write("kernel_bridge: " + text + "\n")
    sys.stderr.flush()


class BoundedText:
    """Keeps the head and the tail of a stream and counts what was dropped in between."""

    def __init__(self, limit):
        self.head_limit = max(0, limit * 3 // 4)
        self.tail_limit = max(0, limit - self.head_limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.omitted = 0

    def add(self, text):
        data = text.encode("utf-8", "replace")
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        overflow = len(self.tail) - self.tail_limit
        if overflow > 0:
            del self.tail[:overflow]
            self.omitted += overflow

    def text(self):
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if self.omitted:
            return head + "\n[output truncated: %d bytes omitted]\n" % self.omitted + tail
        return head + tail


def bounded(text, limit):
    """One value (a result, its HTML, an error) cut to limit bytes, with a note."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    cut = BoundedText(limit)
    cut.add(text)
    return cut.text()


def read_first(*paths):
    for path in paths:
        try:
            with open(path) as f:
                return {"path": path, "value": f.read(256).strip()}
        except OSError:
            continue
    return None


def cgroup_paths():
    """controller -> this process's cgroup path, from /proc/self/cgroup (v1 lines name controllers)."""
    found = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) == 3:
                    for controller in parts[1].split(","):
                        found[controller] = parts[2]
    except OSError:
        pass
    return found


def limits_report():
    """What the kernel enforces here, read from its own files before any user code runs."""
    report = {"files": {}}
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        report["cgroup"] = "v2"
        own = cgroup_paths().get("", "/").lstrip("/")
        for name in ("memory.max", "memory.swap.max", "pids.max", "cpu.max"):
            report["files"][name] = read_first(
                os.path.join("/sys/fs/cgroup", own, name), os.path.join("/sys/fs/cgroup", name))
    else:
        report["cgroup"] = "v1"
        own = cgroup_paths()
        for controller, name in (("memory", "memory.limit_in_bytes"), ("memory", "memory.memsw.limit_in_bytes"),
                                 ("pids", "pids.max"), ("cpu", "cpu.cfs_quota_us"), ("cpu", "cpu.cfs_period_us")):
            inner = own.get(controller, "/").lstrip("/")
            candidates = []
            for mount in ("/sys/fs/cgroup/" + controller, "/sys/fs/cgroup/cpu,cpuacct"):
                if inner:
                    candidates.append(os.path.join(mount, inner, name))
                candidates.append(os.path.join(mount, name))
            report["files"][name] = read_first(*candidates)
    report["rlimits"] = {name: list(resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper())))
                         for name in ("fsize", "nproc", "nofile")}
    status = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Seccomp", "NoNewPrivs", "CapEff"):
                    status[key] = value.strip()
    except OSError:
        pass
    report["status"] = status
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("SwapTotal:"):
                    report["swap_total_kb"] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        space = os.statvfs(WORKSPACE)
        report["workspace"] = {"bytes": space.f_blocks * space.f_frsize, "entries": space.f_files,
                               "noexec": bool(space.f_flag & os.ST_NOEXEC), "nosuid": bool(space.f_flag & os.ST_NOSUID),
                               "nodev": bool(space.f_flag & getattr(os, "ST_NODEV", 4))}
    except OSError as e:
        report["workspace"] = {"error": repr(e)}
    report["uid"] = os.getuid()
    return report


def not_dumpable():
    """Nothing running as our uid may trace us or open /proc/1/{mem,fd,environ}: they become root's."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log("prctl(PR_SET_DUMPABLE) failed: errno %d" % ctypes.get_errno())
    except OSError as e:
        log("prctl unavailable: %r" % e)


def kill_everything_else():
    """Kills every process in the container but this one, atomically for fork bombs."""
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:  # not PID 1 (e.g. run by hand): fall back to our own descendants
        for pid in descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    reap(block_s=3.0)


def kill_strays(kernel_pid):
    """Kills what user code left running (children, grandchildren, setsid escapees).

    Returns False when processes keep appearing (a fork bomb outran us); the caller then
    restarts the kernel, which kills everything at once.
    """
    me = os.getpid()
    with PROCESS_LOCK:
        for _ in range(20):
            strays = [pid for pid in all_pids()
                      if pid not in (me, 1, kernel_pid) and not is_zombie(pid)]
            if not strays:
                return True
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            reap(block_s=0.5, keep=kernel_pid)
        return False


def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True  # gone


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root):
    children = {}
    for pid in all_pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def reap(block_s=0.0, keep=None):
    """Collects exited children; as PID 1 we inherit every orphan of user code."""
    deadline = time.monotonic() + block_s
    while True:
        try:
            if keep is None:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            else:
                pid = reap_one_except(keep)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= deadline or not has_other_children(keep):
                return
            time.sleep(0.01)


def reap_one_except(keep):
    for pid in list_children():
        if pid == keep:
            continue
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return done
    return 0


def list_children():
    me = os.getpid()
    result = []
    for pid in all_pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                    result.append(pid)
        except (OSError, IndexError, ValueError):
            continue
    return result


def has_other_children(keep):
    return any(pid != keep for pid in list_children())


class Kernel:
    """One ipykernel, spoken to over raw zmq sockets (jupyter_client's blocking client adds an
    asyncio round per call). Used from the worker thread only: zmq sockets are not thread-safe."""

    def __init__(self):
        self.km = None
        self.pid = None
        self.session = self.shell = self.iopub = self.poller = None

    def start(self):
        with PROCESS_LOCK:
            return self._start()

    def _start(self):
        started = time.monotonic()
        env = {
            "HOME": os.environ.get("HOME", "/tmp"),
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": "/tmp/.config/matplotlib",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(
            env=env,
            cwd=WORKSPACE if os.path.isdir(WORKSPACE) else "/tmp",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=sys.stderr,
            extra_arguments=["--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"],
        )
        self.pid = self.km.provisioner.process.pid
        self.session = self.km.session
        self.shell = self.km.connect_shell()
        self.iopub = self.km.connect_iopub()
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        self.wait_ready(60)
        # The first execution of a fresh kernel pays for lazy set-up; pay it before "ready".
        self.run_silently("pass")
        return int((time.monotonic() - started) * 1000)

    def wait_ready(self, timeout_s):
        """kernel_info until both the shell answers and iopub delivers (its subscription is live)."""
        deadline = time.monotonic() + timeout_s
        shell_ok = iopub_ok = False
        while not (shell_ok and iopub_ok):
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError("kernel did not become ready")
            if not shell_ok or not iopub_ok:
                self.session.send(self.shell, "kernel_info_request", {})
            for channel, msg in self.receive(200):
                if channel == "shell" and msg["msg_type"] == "kernel_info_reply":
                    shell_ok = True
                elif channel == "iopub":
                    iopub_ok = True

    def execute(self, code, silent=False):
        msg = self.session.send(self.shell, "execute_request", {
            "code": code, "silent": silent, "store_history": not silent, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False})
        return msg["header"]["msg_id"]

    def receive(self, timeout_ms):
        """Waits up to timeout_ms for traffic, then returns every waiting (channel, message)."""
        ready = dict(self.poller.poll(timeout_ms))
        messages = []
        for socket, channel in ((self.iopub, "iopub"), (self.shell, "shell")):
            if socket not in ready:
                continue
            while True:
                try:
                    frames = socket.recv_multipart(zmq.NOBLOCK, copy=True)
                except zmq.Again:
                    break
                _, frames = self.session.feed_identities(frames)
                messages.append((channel, self.session.deserialize(frames)))
        return messages

    def run_silently(self, code):
        msg_id = self.execute(code, silent=True)
        deadline = time.monotonic() + 30
        reply = idle = False
        while not (reply and idle):
            if time.monotonic() > deadline:
                raise RuntimeError("kernel did not answer")
            for channel, msg in self.receive(100):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "shell":
                    reply = True
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True

    def alive(self):
        return self.km is not None and self.km.provisioner.process.poll() is None

    def interrupt(self):
        try:
            os.killpg(os.getpgid(self.pid), signal.SIGINT)
        except ProcessLookupError:
            pass

    def restart(self):
        """Throws the kernel away with everything user code started, then starts a fresh one."""
        self.stop()
        return self.start()

    def stop(self):
        with PROCESS_LOCK:
            self._stop()

    def _stop(self):
        for socket in (self.shell, self.iopub):
            if socket is not None:
                socket.close(linger=0)
        kill_everything_else()
        if self.km is not None:
            try:
                self.km.cleanup_resources()
            except Exception as e:
                log("cleanup_resources: %r" % e)
        self.km = self.pid = None
        self.session = self.shell = self.iopub = self.poller = None


class Execution:
    def __init__(self, request):
        self.id = request.get("id")
        self.code = request.get("code", "")
        self.timeout_s = float(request.get("timeout_s") or DEFAULT_TIMEOUT_S)
        self.max_output = int(request.get("max_output_bytes") or DEFAULT_MAX_OUTPUT)
        self.cancelled = threading.Event()


class Worker:
    def __init__(self):
        self.kernel = Kernel()
        self.jobs = queue.Queue()
        self.current = None
        self.cancelled_early = set()
        self.lock = threading.Lock()

    def run(self):
        send({"hello": True, "limits": limits_report()})
        try:
            start_ms = self.kernel.start()
        except Exception as e:
            log("kernel failed to start: %r" % e)
            send({"ready": False, "error": {"ename": "KernelStartFailed", "evalue": "kernel failed to start: %r" % e,
                                            "traceback": ""}})
            os._exit(3)
        send({"ready": True, "kernel_start_ms": start_ms, "pid": os.getpid()})
        while True:
            job = self.jobs.get()
            if job is None:
                return
            kind, request = job
            try:
                if kind == "reset":
                    ms = self.kernel.restart()
                    send({"id": request.get("id"), "status": "ok", "kernel_start_ms": ms})
                else:
                    send(self.execute(request))
            except Exception as e:  # keep serving: the Host needs an answer for every id
                log("request %s failed: %r" % (request.get("id"), e))
                send({"id": request.get("id"), "status": "error", "stdout": "", "stderr": "",
                      "error": {"ename": "BridgeError", "evalue": repr(e), "traceback": ""}})
                self.recover()

    def recover(self):
        try:
            self.kernel.restart()
        except Exception as e:
            log("kernel restart failed: %r" % e)
            os._exit(4)

    def cancel(self, target=None):
        """Cancels the running execution, or (by id) one still queued behind it."""
        with self.lock:
            if self.current is not None and target in (None, self.current.id):
                self.current.cancelled.set()
                return True
            if target is not None:
                self.cancelled_early.add(target)
        return False

    def execute(self, request):
        job = Execution(request)
        with self.lock:
            if job.id in self.cancelled_early:
                self.cancelled_early.discard(job.id)
                job.cancelled.set()
            self.current = job
        try:
            return self._execute(job)
        finally:
            with self.lock:
                self.current = None

    def _execute(self, job):
        started = time.monotonic()
        kernel = self.kernel
        stdout, stderr = BoundedText(job.max_output), BoundedText(job.max_output)
        response = {"id": job.id, "status": "ok", "result": None, "html": None, "display": [],
                    "error": None, "kernel_restarted": False}
        if job.cancelled.is_set():  # cancelled while it waited in the queue: never run it
            return self.finish(response, stdout, stderr, started, "cancelled", job=job)
        msg_id = kernel.execute(job.code)
        deadline = started + job.timeout_s
        interrupted_at = None
        stop_reason = None  # "timeout" | "cancelled"
        reply_seen = idle_seen = False
        next_check = started + POLL_S

        while not (reply_seen and idle_seen):
            now = time.monotonic()
            if stop_reason is None:
                if job.cancelled.is_set():
                    stop_reason = "cancelled"
                elif now >= deadline:
                    stop_reason = "timeout"
                if stop_reason is not None:
                    kernel.interrupt()
                    interrupted_at = now
            elif now - interrupted_at >= INTERRUPT_GRACE_S:
                kernel.restart()
                return self.finish(response, stdout, stderr, started, stop_reason,
                                   restarted=True, job=job)

            if now >= next_check:
                next_check = now + POLL_S
                if not kernel.alive():
                    kernel.restart()
                    response["status"] = "error"
                    response["kernel_restarted"] = True
                    response["error"] = {
                        "ename": "KernelDied",
                        "evalue": "the kernel died (likely out of memory); a fresh kernel was started "
                                  "and variables were lost",
                        "traceback": ""}
                    return self.finish(response, stdout, stderr, started, None, job=job)

            for channel, msg in kernel.receive(50):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "iopub":
                    idle_seen |= self.collect(msg, response, stdout, stderr, job)
                else:
                    reply_seen = True
                    content = msg["content"]
                    if content.get("status") == "error" and response["error"] is None:
                        response["error"] = self.error_of(content, job)

        if stop_reason is not None and not kill_strays(kernel.pid):
            kernel.restart()
            return self.finish(response, stdout, stderr, started, stop_reason, restarted=True, job=job)
        return self.finish(response, stdout, stderr, started, stop_reason, job=job)

    def finish(self, response, stdout, stderr, started, stop_reason, restarted=False, job=None):
        limit = job.max_output if job is not None else DEFAULT_MAX_OUTPUT
        response["stdout"] = stdout.text()
        response["stderr"] = stderr.text()
        result, html = response.get("result"), response.get("html")
        response["result"] = bounded(result, limit)
        response["html"] = bounded(html, limit)
        response["truncated"] = bool(stdout.omitted or stderr.omitted
                                     or (result is not None and len(response["result"]) < len(result))
                                     or (html is not None and len(response["html"]) < len(html)))
        response["duration_ms"] = int((time.monotonic() - started) * 1000)
        if restarted:
            response["kernel_restarted"] = True
        if stop_reason is not None:
            response["status"] = "timeout" if stop_reason == "timeout" else (
                "cancelled" if stop_reason == "cancelled" else "error")
            what = {"timeout": "execution exceeded its time limit of %gs" % job.timeout_s,
                    "cancelled": "execution was cancelled"}[stop_reason]
            note = "kernel restarted; variables were lost" if restarted else \
                "interrupted; variables were kept"
            response["error"] = {
                "ename": {"timeout": "Timeout", "cancelled": "Cancelled"}[stop_reason],
                "evalue": "%s: %s" % (what, note),
                "traceback": (response["error"] or {}).get("traceback", "")}
        elif response["error"] is not None:
            response["status"] = "error"
        return response

    @staticmethod
    def error_of(content, job):
        limit = job.max_output
        return {"ename": bounded(content.get("ename", ""), 256),
                "evalue": bounded(content.get("evalue", ""), limit),
                "traceback": bounded(clean(content.get("traceback", [])), limit)}

    def collect(self, msg, response, stdout, stderr, job=None):
        """Takes one iopub message of the running execution; True when the kernel went idle."""
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            (stdout if content.get("name") == "stdout" else stderr).add(content.get("text", ""))
        elif kind == "execute_result":
            data = content.get("data", {})
            response["result"] = data.get("text/plain")
            if "text/html" in data:
                response["html"] = data["text/html"]
            self.add_display(data, response)
        elif kind == "display_data":
            data = content.get("data", {})
            if "text/html" in data and "image/png" not in data:
                response["html"] = data["text/html"]
            self.add_display(data, response)
        elif kind == "error":
            response["error"] = self.error_of(content, job)
        elif kind == "status":
            return content.get("execution_state") == "idle"
        return False

    def add_display(self, data, response):
        if len(response["display"]) >= MAX_DISPLAYS:
            return
        if "image/png" in data:
            path = save_image(base64.b64decode(data["image/png"]), "png")
        elif "image/svg+xml" in data:
            svg = data["image/svg+xml"]
            path = save_image((svg if isinstance(svg, str) else "".join(svg)).encode("utf-8"), "svg")
        else:
            return
        if path is not None:
            response["display"].append({"mime": "image/png" if path.endswith(".png") else "image/svg+xml", "path": path})


def save_image(data, extension):
    """Images are files in the workspace (the Host shows them from there): only their path travels."""
    try:
        os.makedirs(OUTPUTS, exist_ok=True)
        name = "plot-%s-%s.%s" % (time.strftime("%Y%m%d-%H%M%S"), uuid.uuid4().hex[:8], extension)
        with open(os.path.join(OUTPUTS, name), "wb") as f:
            f.write(data)
        return "outputs/" + name
    except (OSError, ValueError) as e:  # the workspace is full, or code replaced outputs/ with a file
        log("could not save image: %r" % e)
        return None


def clean(traceback):
    return ANSI.sub("", "\n".join(traceback))


def reaper():
    while True:
        time.sleep(1.0)
        try:
            with PROCESS_LOCK:
                if worker.kernel.pid is not None:
                    reap(keep=worker.kernel.pid)
        except Exception as e:
            log("reaper: %r" % e)


def main():
    not_dumpable()
    os.umask(0)  # files stay removable by the Host whatever uid it runs as
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runner = threading.Thread(target=worker.run, name="worker", daemon=True)
    runner.start()
    threading.Thread(target=reaper, name="reaper", daemon=True).start()
    for raw in sys.stdin.buffer:
        line = raw.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError:
            send({"id": None, "status": "error", "error": {"ename": "BadRequest", "evalue": "not JSON",
                                                          "traceback": ""}})
            continue
        op = request.get("op", "execute")
        if op == "ping":
            send({"id": request.get("id"), "status": "ok", "pong": True})
        elif op == "interrupt":
            send({"id": request.get("id"), "status": "ok", "interrupted": worker.cancel(request.get("target"))})
        elif op == "reset":
            worker.cancel()
            worker.jobs.put(("reset", request))
        elif op == "execute":
            worker.jobs.put(("execute", request))
        else:
            send({"id": request.get("id"), "status": "error",
                  "error": {"ename": "BadRequest", "evalue": "unknown op %r" % op, "traceback": ""}})
    # The Host detached (it stopped or died): finish what was asked (each job is bounded by its
    # timeout), then end; the container has no reason to live on.
    worker.jobs.put(None)
    runner.join()
    os._exit(0)


worker = Worker()

if __name__ == "__main__":
    main()
