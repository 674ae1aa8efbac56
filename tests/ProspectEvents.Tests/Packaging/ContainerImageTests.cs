using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using ProspectEvents.Tests.Infrastructure;
using ProspectEvents.Tests.Readme;
using YamlDotNet.RepresentationModel;

namespace ProspectEvents.Tests.Packaging;

/// <summary>
/// The Dockerfile and compose.yaml, without a container engine: the build stage's commands run on a clean copy of what
/// it copies, and the published entry point starts with exactly the environment the image and compose give it (the
/// database pointed at the test's PostgreSQL instead of the compose service, the port at a free one).
/// </summary>
public sealed partial class ContainerImageTests
{
    private const string PublishDirectory = "/app/publish";

    [Fact]
    public void TheImageBuildsWithTheSdkAndRunsOnTheAspnetRuntimeAsANonRootUserWithDataOnAVolume()
    {
        var (build, runtime) = Dockerfile.Read(RepositoryFiles.Root());

        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build$", build.From);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", runtime.From);
        Assert.Contains(build.Runs, r => r.Contains("dotnet publish", StringComparison.Ordinal) && r.Contains("-c Release", StringComparison.Ordinal));
        var user = Assert.Single(runtime.Instructions, i => i.Name == "USER").Arguments;
        Assert.DoesNotMatch("^(root|0)$", user);
        Assert.Equal("/data", Assert.Single(runtime.Instructions, i => i.Name == "VOLUME").Arguments);
        Assert.Equal("8080", Assert.Single(runtime.Instructions, i => i.Name == "EXPOSE").Arguments);
        Assert.Equal("http://0.0.0.0:8080", runtime.Environment["ASPNETCORE_URLS"]);
        Assert.Contains("/data/", runtime.Environment["Storage__ConnectionString"]);
        Assert.Contains("/readyz", runtime.HealthCheck);
        Assert.True(File.Exists(Path.Combine(RepositoryFiles.Root(), ".dockerignore")));
    }

    [Fact]
    public void ComposeRunsTheServerOnAHealthyPostgres15ConfiguredByEnvironment()
    {
        var services = Compose.Services(RepositoryFiles.Root());
        var postgres = (YamlMappingNode)services["postgres"];
        var server = (YamlMappingNode)services["server"];

        Assert.Equal("postgres:15", postgres["image"].ToString());
        Assert.Contains("pg_isready", string.Join(' ', ((YamlSequenceNode)((YamlMappingNode)postgres["healthcheck"])["test"]).Select(n => n.ToString())));
        Assert.Equal(".", server["build"].ToString());
        Assert.Equal("service_healthy", ((YamlMappingNode)((YamlMappingNode)server["depends_on"])["postgres"])["condition"].ToString());
        var environment = Compose.Environment(server);
        Assert.Equal("postgres", environment["Storage__Provider"]);
        Assert.Equal("postgres", new NpgsqlConnectionStringBuilder(environment["Storage__ConnectionString"]).Host);
        Assert.Contains("8080:8080", string.Join(' ', ((YamlSequenceNode)server["ports"]).Select(n => n.ToString())));
    }

    [Fact]
    public async Task ThePublishedEntryPointWithComposesEnvironmentServesReadyzOnPostgresAndPassesTheHealthCheck()
    {
        var root = RepositoryFiles.Root();
        var (build, runtime) = Dockerfile.Read(root);
        var work = Path.Combine(Path.GetTempPath(), "prospect-events-image", Guid.NewGuid().ToString("N"));
        var source = Path.Combine(work, "src");
        var publish = Path.Combine(work, "publish");
        try
        {
            foreach (var (from, to) in build.Copies) await RepositoryFiles.CopyTrackedAsync(root, from, Path.Combine(source, to));
            foreach (var run in build.Runs)
            {
                var result = await ProcessRunner.RunAsync("bash", ["-c", run.Replace(PublishDirectory, publish, StringComparison.Ordinal)], TimeSpan.FromMinutes(8), source);
                Assert.True(result.Ok, result.Describe("a build stage RUN"));
            }

            var database = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync());
            var port = RepositoryFiles.FreePort();
            var environment = runtime.Environment.ToDictionary(e => e.Key, e => (string?)e.Value);
            foreach (var (name, value) in Compose.Environment((YamlMappingNode)Compose.Services(root)["server"])) environment[name] = value;
            // The compose service's database is the test's; every other option of the connection string stays.
            var connection = new NpgsqlConnectionStringBuilder(environment["Storage__ConnectionString"])
            {
                Host = database.Host, Port = database.Port, Username = database.Username, Password = database.Password, Database = database.Database,
            };
            environment["Storage__ConnectionString"] = connection.ConnectionString;
            environment["ASPNETCORE_URLS"] = environment["ASPNETCORE_URLS"]!.Replace(":8080", $":{port}", StringComparison.Ordinal);

            var start = ProcessRunner.CreateStartInfo(runtime.Entrypoint[0], runtime.Entrypoint[1..], publish, environment, redirectStandardInput: false);
            using var server = Process.Start(start)!;
            var printed = new StringBuilder();
            server.OutputDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
            server.ErrorDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            var healthCheck = runtime.HealthCheck.Replace("8080", $"{port}", StringComparison.Ordinal);
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                await RepositoryFiles.WaitForReadyAsync(client, server, printed, TimeSpan.FromMinutes(2));
                var ready = JsonDocument.Parse(await client.GetStringAsync("/readyz")).RootElement;
                Assert.Equal("ready", ready.GetProperty("status").GetString());

                await using (var data = new NpgsqlConnection(database.ConnectionString))
                {
                    await data.OpenAsync();
                    await using var query = new NpgsqlCommand("SELECT name FROM partners", data);
                    Assert.Equal("default", await query.ExecuteScalarAsync()); // the first start's partner, on PostgreSQL
                }
                lock (printed) Assert.Matches(ServerUnderTest.KeyPattern(), printed.ToString());
                var healthy = await ProcessRunner.RunAsync("sh", ["-c", healthCheck], TimeSpan.FromSeconds(10));
                Assert.True(healthy.Ok, healthy.Describe("the HEALTHCHECK"));
            }
            finally
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
            Assert.False((await ProcessRunner.RunAsync("sh", ["-c", healthCheck], TimeSpan.FromSeconds(10))).Ok, "the HEALTHCHECK passes with no server");
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } // best effort
        }
    }

    /// <summary>One stage of the Dockerfile: its instructions, line continuations joined.</summary>
    private sealed record Stage(string From, IReadOnlyList<(string Name, string Arguments)> Instructions)
    {
        public IEnumerable<string> Runs => Instructions.Where(i => i.Name == "RUN").Select(i => i.Arguments);

        /// <summary>The build context's paths each <c>COPY</c> (not <c>--from</c>) takes, and where under the working directory they go.</summary>
        public IEnumerable<(string From, string To)> Copies => Instructions.Where(i => i.Name == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i =>
            {
                var words = i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return words[..^1].Select(from => (from.TrimEnd('/'), from.EndsWith('/') ? words[^1] : Path.Combine(words[^1], Path.GetFileName(from))));
            });

        public IReadOnlyDictionary<string, string> Environment => Instructions.Where(i => i.Name == "ENV")
            .SelectMany(i => EnvPair().Matches(i.Arguments))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value);

        public string[] Entrypoint => JsonSerializer.Deserialize<string[]>(Instructions.Single(i => i.Name == "ENTRYPOINT").Arguments)!;

        /// <summary>The shell command of <c>HEALTHCHECK … CMD</c>.</summary>
        public string HealthCheck => Instructions.Single(i => i.Name == "HEALTHCHECK").Arguments.Split(" CMD ", 2)[1];
    }

    private static class Dockerfile
    {
        public static (Stage Build, Stage Runtime) Read(string root)
        {
            var text = File.ReadAllText(Path.Combine(root, "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
            var stages = new List<Stage>();
            foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var (name, arguments) = (line.Split(' ', 2)[0], Regex.Replace(line.Split(' ', 2)[1], " +", " "));
                if (name == "FROM") stages.Add(new Stage(arguments, new List<(string, string)>()));
                else ((List<(string, string)>)stages[^1].Instructions).Add((name, arguments));
            }
            Assert.Equal(2, stages.Count);
            return (stages[0], stages[1]);
        }
    }

    private static class Compose
    {
        public static YamlMappingNode Services(string root)
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(Path.Combine(root, "compose.yaml"))) yaml.Load(reader);
            return (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        }

        public static Dictionary<string, string> Environment(YamlMappingNode service) =>
            ((YamlMappingNode)service["environment"]).Children.ToDictionary(c => c.Key.ToString(), c => c.Value.ToString());
    }

    [GeneratedRegex("""([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S+))""")]
    private static partial Regex EnvPair();
}
