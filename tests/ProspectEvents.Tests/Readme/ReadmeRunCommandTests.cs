using System.Diagnostics;
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
        var root = RepositoryFiles.Root();
        Assert.Contains(RunCommand, await File.ReadAllTextAsync(Path.Combine(root, "README.md")));
        var clone = Path.Combine(Path.GetTempPath(), "prospect-events-readme", Guid.NewGuid().ToString("N"));
        await RepositoryFiles.CopyTrackedAsync(root, ".", clone);
        var port = RepositoryFiles.FreePort();

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
            await RepositoryFiles.WaitForReadyAsync(client, server, printed, TimeSpan.FromMinutes(4));
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
}
