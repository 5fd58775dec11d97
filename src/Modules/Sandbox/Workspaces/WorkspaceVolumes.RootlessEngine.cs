using Conclave.Sandbox.Workspaces.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// A rootless engine binds /workspace as its own user and runs the sandbox as a subordinate uid of that
/// user: neither can pass the 0700 workspace root nor write a volume root that belongs to the workspace's
/// uid. For such an engine the workspace root and mounts/ are opened for passing through (to the group of
/// the engine's socket when there is one, else to everyone), volumes/ and sessions/ are closed, and each
/// volume root becomes writable by all.
/// </summary>
internal sealed partial class WorkspaceVolumes
{
    private const int Traverse = 0b111_001_001;          // 0711
    private const int TraverseByGroup = 0b111_001_000;   // 0710
    private const int OwnerOnly = 0b111_000_000;         // 0700
    private const int WritableByAll = 0b111_111_111;     // 0777

    private readonly Lock _rootlessEngineGate = new();
    private bool _openedToRootlessEngine;

    public void OpenToRootlessEngine(WorkspaceVolume volume, string dockerEndpoint)
    {
        lock (_rootlessEngineGate)
        {
            if (!_openedToRootlessEngine)
            {
                OpenRootToRootlessEngine(dockerEndpoint);
                _openedToRootlessEngine = true;
            }
        }
        using var root = LinuxFiles.Open(volume.MountPath, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow);
        LinuxFiles.ChangeMode(root, WritableByAll);
    }

    private void OpenRootToRootlessEngine(string dockerEndpoint)
    {
        LinuxFiles.SetMode(VolumesRoot, OwnerOnly);
        LinuxFiles.SetMode(SessionsRoot, OwnerOnly);
        var engineGroup = SocketGroup(dockerEndpoint);
        foreach (var folder in new[] { Root, MountsRoot })
        {
            using var handle = LinuxFiles.Open(folder, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow);
            if (engineGroup is { } gid && TryGiveToGroup(handle, gid))
            {
                LinuxFiles.ChangeMode(handle, TraverseByGroup);
            }
            else
            {
                engineGroup = null;
                LinuxFiles.ChangeMode(handle, Traverse);
            }
        }
        OpenedToRootlessEngine(_logger, Root, engineGroup is { } group ? $"the engine's group only (gid {group}, the group of its socket)" : "every local user");
    }

    /// <summary>A Host that is not root may only give its folders to its own groups.</summary>
    private static bool TryGiveToGroup(SafeFileHandle folder, int gid)
    {
        try
        {
            LinuxFiles.ChangeOwner(folder, -1, gid);
            return true;
        }
        catch (FileSystemCallException)
        {
            return false;
        }
    }

    /// <summary>The group of a unix socket's file: the rootless engine's user created it. Null for any other endpoint.</summary>
    private static int? SocketGroup(string dockerEndpoint)
    {
        if (!Uri.TryCreate(dockerEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != "unix")
        {
            return null;
        }
        try
        {
            using var socket = LinuxFiles.Open(endpoint.LocalPath, LinuxFiles.OPath);
            return LinuxFiles.Stat(socket).Gid;
        }
        catch (FileSystemCallException)
        {
            return null;
        }
    }

    [LoggerMessage(1, LogLevel.Warning,
        "The container engine runs rootless: the workspace root {WorkspaceRoot} and its mounts/ folder can now be passed through by {Whom}, " +
        "and each workspace's root is writable by all, so that the engine can bind it and its sandboxes can write there")]
    private static partial void OpenedToRootlessEngine(ILogger logger, string workspaceRoot, string whom);
}
