#!/usr/bin/env python3
"""Writes deploy/sandbox/seccomp.json: the container engine's default seccomp profile (its allow-list,
argument filters and capability conditions, as shipped in Debian's containers-common package,
/usr/share/containers/seccomp.json, Apache-2.0) with what a sandbox must never do taken out.

    deploy/sandbox/make-seccomp-profile.py [DEFAULT_PROFILE] > deploy/sandbox/seccomp.json

Denied (EPERM) whatever the capabilities: new namespaces (unshare, setns, and namespace flags on clone;
clone3 answers ENOSYS so libc falls back to clone, whose flags a filter can read), every mount call,
ptrace and reading or writing other processes' memory, the kernel keyring, bpf, perf_event_open,
io_uring, userfaultfd, kexec, module loading, quotactl, reboot and syslog.
docs/adr/0007-sandbox-threat-model.md says why; tests/Conclave.Sandbox.Tests/Isolation checks it in a
real container.
"""
import json
import sys

DENIED = [
    # namespaces
    "unshare", "setns",
    # mounts
    "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "pivot_root", "chroot",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise",
    # kernel keyring
    "keyctl", "add_key", "request_key",
    # kernel attack surface
    "bpf", "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "quotactl", "quotactl_fd", "lookup_dcookie", "fanotify_init", "open_by_handle_at",
    "reboot", "syslog", "acct", "swapon", "swapoff",
]
NAMESPACE_FLAGS = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000  # NEWNS NEWCGROUP NEWUTS NEWIPC
                   | 0x10000000 | 0x20000000 | 0x40000000)            # NEWUSER NEWPID NEWNET
EPERM, ENOSYS = 1, 38


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
    with open(source) as f:
        profile = json.load(f)
    kept = []
    for rule in profile["syscalls"]:
        names = [n for n in rule["names"] if n not in DENIED and n not in ("clone", "clone3")]
        if rule.get("action") == "SCMP_ACT_ALLOW" and not names:
            continue
        if rule.get("action") != "SCMP_ACT_ALLOW":
            names = [n for n in rule["names"] if n not in DENIED]
            if not names:
                continue
        kept.append(dict(rule, names=names))
    kept.append({
        "names": ["clone"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
        "comment": "conclave: threads and processes, never in new namespaces",
    })
    kept.append({
        "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS,
        "comment": "conclave: clone3 passes its flags in memory a filter cannot read; libc falls back to clone",
    })
    kept.append({
        "names": sorted(DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM,
        "comment": "conclave: never in a sandbox (docs/adr/0007-sandbox-threat-model.md)",
    })
    profile["syscalls"] = kept
    json.dump(profile, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
