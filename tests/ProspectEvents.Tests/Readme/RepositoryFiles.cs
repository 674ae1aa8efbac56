using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ProspectEvents.Tests.Readme;

/// <summary>The repository as a newcomer gets it: its root, clean copies of what git tracks, and a started server's readiness.</summary>
public static class RepositoryFiles
{
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ProspectEvents.slnx"))) return directory.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (ProspectEvents.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Copies what a fresh clone would hold of <paramref name="path"/> (a file or a folder of the repository): the files git
    /// tracks, plus new ones it does not ignore; a file to <paramref name="target"/>, a folder's files under it.
    /// </summary>
    public static async Task CopyTrackedAsync(string root, string path, string target)
    {
        var list = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true };
        foreach (var arg in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", path }) list.ArgumentList.Add(arg);
        using var git = Process.Start(list)!;
        var files = (await git.StandardOutput.ReadToEndAsync()).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        await git.WaitForExitAsync();
        Assert.True(git.ExitCode == 0 && files.Length > 0, $"git ls-files {path} failed or listed nothing: the test needs a git checkout");
        var folder = Directory.Exists(Path.Combine(root, path));
        foreach (var file in files.Where(f => File.Exists(Path.Combine(root, f))))
        {
            var destination = folder ? Path.Combine(target, Path.GetRelativePath(path, file)) : target;
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(Path.Combine(root, file), destination, overwrite: true);
        }
    }

    /// <summary>Waits until <c>/readyz</c> answers 200, failing with what the process printed if it exits or takes too long.</summary>
    public static async Task WaitForReadyAsync(HttpClient client, Process server, System.Text.StringBuilder printed, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            Assert.False(server.HasExited, $"The server exited with {(server.HasExited ? server.ExitCode : 0)}:\n{Text(printed)}");
            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Still building or starting.
            }
            await Task.Delay(500);
        }
        Assert.Fail($"/readyz did not answer 200 within {limit}:\n{Text(printed)}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Text(System.Text.StringBuilder printed)
    {
        lock (printed) return printed.ToString();
    }
}
