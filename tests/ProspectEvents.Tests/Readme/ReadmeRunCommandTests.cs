using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Readme;

/// <summary>A newcomer's first five minutes: the README's run command, from a clean copy of the repository.</summary>
public sealed class ReadmeRunCommandTests
{
    private const string RunCommand = "dotnet run --project src/ProspectEvents.Server";

    [Fact]
    public async Task TheReadmeRunCommandFromACleanCopyServesReadyzAndTheSeedExampleWithThePrintedKey()
    {
        var root = RepositoryRoot();
        Assert.Contains(RunCommand, await File.ReadAllTextAsync(Path.Combine(root, "README.md")));
        var clone = Path.Combine(Path.GetTempPath(), "prospect-events-readme", Guid.NewGuid().ToString("N"));
        await CopyTrackedFilesAsync(root, clone);
        var port = FreePort();

        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = clone, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var word in RunCommand.Split(' ')[1..]) start.ArgumentList.Add(word);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}"; // the README's way to pick another port
        using var server = Process.Start(start)!;
        var printed = new System.Text.StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForReadyAsync(client, server, printed, TimeSpan.FromMinutes(4));
            string key;
            lock (printed) key = ServerUnderTest.KeyPattern().Match(printed.ToString()).Value;
            Assert.False(string.IsNullOrEmpty(key), $"The first start printed no admin key:\n{printed}");

            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/prospects/events/enrollments") { Content = Body(Seed.EnrollmentExample) };
            request.Headers.Add("API_KEY", key);
            var body = await (await client.SendAsync(request)).ExpectAsync(200);

            Assert.Equal("tech_executives_monitor", body.GetProperty("enrollment_key").GetString());
            Assert.True(File.Exists(Path.Combine(clone, "data", "prospect-events.db")), "The database is not at data/prospect-events.db");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            try { Directory.Delete(clone, recursive: true); } catch (IOException) { } // best effort
        }
    }


    private static async Task WaitForReadyAsync(HttpClient client, Process server, System.Text.StringBuilder printed, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            Assert.False(server.HasExited, $"The run command exited with {(server.HasExited ? server.ExitCode : 0)}:\n{printed}");
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
        Assert.Fail($"/readyz did not answer 200 within {limit}:\n{printed}");
    }

    /// <summary>What a fresh clone would hold: the files git tracks, plus new ones it does not ignore.</summary>
    private static async Task CopyTrackedFilesAsync(string root, string target)
    {
        var list = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true };
        foreach (var arg in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" }) list.ArgumentList.Add(arg);
        using var git = Process.Start(list)!;
        var files = (await git.StandardOutput.ReadToEndAsync()).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        await git.WaitForExitAsync();
        Assert.True(git.ExitCode == 0 && files.Length > 0, "git ls-files failed: the test needs a git checkout");
        foreach (var file in files.Where(f => File.Exists(Path.Combine(root, f))))
        {
            var destination = Path.Combine(target, file);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(Path.Combine(root, file), destination);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ProspectEvents.slnx"))) return directory.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (ProspectEvents.slnx) above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
